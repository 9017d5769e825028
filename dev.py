#!/usr/bin/env python3
"""Set up a virtual environment when needed, then run the demo, tests or docs.

    python3 dev.py demo    # the main job: fair active learning on real data
    python3 dev.py test    # lint, format check and the test suite
    python3 dev.py docs    # the documentation site, in doc/_build/html

Needs nothing but Python >= 3.11. The environment lives in ``.venv`` and is
rebuilt whenever pyproject.toml, setup.cfg or constraints.txt change.
Extra arguments go to the demo (``--help`` lists them), to pytest or to
sphinx-build. ``docs`` builds offline with warnings as errors and every
cross-reference resolved (``-W --keep-going -n``), running the example
gallery; it takes a few minutes on 2 cores.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".skfairal-install"
INSTALL_INPUTS = ("pyproject.toml", "setup.cfg", "constraints.txt")
EXTRAS = "test,bench,docs"
# Installed for the tests only, without dependencies: modAL-python pins
# skorch==0.9.0, which would replace the working skorch (tests/test_modal.py).
TEST_ONLY_NO_DEPS = ("modAL-python==0.4.2.1",)
# Warnings are errors, every cross-reference must resolve (nitpicky), and the
# whole report comes before the build fails.
SPHINX_ARGS = ("-W", "--keep-going", "-n", "-b", "html", "doc", "doc/_build/html")


def _python() -> Path:
    return VENV / "bin" / "python"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update((ROOT / name).read_bytes())
    digest.update(EXTRAS.encode())
    digest.update(" ".join(TEST_ONLY_NO_DEPS).encode())
    return digest.hexdigest()


def _run(*cmd, **kwargs) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False, **kwargs)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_environment() -> None:
    """Create .venv and install skfairal (editable) unless it is up to date.

    Then add the test-only packages of ``TEST_ONLY_NO_DEPS``, without their
    dependencies.
    """
    fingerprint = _fingerprint()
    if _python().exists() and STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    if not _python().exists():
        print(f"[dev] creating virtual environment in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    print(
        f"[dev] installing skfairal[{EXTRAS}] with constraints.txt "
        "(first run: a few minutes)",
        flush=True,
    )
    pip = (_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    _run(*pip, "-c", "constraints.txt", "-e", f".[{EXTRAS}]")
    _run(*pip, "--no-deps", *TEST_ONLY_NO_DEPS)
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may run on an older python3)
        sys.exit(f"skfairal needs Python >= 3.11; this is {sys.version.split()[0]}.")
    if not argv or argv[0] not in {"demo", "test", "docs"}:
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    ensure_environment()
    # One thread per process: the tests run in 2 processes on 2 cores, and torch
    # with 2 threads each is tens of times slower on tiny nets.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if command in {"test", "docs"}:
        env.setdefault("OMP_NUM_THREADS", "1")
    if command == "docs":
        env.setdefault("MPLBACKEND", "Agg")
    py = _python()
    if command == "demo":
        _run(py, "-m", "skfairal", "demo", *rest, env=env)
        return
    if command == "docs":
        _run(py, "-m", "sphinx", *SPHINX_ARGS, *rest, env=env)
        print(f"[dev] documentation in {ROOT / 'doc' / '_build' / 'html'}")
        return
    _run(py, "-m", "ruff", "check", ".", env=env)
    _run(py, "-m", "ruff", "format", "--check", ".", env=env)
    _run(py, "-m", "pytest", "-m", "not slow", "-n", "2", *rest, env=env)


if __name__ == "__main__":
    main(sys.argv[1:])
