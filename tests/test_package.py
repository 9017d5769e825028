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
        "import skfairal.query, skfairal.representation, skfairal.policies\n"
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
    # Every subpackage is reachable as an attribute, without its own import.
    for name in ("active", "datasets", "metrics", "neural", "policies", "query",
                 "representation", "utils"):  # fmt: skip
        assert name in dir(skfairal)
        assert getattr(skfairal, name).__name__ == f"skfairal.{name}"
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


def test_demo_prints_a_table_and_writes_a_plot(tmp_path, capsys):
    from skfairal._demo import main

    args = ["--out", str(tmp_path), "--seeds", "1", "--budget", "40"]
    assert main([*args, "--batch-size", "20", "--no-progress"]) == 0
    out = capsys.readouterr().out
    figure = tmp_path / "active_learning_adult.png"
    assert figure.stat().st_size > 10_000
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (tmp_path / "results.md").read_text()
    assert table.strip() in out
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    strategies = ("random", "entropy", "group_aware_random", "fal", "falcon")
    assert set(rows) == {*strategies, "entropy + fairlearn EG (DP)", "all labels"}
    # 50 seed rows plus 40 bought labels; every metric cell is a number.
    for strategy in (*strategies, "entropy + fairlearn EG (DP)"):
        cells = [c.strip() for c in rows[strategy].split("|")[2:-1]]
        assert cells[0] == "90"
        f1 = float(cells[1].split()[0])
        assert 0.2 < f1 < 0.8
    full_f1 = float(rows["all labels"].split("|")[3])
    assert 0.6 < full_f1 < 0.7  # logistic regression on all of Adult: about 0.66


def test_readme_example_runs(capsys):
    readme = (ROOT / "README.md").read_text()
    loop, dataframe = re.findall(r"```python\n(.*?)```", readme, re.S)
    exec(compile(loop, "README.md", "exec"), {})
    disparity = float(capsys.readouterr().out.strip())
    assert 0.0 <= disparity <= 1.0
    # The DataFrame workflow: its on_round prints "round n_labeled" lines.
    exec(compile(dataframe, "README.md", "exec"), {})
    rounds = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rounds == [[str(r), str(50 + 20 * r)] for r in range(11)]
