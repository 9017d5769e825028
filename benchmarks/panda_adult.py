"""PANDA against the baselines on Adult, the protocol of Sharaf et al. (FAccT 2022).

    OMP_NUM_THREADS=1 python benchmarks/panda_adult.py --seeds 5 --jobs 2

Adult (one-hot and standardised features, sex as the group) is split 50/50
into a meta-train half ``D`` and a meta-test half; the meta-test half is split
50/50 into a pool and a test set. PANDA meta-trains on ``D`` (labels and
groups) under a demographic-parity constraint of ``rho = 0.04``. Every
strategy then starts from the same 20 random pool rows and buys ``B = 400``
labels: PANDA in one forward pass, the others in batches of 20. All
strategies use the same representation (PANDA's ``transform``, pretrained on
``D``) and the same classifier, the linear layer the policy was meta-trained
against (``policy.make_classifier()``: a few gradient steps from zero, as the
paper fine-tunes the final layer). Strategies: random, entropy, margin,
group-aware random, FAL (alpha = 0.6, exact refits of the 64 most uncertain
rows), PANDA, "Fairlearn" (random picks, then fairlearn's
ExponentiatedGradient under DemographicParity(difference_bound=0.04)) and
"Fairlearn+AL" (margin picks, then the same). PANDA's picks come from the
policy itself (``policy.select``, the paper's single pass over the pool);
inside an active learner the same policy is the query strategy
``skfairal.query.PANDASampling(policy)``.

Writes ``benchmarks/results/panda_adult.md`` (F-score, DP difference and
error-rate balance on the test set, mean +- std over seeds; PANDA's
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
    "margin",
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


def scores(model, X, y, g) -> list[float]:
    pred = model.predict(X)
    return [
        f1_score(y, pred),
        demographic_parity_difference(y, pred, sensitive_features=g),
        error_rate_balance_difference(y, pred, sensitive_features=g),
    ]


def fairlearn_fit(classifier, X, y, g):
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient

    model = ExponentiatedGradient(
        clone(classifier), DemographicParity(difference_bound=RHO)
    )
    return model.fit(X, y, sensitive_features=g)


def run_seed(seed: int, strategies, meta_iter: int, inner_steps: int, rho: float):
    (X_d, y_d, g_d), (X_pool, X_test, y_pool, y_test, g_pool, g_test) = split(seed)
    start = time.perf_counter()
    policy = PANDAPolicy(
        budget=BUDGET,
        threshold=rho,
        n_meta_iter=meta_iter,
        inner_steps=inner_steps,
        random_state=seed,
    ).fit(X_d, y_d, sensitive_features=g_d)
    meta_seconds = time.perf_counter() - start
    classifier = policy.make_classifier()
    H_pool, H_test = policy.transform(X_pool), policy.transform(X_test)
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
                model = clone(classifier).fit(H_pool[rows], y_pool[rows])
                curve.append(scores(model, H_test, y_test, g_test))
            out[name] = curve
            continue
        base = {"fairlearn": "random", "fairlearn_al": "margin"}.get(name, name)
        strategy = base
        if base == "fal":
            strategy = FALSampling(
                alpha=0.6, method="exact", n_candidates=64, max_fairness_rows=None
            )
        learner = FairActiveClassifier(clone(classifier), strategy, random_state=seed)
        learner.fit(
            H_pool[seed_rows], y_pool[seed_rows], sensitive_features=g_pool[seed_rows]
        )
        pool = rest.copy()
        for _ in range(BUDGET // BATCH):
            picks = learner.query(H_pool[pool], BATCH, sensitive_features=g_pool[pool])
            chosen = pool[picks]
            learner.teach(
                H_pool[chosen], y_pool[chosen], sensitive_features=g_pool[chosen]
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
            curve.append(scores(model, H_test, y_test, g_test))
        out[name] = curve
    return out


METRICS = ("F-score", "DP difference", "error-rate balance")


def table(results, strategies, rho) -> str:
    lines = [
        "| strategy | " + " | ".join(METRICS) + " |",
        "|---|" + "---:|" * len(METRICS),
    ]
    for name in strategies:
        final = np.array([r[name][-1] for r in results])
        cells = [f"{m:.3f} +- {s:.3f}" for m, s in zip(final.mean(0), final.std(0))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    meta = np.mean([r["meta_seconds"] for r in results])
    panda = np.mean([r["panda_seconds"] for r in results])
    rand = np.mean([r["random_seconds"] for r in results])
    end = [np.mean([h["disparity"] for h in r["history"][-40:]]) for r in results]
    sat = [np.mean([h["satisfied"] for h in r["history"][-40:]]) for r in results]
    lines += [
        "",
        f"PANDA meta-training: {meta:.0f} s per seed (one core). Selecting "
        f"{BUDGET} rows: {panda:.3f} s (random sampling: {rand * 1e3:.3f} ms).",
        f"Training-task disparity over the last 40 meta-tasks: {np.mean(end):.3f} "
        f"(within rho = {rho} in {np.mean(sat):.0%} of them).",
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
        "--inner-steps",
        type=int,
        default=5,
        help="PANDA's inner steps, and so the classifier's (every strategy's)",
    )
    parser.add_argument("--rho", type=float, default=RHO, help="PANDA's threshold")
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument("--out", default=str(RESULTS / "panda_adult.md"))
    args = parser.parse_args()
    start = time.perf_counter()
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=args.jobs)(
        delayed(run_seed)(
            seed, args.strategies, args.meta_iter, args.inner_steps, args.rho
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
        f"{(time.perf_counter() - start) / 60:.1f} min. Entropy and margin "
        "sampling rank rows identically for two classes.\n\n"
    )
    text += table(results, args.strategies, args.rho) + "\n"
    out.write_text(text)
    plot(results, args.strategies, out.with_suffix(".png"))
    print(text)


if __name__ == "__main__":
    main()
