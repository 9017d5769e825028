"""Every example of the gallery (``examples/plot_*.py``) runs to the end.

Each runs as a script in its own interpreter, as a reader (or sphinx-gallery)
would run it: a fresh process, the working directory a temporary folder (so an
example that writes files leaves nothing behind and cannot rely on the
repository's layout), matplotlib's non-interactive Agg backend and one
OpenMP thread. New examples are picked up by the glob.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))
# Examples too slow for the default run (each is meant to take a few seconds;
# list one here, by file stem, only with a reason).
SLOW: set[str] = set()

# Warnings: pytest's filterwarnings = error does not reach a subprocess, so the
# interpreter gets the same policy on its command line: -W error turns every
# warning into an exception, whoever raises it (skfairal, scikit-learn, torch,
# skorch, matplotlib). An example is code a reader copies; a warning in it is
# a deprecation the reader would inherit or a misuse of the package, so it is
# a failure, as in the rest of the suite. Narrower filters (only warnings from
# skfairal) would let through the warnings scikit-learn emits on skfairal's
# behalf, which point at scikit-learn's frames, not ours.
WARNINGS = ["-W", "error"]


def _params():
    return [
        pytest.param(
            path,
            id=path.stem,
            marks=[pytest.mark.slow] if path.stem in SLOW else [],
        )
        for path in EXAMPLES
    ]


def test_examples_are_found():
    # An empty glob would parametrize nothing and pass silently.
    assert len(EXAMPLES) >= 5, EXAMPLES


@pytest.mark.parametrize("path", _params())
def test_example_runs(path, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    # plt.show() under Agg warns when a display is set (a warning is an error
    # here); headless, it returns quietly, as in CI.
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    # The command line decides the warning policy, not the caller's environment.
    env.pop("PYTHONWARNINGS", None)
    result = subprocess.run(
        [sys.executable, *WARNINGS, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, output
    assert "Traceback" not in result.stderr, output
    assert result.stdout.strip(), f"{path.name} printed nothing\n{output}"
