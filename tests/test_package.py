"""Package-level promises: light import, the README's commands, the demo."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_does_not_load_heavy_dependencies():
    # torch, skorch and POT take seconds to import; the package promises to load
    # them only in the functions that need them.
    code = (
        "import sys, skfairal, skfairal.metrics, skfairal.datasets, skfairal.utils\n"
        "print(sorted(m for m in ('torch', 'skorch', 'ot', 'matplotlib') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_lazy_submodules():
    import skfairal

    assert "metrics" in dir(skfairal)
    assert skfairal.metrics.demographic_parity_difference is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skfairal.nope  # noqa: B018


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    # The commands come before any other section of the README.
    assert readme.index("```bash") < readme.index("## What it is")
    assert _readme_commands() == ["python3 dev.py demo", "python3 dev.py test"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [ln.strip() for ln in ci if ln.strip() and not ln.startswith("#")]
    assert commands[-1] == _readme_commands()[1]


def test_constraints_pin_the_cpu_torch_and_pyproject_keeps_a_lower_bound():
    constraints = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", constraints, re.M)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"torch>=[\d.]+"', pyproject)
    assert "torch==" not in pyproject


def test_demo_prints_tables_and_writes_a_figure(tmp_path, capsys):
    from skfairal._demo import main

    assert main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    figure = tmp_path / "fairness_report.png"
    assert figure.stat().st_size > 10_000
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The per-group tables name every group of both datasets.
    for group in ("Female", "Male", "White", "Black", "AFR", "EUR", "EAS"):
        assert group in out
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert 0.8 < accuracy < 0.9  # logistic regression on Adult: about 0.85
    ancestry = float(re.search(r"cross-validated accuracy (\d\.\d+)", out).group(1))
    assert ancestry > 0.9  # super-populations separate well on genotype PCs
