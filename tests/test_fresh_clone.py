"""What a fresh clone meets first: the Makefile's setup checks, and tests that clean up after themselves."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiers import ci_only

ROOT = Path(__file__).resolve().parents[1]
SETUP_INPUTS = ("Makefile", "requirements.lock", "pyproject.toml", "package.json", "package-lock.json")


def _checkout(tmp_path: Path) -> Path:
    """The files `make setup` depends on, in a scratch folder (nothing is installed there)."""
    folder = tmp_path / "clone"
    folder.mkdir()
    for name in SETUP_INPUTS:
        shutil.copy(ROOT / name, folder / name)
    return folder


def _python(path: Path, version: str, *, venv_makes_old: bool = False) -> Path:
    """A stand-in interpreter: answers the version check as ``version`` and makes a venv whose python is old."""
    new_enough = tuple(map(int, version.split("."))) >= (3, 11)
    path.write_text(f"""#!/bin/sh
case "$1" in
  --version) echo "Python {version}" ;;
  -c) exit {0 if new_enough else 1} ;;
  -m) mkdir -p "$3/bin"; printf '#!/bin/sh\\n[ "$1" = --version ] && echo "Python 3.9.18"; exit 1\\n' > "$3/bin/python"
      chmod +x "$3/bin/python"; touch "$3/made-by-{version}"; exit 1 ;;
esac
""")
    path.chmod(0o755)
    return path


def _make(folder: Path, python: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "setup", f"PYTHON={python}"], cwd=folder, capture_output=True, text=True,
                          check=False, timeout=60)


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_an_old_python_is_refused_up_front(tmp_path: Path) -> None:
    folder = _checkout(tmp_path)
    done = _make(folder, _python(tmp_path / "python3.9", "3.9.18"))
    assert done.returncode != 0
    assert "needs Python >= 3.11; " in done.stdout and "Python 3.9.18" in done.stdout
    assert not (folder / ".venv").exists(), "nothing is created with the wrong interpreter"


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_a_venv_made_by_an_old_python_is_rebuilt(tmp_path: Path) -> None:
    folder = _checkout(tmp_path)
    old_venv = folder / ".venv" / "bin"
    old_venv.mkdir(parents=True)
    (old_venv / "python").write_text('#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.9.18"; exit 0; }; exit 1\n')
    (old_venv / "python").chmod(0o755)
    (folder / ".venv" / "left-by-3.9").touch()

    done = _make(folder, _python(tmp_path / "python3.12", "3.12.4"))

    assert "was made with another interpreter (Python 3.9.18): rebuilding it" in done.stdout
    assert not (folder / ".venv" / "left-by-3.9").exists()
    assert (folder / ".venv" / "made-by-3.12.4").exists()


def test_make_bench_fails_when_a_target_is_missed() -> None:
    """bench.run exits 1 on a missed goal unless --no-strict; `make bench` must not pass that."""
    dry = subprocess.run(["make", "-n", "bench"], cwd=ROOT, capture_output=True, text=True, check=False)
    line = next(x for x in dry.stdout.splitlines() if "bench.run" in x)
    assert "--no-strict" not in line.split()
    help_text = subprocess.run([sys.executable, "-m", "bench.run", "--help"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    assert "--no-strict" in help_text


def test_the_fuzz_seed_folder_is_removed_when_the_process_ends() -> None:
    done = subprocess.run([sys.executable, "-c", "import tests.test_fuzz as f; print(f._TEMPLATE_DIR)"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    folder = Path(done.stdout.strip().splitlines()[-1])
    assert folder.name.startswith("fuzz-seed-") and not folder.exists()


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
@ci_only("the replay of setup's pip fallback")
def test_setup_falls_back_to_pip_when_uv_cannot_install(tmp_path: Path) -> None:
    """uv reads no pip.conf: behind a mirror only pip knows, uv fails and pip must install the lock."""
    folder = tmp_path / "clone"
    folder.mkdir()
    shutil.copy(ROOT / "Makefile", folder / "Makefile")
    uv_pin = next(line for line in (ROOT / "requirements.lock").read_text().splitlines() if line.startswith("uv=="))
    (folder / "requirements.lock").write_text(f"{uv_pin}\nsix==1.16.0\n")
    (folder / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools>=68"]\n'
                                           'build-backend = "setuptools.build_meta"\n'
                                           '[project]\nname = "scratch"\nversion = "0"\n'
                                           '[tool.setuptools]\npy-modules = []\n')
    (folder / "package.json").write_text("{}")
    (folder / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"": {}}}')
    done = subprocess.run(["make", "setup", f"PYTHON={sys.executable}", "UV_INSTALL=false"], cwd=folder,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "==> uv could not install from PyPI; installing with pip instead" in done.stdout
    venv_python = folder / ".venv" / "bin" / "python"
    assert subprocess.run([str(venv_python), "-c", "import six"], check=False).returncode == 0
