"""FAL (Anahideh et al. 2022) against entropy and random sampling on real data.

    OMP_NUM_THREADS=1 python benchmarks/fal.py --seeds 10 --jobs 2
    python benchmarks/fal.py --datasets compas --seeds 3 --strategies entropy fal_fast

COMPAS follows the authors' protocol and preprocessing (their ``prep.py``):
race African-American vs Caucasian (race is not a feature), a random 60/40
pool/test split per seed, 3 initial labels per class, 200 single-label queries,
``LogisticRegression()`` (C=1) on min-max-scaled numeric features, alpha = 0.5.
Their feature list is age, the three juvenile counts, priors count, charge
degree, days from screening to arrest, days from COMPAS and marriage status;
the last three are not among ``load_compas``'s columns, so ours has the first
six. Adult: groups = sex, one-hot and standardised features, a 5,000-row
sample split 70/30, 10 initial labels, budget 400 in batches of 20.
COMPAS is read from ``$SKFAIRAL_DATA`` or ``../shared/data`` (never embedded).

Strategies: ``random``, ``entropy``, ``fal_fast`` (Newton-step approximation
over the whole pool), ``fal_fast_nested64``, ``fal_nested64`` (real refits of
the 64 highest-entropy rows), ``fal_exact`` (real refits of the whole pool,
2 |U| per query: about 26 s per query on COMPAS on one core, so not in the
default list; its one-seed reference run is

    OMP_NUM_THREADS=1 python benchmarks/fal.py --datasets compas --seeds 1 \
        --strategies entropy fal_exact --fal-jobs 2 \
        --out benchmarks/results/fal_exact.md

whose time column is wall-clock time on 2 cores).

Writes ``benchmarks/results/fal.md`` (final-round metrics, mean +- std over
seeds, the DP change against entropy sampling, and the mean per-query time as
a ratio to entropy sampling measured in the same run) and one PNG per dataset
(accuracy and DP difference against the number of labels, and the final
accuracy-fairness trade-off).
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from skfairal._experiment import METRICS, Task, run_active_learning
from skfairal.datasets import load_adult, load_compas

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _fal(**params):
    from skfairal.query import FALSampling

    # Every variant spelled out: FALSampling()'s defaults are nested fast.
    params = {"n_candidates": None, "max_fairness_rows": None, **params}
    return FALSampling(**params)


def strategy_factories(alpha: float, fal_jobs: int | None = None) -> dict:
    return {
        "random": lambda: "random",
        "entropy": lambda: "entropy",
        "fal_exact": lambda: _fal(alpha=alpha, method="exact", n_jobs=fal_jobs),
        "fal_nested64": lambda: _fal(
            alpha=alpha, method="exact", n_candidates=64, n_jobs=fal_jobs
        ),
        "fal_fast": lambda: _fal(alpha=alpha, method="fast"),
        "fal_fast_nested64": lambda: _fal(alpha=alpha, method="fast", n_candidates=64),
    }


def _encode(frame, categorical, numerical):
    return ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("num", StandardScaler(), numerical),
        ],
        sparse_threshold=0.0,
    ).fit_transform(frame)


COMPAS_FEATURES = [
    "age",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
]


def compas_task(seed: int) -> Task:
    home = os.environ.get("SKFAIRAL_DATA") or ROOT.parent / "shared" / "data"
    bunch = load_compas(data_home=home, as_frame=True)
    race = bunch.sensitive_features["race"].astype(str).to_numpy()
    keep = np.isin(race, ["African-American", "Caucasian"])
    frame = bunch.data[keep]
    felony = (frame["c_charge_degree"].astype(str) == "F").to_numpy(float)
    X = np.column_stack([frame[COMPAS_FEATURES].to_numpy(float), felony])
    X = MinMaxScaler().fit_transform(X)  # the authors scale the whole file
    parts = train_test_split(
        X, bunch.target.to_numpy()[keep], race[keep], test_size=0.4, random_state=seed
    )
    X_tr, X_te, y_tr, y_te, g_tr, g_te = parts
    return Task(X_tr, y_tr, g_tr, X_te, y_te, g_te, "COMPAS")


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


def per_class_rows(y, size: int, rng) -> np.ndarray:
    """``size // 2`` random rows of each class (the authors' initial set)."""
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == c), size // 2, replace=False) for c in (0, 1)]
    )


PROTOCOLS = {
    "compas": {
        "task": compas_task,
        "seed_rows": per_class_rows,
        "initial": 6,
        "budget": 200,
        "batch_size": 1,
    },
    "adult": {
        "task": adult_task,
        "seed_rows": seed_rows,
        "initial": 10,
        "budget": 400,
        "batch_size": 20,
    },
}


REFITTING = {"fal_exact", "fal_nested64"}


def run_seed(name, strategies, seed, alpha, fal_jobs=None, position_slots=1) -> dict:
    """Every strategy on one seed's task and initial set."""
    protocol = PROTOCOLS[name]
    factories = strategy_factories(alpha, fal_jobs)
    task = protocol["task"](seed)
    rows = protocol["seed_rows"](
        task.y, protocol["initial"], np.random.RandomState(seed)
    )
    from tqdm import tqdm

    runs = {}
    for strategy in strategies:
        # One bar per run; with --jobs, each worker's bar has its own line.
        bar = tqdm(
            total=protocol["budget"] // protocol["batch_size"],
            desc=f"{name} seed {seed}: {strategy}",
            unit="round",
            position=seed % max(1, position_slots),
            leave=False,
            file=sys.stderr,
        )
        runs[strategy] = run_active_learning(
            LogisticRegression(max_iter=1000),
            factories[strategy](),
            task,
            rows,
            budget=protocol["budget"],
            batch_size=protocol["batch_size"],
            seed=seed,
            on_round=bar.update,
        )
        bar.close()
    return runs


def run_dataset(
    name, strategies, seeds, alpha, n_jobs=1, exact_seeds=None, fal_jobs=None
) -> dict:
    """{strategy: [Run per seed]}; seeds run in ``n_jobs`` processes.

    The strategies that refit per candidate run on the first ``exact_seeds``
    seeds only (all seeds when None), their refits in ``fal_jobs`` processes.
    """
    from joblib import Parallel, delayed

    seeds = list(seeds)
    n_exact = len(seeds) if exact_seeds is None else exact_seeds
    per_seed = Parallel(n_jobs=n_jobs)(
        delayed(run_seed)(
            name,
            [s for s in strategies if s not in REFITTING or i < n_exact],
            seed,
            alpha,
            fal_jobs,
            n_jobs,
        )
        for i, seed in enumerate(seeds)
    )
    return {
        s: [runs[s] for runs in per_seed if s in runs]
        for s in strategies
        if any(s in runs for runs in per_seed)
    }


def table(name, runs) -> str:
    header = ["strategy", "seeds", "labels", *METRICS]
    header += ["DP vs entropy", "s / query", "x entropy"]
    lines = [
        f"### {name}",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    entropy = runs.get("entropy", [])
    base = np.mean([np.mean(r.query_seconds) for r in entropy] or [np.nan])
    dp = METRICS.index("DP difference")
    base_dp = np.mean([r.scores[-1][dp] for r in entropy] or [np.nan])
    for strategy, results in runs.items():
        final = np.array([r.scores[-1] for r in results])
        seconds = np.mean([np.mean(r.query_seconds) for r in results])
        cells = [f"{m:.3f} +- {s:.3f}" for m, s in zip(final.mean(0), final.std(0))]
        change = final[:, dp].mean() / base_dp - 1
        lines.append(
            f"| {strategy} | {len(results)} | {results[0].n_labels[-1]} | "
            + " | ".join(cells)
            + f" | {change:+.0%} | {seconds:.4f} | {seconds / base:.1f} |"
        )
    return "\n".join(lines)


def plot(name, runs, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc, dp = METRICS.index("accuracy"), METRICS.index("DP difference")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for ax, k in zip(axes, (acc, dp)):
        for strategy, results in runs.items():
            n_labels = results[0].n_labels
            scores = np.array([r.scores for r in results])[:, :, k]
            mean, std = scores.mean(0), scores.std(0)
            ax.plot(n_labels, mean, label=strategy)
            ax.fill_between(n_labels, mean - std, mean + std, alpha=0.15, lw=0)
        ax.set_xlabel("labeled rows")
        ax.set_title(f"{name}: {METRICS[k]} (mean +- std)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    ax = axes[2]
    for strategy, results in runs.items():
        final = np.array([r.scores[-1] for r in results])
        ax.errorbar(
            final[:, dp].mean(),
            final[:, acc].mean(),
            xerr=final[:, dp].std(),
            yerr=final[:, acc].std(),
            fmt="o",
            capsize=3,
            label=strategy,
        )
    ax.set_xlabel("DP difference (lower is fairer)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{name}: after the last query")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(PROTOCOLS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="seeds run in parallel processes (each strategy's time is then "
        "measured under the same load, so the ratios stay comparable)",
    )
    parser.add_argument(
        "--exact-seeds",
        type=int,
        default=None,
        help="run fal_nested64 / fal_exact (real refits) on this many seeds only",
    )
    parser.add_argument(
        "--fal-jobs",
        type=int,
        default=None,
        help="n_jobs of the refitting FAL strategies (their time is then "
        "wall-clock time on that many cores)",
    )
    parser.add_argument(
        "--out",
        default=str(RESULTS / "fal.md"),
        help="the table; the plots go beside it, named <stem>_<dataset>.png",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=list(strategy_factories(0.5)),
        default=[
            "random",
            "entropy",
            "fal_nested64",
            "fal_fast",
            "fal_fast_nested64",
        ],
    )
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/fal.py " + " ".join(sys.argv[1:])
    sections = [f"Made by `{command.strip()}`."]
    for name in args.datasets:
        runs = run_dataset(
            name,
            args.strategies,
            range(args.seeds),
            args.alpha,
            args.jobs,
            args.exact_seeds,
            args.fal_jobs,
        )
        sections.append(table(name, runs))
        out = Path(args.out)
        plot(name, runs, out.with_name(f"{out.stem}_{name}.png"))
        print(sections[-1], flush=True)
    Path(args.out).write_text("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
