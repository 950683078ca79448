"""Helpers for the deploy tests: run the shell scripts, find system tools."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def require_tool(name: str) -> str:
    """The path of a system tool, or a clean skip (a failure under CI, which installs it)."""
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)),
                                      None)
    if path is None:
        service_missing(f"needs {name} (apt-get install {name})")
    return path  # type: ignore[return-value]


def run_script(script: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run deploy/<script> with bash; the caller checks the return code and output."""
    merged = dict(os.environ)
    merged.update(env or {})
    return subprocess.run(["bash", str(DEPLOY / script), *args], capture_output=True, text=True, env=merged,
                          timeout=timeout, cwd=str(ROOT))


def os_release(tmp_path: Path, os_id: str, version: str) -> Path:
    """An /etc/os-release for install.sh --os-release."""
    path = tmp_path / f"os-release-{os_id}-{version}"
    path.write_text(f'PRETTY_NAME="{os_id} {version}"\nID={os_id}\nVERSION_ID="{version}"\n')
    return path


def self_signed_certificate(directory: Path, name: str = "tumaini.example.org") -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    f"/CN={name}", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def render_nginx(tmp_path: Path, cert: Path, key: Path, *args: str) -> Path:
    """Render deploy/nginx/tumaini.conf through install.sh; logs go to tmp_path/logs."""
    root = tmp_path / "root"
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    result = run_script("install.sh", "--root", str(root), "--os-release", str(os_release(tmp_path, "ubuntu", "24.04")),
                        "--only", "nginx", "--cert", str(cert), "--key", str(key), *args,
                        env={"TUMAINI_NGINX_LOG_DIR": str(logs)})
    assert result.returncode == 0, result.stderr
    return root / "etc" / "nginx" / "sites-available" / "tumaini.conf"


def nginx_wrapper(tmp_path: Path, site: Path) -> Path:
    """A minimal nginx.conf that includes the rendered site inside http {}, as Debian's does."""
    conf = tmp_path / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{}}
http {{
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    include {site};
}}
""")
    return conf


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll url until it answers (any HTTP status); fail early if the process died."""
    import ssl
    import time
    import urllib.error
    import urllib.request

    context = ssl._create_unverified_context()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{process.args[:4]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


def start_gunicorn(env: dict[str, str], port: int, workers: int = 1, threads: int = 4,
                   log: Path | None = None) -> subprocess.Popen:
    """gunicorn serving bot:create_app() as the Procfile runs it, on a loopback port."""
    import sys

    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (owned by the process)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads",
         str(threads), "--worker-class", "gthread", "--log-level", "warning", "bot:create_app()"],
        env=env, cwd=str(ROOT), stdout=out, stderr=out)


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM (graceful), then SIGKILL if it will not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
