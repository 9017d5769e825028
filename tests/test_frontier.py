"""The frontier benchmark's rules (collapse, dominance, recommendation) and,
marked slow, its quick run end to end."""

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
frontier_report = pytest.importorskip("frontier_report")


def _row(accuracy, dp, eo, rate, seconds=1.0):
    return {
        "accuracy": (accuracy, 0.01),
        "DP": (dp, 0.01),
        "EO": (eo, 0.01),
        "positive rate": (rate, 0.0),
        "seconds": (seconds, 0.0),
    }


def test_collapse_flags_one_class_models_both_ways():
    assert not frontier_report.collapsed(_row(0.8, 0.1, 0.1, 0.3), 0.3)
    assert frontier_report.collapsed(_row(0.7, 0.0, 0.0, 0.1), 0.3)
    assert frontier_report.collapsed(_row(0.7, 0.0, 0.0, 0.7), 0.3)
    # At 96 % positives, predicting 99 % positive leaves a quarter of the
    # negatives: a collapse the 2x-prevalence bound alone cannot see.
    assert frontier_report.collapsed(_row(0.96, 0.0, 0.0, 0.99), 0.96)
    assert not frontier_report.collapsed(_row(0.96, 0.0, 0.0, 0.95), 0.96)


def test_front_excludes_dominated_collapsed_and_ceiling_rows():
    rows = {
        "entropy": _row(0.80, 0.20, 0.20, 0.30),
        "fair": _row(0.79, 0.05, 0.30, 0.30),
        "worse": _row(0.78, 0.25, 0.25, 0.30),
        "one class": _row(0.85, 0.0, 0.0, 0.02),
        "all labels": _row(0.90, 0.0, 0.0, 0.30),
    }
    front = frontier_report.front(rows, "DP", 0.3, "all labels")
    assert front == ["entropy", "fair"]
    assert frontier_report.front(rows, "EO", 0.3, "all labels") == ["entropy"]
    assert frontier_report.dominated_by(rows, "worse", "DP", front) == [
        "fair",
        "entropy",
    ]
    volumes = frontier_report.hypervolumes(rows, "DP", "all labels")
    assert volumes["entropy"] == pytest.approx(1.0)
    assert volumes["fair"] > 1.0 > volumes["worse"]


def _raw(per_seed_rows, datasets=("a", "b")):
    columns = ["accuracy", "DP", "EO", "positive rate", "seconds"]
    runs = []
    for dataset in datasets:
        for seed, rows in enumerate(per_seed_rows):
            runs.append(
                {
                    "dataset": dataset,
                    "seed": seed,
                    "prevalence": 0.3,
                    "rows": {
                        name: {"200": dict(zip(columns, values, strict=True))}
                        for name, values in rows.items()
                    },
                }
            )
    return {
        "command": "test",
        "seconds": 1.0,
        "budgets": [200],
        "datasets": {d: d.upper() for d in datasets},
        "names": ["random", "entropy", "cheap", "costly", "collapser"],
        "mitigations": ["entropy + EG DP"],
        "ceiling": "all labels",
        "columns": columns,
        "runs": runs,
    }


def test_recommendation_prefers_undominated_then_cheap_and_never_collapsed():
    rows = {
        "random": [0.75, 0.30, 0.30, 0.3, 1.0],
        "entropy": [0.80, 0.20, 0.20, 0.3, 1.0],
        "entropy + EG DP": [0.78, 0.10, 0.15, 0.3, 5.0],
        "cheap": [0.79, 0.08, 0.25, 0.3, 2.0],
        "costly": [0.79, 0.07, 0.25, 0.3, 9.0],
        "collapser": [0.85, 0.0, 0.0, 0.01, 1.0],
        "all labels": [0.85, 0.2, 0.2, 0.3, 0.1],
    }
    raw = json.loads(json.dumps(_raw([rows, rows])))
    agg, prevalence = frontier_report.aggregate(raw)
    chosen, table, _ = frontier_report.recommendation(raw, agg, prevalence)
    assert chosen["DP"][0] == "cheap"
    assert table["DP"]["collapser"] == {"a": "collapse", "b": "collapse"}
    # On EO, EG DP dominates both fair strategies: none is recommended, and
    # the page says so per dataset.
    assert chosen["EO"][0] is None
    text = frontier_report.recommendation_markdown(raw, agg, prevalence)
    assert "`cheap`" in text
    assert "A, EO: **no fair strategy beats the mitigation baselines**" in text


def test_readme_carries_the_committed_recommendation():
    committed = BENCHMARKS / "results" / "frontier_recommendation.md"
    if not committed.exists():
        pytest.skip("no committed frontier run")
    assert frontier_report.readme_block() == committed.read_text()


@pytest.mark.slow
def test_quick_run_writes_the_tables_and_flags_a_collapse(tmp_path):
    import frontier

    frontier.main(["--quick", "--out", str(tmp_path)])
    text = (tmp_path / "frontier.md").read_text()
    assert "## Recommendation" in text
    assert "## synthetic, budget 100" in text
    for column in ("accuracy", "ROC AUC", "DP front", "EO front", "HV DP", "flag"):
        assert f"| {column} |" in text or f" {column} |" in text
    for row in ("entropy + EG DP", "random + TO EO", "all labels", "falcon"):
        assert f"| {row} |" in text
    assert (tmp_path / "frontier_synthetic.png").stat().st_size > 0
    assert (tmp_path / "frontier_recommendation.md").exists()

    # A row made to predict nearly one class is flagged and leaves the front.
    raw = json.loads((tmp_path / "frontier.json").read_text())
    for run in raw["runs"]:
        run["rows"]["falcon"]["100"].update({"positive rate": 0.01, "DP": 0.0})
    (tmp_path / "frontier.json").write_text(json.dumps(raw))
    frontier.main(["--report-only", "--out", str(tmp_path)])
    table = (tmp_path / "frontier.md").read_text()
    falcon = [line for line in table.splitlines() if line.startswith("| falcon |")]
    wide = [line for line in falcon if line.count("|") > 10]
    assert wide
    assert all(line.rstrip().endswith("| collapse |") for line in wide)
    assert not any("**front**" in line for line in wide)
    # The summary's verdict on each dataset (DP and EO tables) is the
    # collapse, not a rank.
    assert falcon.count("| falcon | collapse | collapse |") == 2
