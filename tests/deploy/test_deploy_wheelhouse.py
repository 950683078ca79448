"""An offline install takes exactly the wheels the wheelhouse's lock pins by sha256.

Runs the deploy functions install.sh and wheelhouse.sh use (deploy/lib.sh: lock_wheelhouse,
install_wheelhouse) against a small wheelhouse built here, into real virtualenvs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.deploy.deploy_support import DEPLOY


def _lib(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", f'set -euo pipefail; . "{DEPLOY}/lib.sh"; {command}'], capture_output=True,
                          text=True, cwd=str(cwd), timeout=300)


def _wheel(tmp_path: Path, greeting: str, out: Path) -> Path:
    """A one-module wheel, tumaini_probe 1.0, whose hello() returns ``greeting``."""
    project = tmp_path / f"probe-{abs(hash(greeting))}"
    (project / "tumaini_probe").mkdir(parents=True)
    (project / "tumaini_probe" / "__init__.py").write_text(f"def hello():\n    return {greeting!r}\n")
    (project / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\n'
                                            'build-backend = "setuptools.build_meta"\n'
                                            '[project]\nname = "tumaini-probe"\nversion = "1.0"\n')
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(project)], check=True, capture_output=True)
    [wheel] = out.glob("tumaini_probe-1.0-*.whl")
    return wheel


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    return path


def test_the_wheelhouse_installs_only_the_wheels_its_lock_pins(tmp_path):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    wheel = _wheel(tmp_path, "the real one", house)
    locked = _lib(f'lock_wheelhouse "{house}"', tmp_path)
    assert locked.returncode == 0, locked.stderr
    lock = (house / "requirements.lock").read_text()
    assert "tumaini-probe==1.0 --hash=sha256:" in lock

    good = _venv(tmp_path / "good")
    installed = _lib(f'install_wheelhouse "{good}" "{house}"', tmp_path)
    assert installed.returncode == 0, installed.stderr
    said = subprocess.run([str(good / "bin" / "python"), "-c", "import tumaini_probe; print(tumaini_probe.hello())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert said == "the real one"

    # A wheel swapped on the way (same name and version, other code) is refused.
    swapped_dir = tmp_path / "swapped"
    swapped = _wheel(tmp_path, "planted code", swapped_dir)
    wheel.write_bytes(swapped.read_bytes())
    bad = _venv(tmp_path / "bad")
    refused = _lib(f'install_wheelhouse "{bad}" "{house}"', tmp_path)
    assert refused.returncode != 0 and "does not match its requirements.lock" in refused.stderr
    probe = subprocess.run([str(bad / "bin" / "python"), "-c", "import tumaini_probe"], capture_output=True)
    assert probe.returncode != 0, "nothing from the swapped wheel was installed"


def test_a_lock_changed_on_the_way_is_refused_against_the_printed_sha256(tmp_path):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    _wheel(tmp_path, "the real one", house)
    assert _lib(f'lock_wheelhouse "{house}"', tmp_path).returncode == 0
    import hashlib

    printed = hashlib.sha256((house / "requirements.lock").read_bytes()).hexdigest()
    (house / "requirements.lock").write_text((house / "requirements.lock").read_text() + "# changed\n")
    refused = _lib(f'install_wheelhouse "{_venv(tmp_path / "v")}" "{house}" "{printed}"', tmp_path)
    assert refused.returncode != 0 and "refusing this wheelhouse" in refused.stderr


def test_a_wheelhouse_without_a_lock_is_refused(tmp_path):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    _wheel(tmp_path, "the real one", house)
    refused = _lib(f'install_wheelhouse "{_venv(tmp_path / "v")}" "{house}"', tmp_path)
    assert refused.returncode != 0 and "no requirements.lock" in refused.stderr
