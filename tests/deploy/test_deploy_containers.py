"""deploy/compose.yaml and deploy/Dockerfile, checked without a Docker engine.

There is no Docker engine where the tests run, so the image is never built
here; these tests catch what breaks silently instead: a package the app
imports but the image does not copy, a process of the Procfile missing from
the compose file, or settings the service needs left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from tests.deploy.deploy_support import DEPLOY, ROOT

APP_PACKAGES = ("bot", "workers")


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _imported_top_level(package: Path) -> set[str]:
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_the_image_holds_every_project_package_the_service_imports():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, flags=re.M))
    ours = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in {"tests", "bench"}}
    needed = {"bot", "workers"}
    for package in APP_PACKAGES:
        needed |= _imported_top_level(ROOT / package) & ours
    needed |= {name for package in needed for name in _imported_top_level(ROOT / package) & ours}
    assert needed <= copied, f"the image misses {sorted(needed - copied)}"
    assert "COPY requirements.txt" in dockerfile and "pip install -r requirements.txt" in dockerfile
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignored and "instance" in ignored, "the build context must not carry the venv or live data"


def test_compose_runs_each_procfile_process_on_shared_services():
    compose = _compose()
    services = compose["services"]
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert " ".join(services["release"]["command"]) == procfile["release"]
    assert " ".join(services["worker"]["command"]) == procfile["worker"]
    assert "bot:create_app()" in (DEPLOY / "Dockerfile").read_text() and "bot:create_app()" in procfile["web"]
    for role in ("release", "web", "worker"):
        env = services[role]["environment"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert "@postgres:5432/tumaini" in env["DATABASE_URL"]
        assert services[role]["env_file"] == "./tumaini.env"
    for role in ("web", "worker"):
        assert services[role]["depends_on"]["release"]["condition"] == "service_completed_successfully"
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and "--maxmemory-policy noeviction" in redis
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"], "plain HTTP must stay on the host"
