"""PANDA against the baselines on Adult, the protocol of Sharaf et al. (FAccT 2022).

    OMP_NUM_THREADS=1 python benchmarks/panda_adult.py --seeds 5 --jobs 2

Adult (one-hot and standardised features, sex as the group) is split 50/50
into a meta-train half ``D`` and a meta-test half; the meta-test half is split
50/50 into a pool and a test set. PANDA meta-trains on ``D`` (labels and
groups) under a demographic-parity constraint of ``rho = 0.04``, with its
inner classifier ``--inner`` (``implicit``: the converged
``LogisticRegression``, the default; ``unrolled``: the paper's few SGD steps).
Every strategy then starts from the same 20 random pool rows and buys ``B =
400`` labels: PANDA in one forward pass (``policy.select``), the others in
batches of 20. Every strategy's labeled rows train the model a user fits,
scikit-learn's ``LogisticRegression`` on the features as they are
(``--classifier hgb``: ``HistGradientBoostingClassifier``, to measure how the
picks transfer). Strategies: random, entropy, group-aware random, FAL (alpha
= 0.6, exact refits of the 64 most uncertain rows), PANDA, "Fairlearn" (random
picks, then fairlearn's ExponentiatedGradient under
DemographicParity(difference_bound=0.04)) and "Fairlearn+AL" (entropy picks,
then the same).

Writes ``benchmarks/results/panda_adult.md`` (F-score, DP difference,
error-rate balance, the labels' positive share and the model's positive rate
on the test set, mean +- std over seeds, and the targets' verdict; PANDA's
meta-training time and the time of one 400-row selection against random
sampling's) and ``panda_adult.png`` (Figure-1-style scatter of disparity
against F-score for both metrics, Figure-2-style F-score and DP against the
budget).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fal import _encode

from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult
from skfairal.metrics import (
    demographic_parity_difference,
    error_rate_balance_difference,
)
from skfairal.policies import PANDAPolicy
from skfairal.query import FALSampling

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BUDGET, BATCH, SEED_ROWS, RHO = 400, 20, 20, 0.04
STRATEGIES = [
    "random",
    "entropy",
    "group_aware_random",
    "fal",
    "panda",
    "fairlearn",
    "fairlearn_al",
]


def split(seed: int):
    bunch = load_adult(as_frame=True)
    X = _encode(bunch.data, bunch.categorical_features, bunch.numerical_features)
    y = bunch.target.to_numpy()
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    parts = train_test_split(X, y, sex, test_size=0.5, random_state=seed, stratify=y)
    X_d, X_rest, y_d, y_rest, g_d, g_rest = parts
    parts = train_test_split(
        X_rest, y_rest, g_rest, test_size=0.5, random_state=seed, stratify=y_rest
    )
    return (X_d, y_d, g_d), parts


def scores(model, X, y, g, y_labeled) -> list[float]:
    if hasattr(model, "predictors_"):  # fairlearn: a seeded randomised predict
        pred = model.predict(X, random_state=0)
    else:
        pred = model.predict(X)
    return [
        f1_score(y, pred),
        demographic_parity_difference(y, pred, sensitive_features=g),
        error_rate_balance_difference(y, pred, sensitive_features=g),
        float(np.mean(y_labeled)),
        float(np.mean(pred)),
    ]


def fairlearn_fit(classifier, X, y, g):
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient

    model = ExponentiatedGradient(
        clone(classifier), DemographicParity(difference_bound=RHO)
    )
    return model.fit(X, y, sensitive_features=g)


def make_classifier(kind: str):
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=100, random_state=0)
    return LogisticRegression(max_iter=1000)


def run_seed(seed: int, strategies, meta_iter: int, inner: str, rho: float, kind):
    (X_d, y_d, g_d), (X_pool, X_test, y_pool, y_test, g_pool, g_test) = split(seed)
    start = time.perf_counter()
    policy = PANDAPolicy(
        budget=BUDGET,
        threshold=rho,
        inner=inner,
        n_meta_iter=meta_iter,
        random_state=seed,
    ).fit(X_d, y_d, sensitive_features=g_d)
    meta_seconds = time.perf_counter() - start
    # Every strategy's picks train the classifier the user fits, on the
    # features as they are: scikit-learn's LogisticRegression (or, to measure
    # transfer, gradient boosting).
    classifier = make_classifier(kind)
    rng = np.random.RandomState(seed)
    seed_rows = rng.choice(len(y_pool), SEED_ROWS, replace=False)
    rest = np.setdiff1d(np.arange(len(y_pool)), seed_rows)

    start = time.perf_counter()
    panda_order = rest[policy.select(X_pool[rest], BUDGET, random_state=seed)]
    panda_seconds = time.perf_counter() - start
    start = time.perf_counter()
    rng.choice(rest, BUDGET, replace=False)
    random_seconds = time.perf_counter() - start

    out = {"meta_seconds": meta_seconds, "panda_seconds": panda_seconds}
    out["random_seconds"] = random_seconds
    out["history"] = policy.history_
    for name in strategies:
        curve = []
        if name == "panda":
            # Gumbel-top-n is a ranking: the first k picks are its top-k.
            for k in range(BATCH, BUDGET + 1, BATCH):
                rows = np.concatenate([seed_rows, panda_order[:k]])
                model = clone(classifier).fit(X_pool[rows], y_pool[rows])
                curve.append(scores(model, X_test, y_test, g_test, y_pool[rows]))
            out[name] = curve
            continue
        base = {"fairlearn": "random", "fairlearn_al": "entropy"}.get(name, name)
        strategy = base
        if base == "fal":
            strategy = FALSampling(
                alpha=0.6, method="exact", n_candidates=64, max_fairness_rows=None
            )
        learner = FairActiveClassifier(clone(classifier), strategy, random_state=seed)
        learner.fit(
            X_pool[seed_rows], y_pool[seed_rows], sensitive_features=g_pool[seed_rows]
        )
        pool = rest.copy()
        for _ in range(BUDGET // BATCH):
            picks = learner.query(X_pool[pool], BATCH, sensitive_features=g_pool[pool])
            chosen = pool[picks]
            learner.teach(
                X_pool[chosen], y_pool[chosen], sensitive_features=g_pool[chosen]
            )
            pool = np.delete(pool, picks)
            model = learner
            if name.startswith("fairlearn"):
                model = fairlearn_fit(
                    classifier,
                    learner.X_labeled_,
                    learner.y_labeled_,
                    learner.sensitive_features_labeled_,
                )
            curve.append(scores(model, X_test, y_test, g_test, learner.y_labeled_))
        out[name] = curve
    return out


METRICS = (
    "F-score",
    "DP difference",
    "error-rate balance",
    "positive share of the labels",
    "positive rate of the model",
)


def table(results, strategies, rho) -> str:
    meta = np.mean([r["meta_seconds"] for r in results])
    panda = np.mean([r["panda_seconds"] for r in results])
    rand = np.mean([r["random_seconds"] for r in results])
    lines = [
        f"PANDA meta-training: {meta:.0f} s per seed (one core). Selecting "
        f"{BUDGET} rows: {panda:.3f} s (random sampling: {rand * 1e3:.3f} ms).",
        "",
        "| strategy | " + " | ".join(METRICS) + " |",
        "|---|" + "---:|" * len(METRICS),
    ]
    final = {name: np.array([r[name][-1] for r in results]) for name in strategies}
    for name in strategies:
        cells = [
            f"{m:.3f} +- {s:.3f}"
            for m, s in zip(final[name].mean(0), final[name].std(0))
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    end = [np.mean([h["disparity"] for h in r["history"][-40:]]) for r in results]
    sat = [np.mean([h["satisfied"] for h in r["history"][-40:]]) for r in results]
    lines += [
        "",
        f"Training-task disparity over the last 40 meta-tasks: {np.mean(end):.3f} "
        f"(within rho = {rho} in {np.mean(sat):.0%} of them).",
    ]
    if "panda" in final and "fairlearn" in final:
        f_panda, dp_panda = final["panda"][:, 0].mean(), final["panda"][:, 1].mean()
        f_eg, dp_eg = final["fairlearn"][:, 0].mean(), final["fairlearn"][:, 1].mean()
        dominates = dp_panda <= dp_eg and f_panda >= f_eg
        lines += [
            "",
            "Targets (means over seeds): PANDA dominates random + EG(DP, "
            f"{rho}) (DP {dp_panda:.3f} <= {dp_eg:.3f} at F {f_panda:.3f} >= "
            f"{f_eg:.3f}): {'met' if dominates else 'missed'}; PANDA's DP <= 0.06: "
            f"{'met' if dp_panda <= 0.06 else 'missed'} ({dp_panda:.3f}); F >= "
            f"0.55: {'met' if f_panda >= 0.55 else 'missed'} ({f_panda:.3f}).",
        ]
    return "\n".join(lines)


def plot(results, strategies, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(22, 4.6))
    budgets = np.arange(BATCH, BUDGET + 1, BATCH)
    for name in strategies:
        curves = np.array([r[name] for r in results])  # seeds x rounds x metrics
        final = curves[:, -1]
        for ax, k in zip(axes[:2], (1, 2)):
            ax.errorbar(
                final[:, k].mean(),
                final[:, 0].mean(),
                xerr=final[:, k].std(),
                yerr=final[:, 0].std(),
                fmt="o",
                capsize=3,
                label=name,
            )
        axes[2].plot(budgets, curves[:, :, 0].mean(0), label=name)
        axes[3].plot(budgets, curves[:, :, 1].mean(0), label=name)
    for ax, k in zip(axes[:2], (1, 2)):
        ax.set_xlabel(f"{METRICS[k]} (lower is fairer)")
        ax.set_ylabel("F-score")
        ax.grid(alpha=0.3)
    axes[0].set_title(f"Adult, B = {BUDGET}: demographic disparity")
    axes[1].set_title(f"Adult, B = {BUDGET}: error-rate balance")
    axes[2].set_title("F-score against the budget")
    axes[3].set_title("DP difference against the budget")
    for ax in axes[2:]:
        ax.set_xlabel("labels bought")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--meta-iter", type=int, default=200)
    parser.add_argument(
        "--inner",
        choices=["implicit", "unrolled"],
        default="implicit",
        help="PANDA's inner classifier in meta-training",
    )
    parser.add_argument(
        "--classifier",
        choices=["lr", "hgb"],
        default="lr",
        help="the model every strategy's picks train (hgb: transfer)",
    )
    parser.add_argument("--rho", type=float, default=RHO, help="PANDA's threshold")
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument("--out", default=str(RESULTS / "panda_adult.md"))
    args = parser.parse_args()
    start = time.perf_counter()
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=args.jobs)(
        delayed(run_seed)(
            seed,
            args.strategies,
            args.meta_iter,
            args.inner,
            args.rho,
            args.classifier,
        )
        for seed in range(args.seeds)
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    threads = os.environ.get("OMP_NUM_THREADS")
    command = (f"OMP_NUM_THREADS={threads} " if threads else "") + (
        "python benchmarks/panda_adult.py " + " ".join(sys.argv[1:])
    )
    text = (
        f"Made by `{command.strip()}`, {args.seeds} seeds, in "
        f"{(time.perf_counter() - start) / 60:.1f} min. Every strategy's "
        f"picks (20 random seed rows + {BUDGET}) train "
        f"{type(make_classifier(args.classifier)).__name__}"
        f" on the one-hot, standardised features; PANDA meta-trained with "
        f"inner={args.inner!r}.\n\n"
    )
    text += table(results, args.strategies, args.rho) + "\n"
    out.write_text(text)
    plot(results, args.strategies, out.with_suffix(".png"))
    print(text)


if __name__ == "__main__":
    main()
