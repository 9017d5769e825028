"""FAL (Anahideh et al. 2022) against entropy and random sampling on real data.

    python benchmarks/fal.py                      # COMPAS and Adult, 5 seeds
    python benchmarks/fal.py --datasets compas --seeds 3 --strategies entropy fal_fast

COMPAS follows the authors' protocol: race African-American vs Caucasian (race is
not a feature), 6 initial labels, 200 single-label queries, logistic
regression, alpha = 0.5; a stratified 30 % test split per seed. Adult: groups =
sex, 10 initial labels, budget 400 in batches of 20 from a 5,000-row pool.
COMPAS is read from ``$SKFAIRAL_DATA`` or ``../shared/data`` (never embedded).

Writes ``benchmarks/results/fal.md`` (final-round metrics, mean +- std over
seeds, and the mean per-query time as a ratio to entropy sampling measured in
the same run) and one PNG per dataset (accuracy and DP difference against the
number of labels).
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal._experiment import METRICS, Task, run_active_learning
from skfairal.datasets import load_adult, load_compas

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _fal(**params):
    from skfairal.query import FALSampling

    return FALSampling(**params)


def strategy_factories(alpha: float) -> dict:
    return {
        "random": lambda: "random",
        "entropy": lambda: "entropy",
        "fal_exact": lambda: _fal(alpha=alpha, method="exact"),
        "fal_nested64": lambda: _fal(alpha=alpha, method="exact", n_candidates=64),
        "fal_fast": lambda: _fal(alpha=alpha, method="fast"),
    }


def _encode(frame, categorical, numerical):
    return ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("num", StandardScaler(), numerical),
        ],
        sparse_threshold=0.0,
    ).fit_transform(frame)


def compas_task(seed: int) -> Task:
    home = os.environ.get("SKFAIRAL_DATA") or ROOT.parent / "shared" / "data"
    bunch = load_compas(data_home=home, as_frame=True)
    race = bunch.sensitive_features["race"].astype(str).to_numpy()
    keep = np.isin(race, ["African-American", "Caucasian"])
    frame = bunch.data[keep].drop(columns=["race", "c_charge_desc"])
    categorical = [c for c in bunch.categorical_features if c in frame]
    numerical = [c for c in bunch.numerical_features if c in frame]
    X = _encode(frame, categorical, numerical)
    return _split(X, bunch.target.to_numpy()[keep], race[keep], seed, "COMPAS")


def adult_task(seed: int, pool_size: int = 5000) -> Task:
    bunch = load_adult(as_frame=True)
    X = _encode(bunch.data, bunch.categorical_features, bunch.numerical_features)
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    task = _split(X, bunch.target.to_numpy(), sex, seed, "Adult")
    rows = np.random.RandomState(seed).choice(len(task.y), pool_size, replace=False)
    task.X, task.y, task.groups = task.X[rows], task.y[rows], task.groups[rows]
    return task


def _split(X, y, groups, seed, name) -> Task:
    X_tr, X_te, y_tr, y_te, g_tr, g_te = train_test_split(
        X, y, groups, test_size=0.3, stratify=y, random_state=seed
    )
    return Task(X_tr, y_tr, g_tr, X_te, y_te, g_te, name)


def seed_rows(y, size: int, rng) -> np.ndarray:
    """``size`` random rows holding both classes."""
    firsts = [rng.choice(np.flatnonzero(y == c)) for c in (0, 1)]
    rest = rng.choice(np.setdiff1d(np.arange(len(y)), firsts), size - 2, replace=False)
    return np.concatenate([firsts, rest])


PROTOCOLS = {
    "compas": {"task": compas_task, "initial": 6, "budget": 200, "batch_size": 1},
    "adult": {"task": adult_task, "initial": 10, "budget": 400, "batch_size": 20},
}


def run_dataset(name, strategies, seeds, alpha, progress):
    protocol = PROTOCOLS[name]
    factories = strategy_factories(alpha)
    runs = {s: [] for s in strategies}
    for seed in seeds:
        task = protocol["task"](seed)
        rows = seed_rows(task.y, protocol["initial"], np.random.RandomState(seed))
        for strategy in strategies:
            if progress:
                print(f"  {name} seed {seed}: {strategy}", file=sys.stderr, flush=True)
            runs[strategy].append(
                run_active_learning(
                    LogisticRegression(max_iter=1000),
                    factories[strategy](),
                    task,
                    rows,
                    budget=protocol["budget"],
                    batch_size=protocol["batch_size"],
                    seed=seed,
                )
            )
    return runs


def table(name, runs) -> str:
    header = ["strategy", "labels", *METRICS, "s / query", "x entropy"]
    lines = [
        f"### {name}",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    base = np.mean(
        [np.mean(r.query_seconds) for r in runs.get("entropy", [])] or [np.nan]
    )
    for strategy, results in runs.items():
        final = np.array([r.scores[-1] for r in results])
        seconds = np.mean([np.mean(r.query_seconds) for r in results])
        cells = [f"{m:.3f} +- {s:.3f}" for m, s in zip(final.mean(0), final.std(0))]
        lines.append(
            f"| {strategy} | {results[0].n_labels[-1]} | "
            + " | ".join(cells)
            + f" | {seconds:.4f} | {seconds / base:.1f} |"
        )
    return "\n".join(lines)


def plot(name, runs, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, k in zip(axes, (1, 2)):
        for strategy, results in runs.items():
            n_labels = results[0].n_labels
            scores = np.array([r.scores for r in results])[:, :, k]
            mean, std = scores.mean(0), scores.std(0)
            ax.plot(n_labels, mean, label=strategy)
            ax.fill_between(n_labels, mean - std, mean + std, alpha=0.15, lw=0)
        ax.set_xlabel("labeled rows")
        ax.set_title(f"{name}: {METRICS[k]}")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(PROTOCOLS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=["random", "entropy", "fal_exact", "fal_nested64", "fal_fast"],
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/fal.py " + " ".join(sys.argv[1:])
    sections = [f"Made by `{command.strip()}`."]
    for name in args.datasets:
        runs = run_dataset(name, args.strategies, range(args.seeds), args.alpha, True)
        sections.append(table(name, runs))
        plot(name, runs, RESULTS / f"fal_{name}.png")
        print(sections[-1], flush=True)
    (RESULTS / "fal.md").write_text("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
