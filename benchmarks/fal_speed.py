"""Per-query time of FAL's methods as a ratio to entropy sampling, same run.

    python benchmarks/fal_speed.py                 # 1,000-row synthetic pool
    python benchmarks/fal_speed.py --pool 3700 --labeled 100 --repeat 5

A LogisticRegression fitted on ``--labeled`` rows of
``make_biased_classification``; every method queries one row of the same
pool ``--repeat`` times and the median time is reported, with the ratio to
entropy sampling's median. Run with ``OMP_NUM_THREADS=1`` for one core.
Also prints how alike ``fast`` and ``exact`` rank the pool (Spearman
correlation of E, shared top-10) when exact is timed.
"""

import argparse
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.query import FALSampling, entropy_sampling


def median_seconds(strategy, learner, X_pool, groups, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        strategy(learner, X_pool, 1, sensitive_features=groups, random_state=0)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--labeled", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-exact", action="store_true", help="skip full exact FAL")
    args = parser.parse_args()

    X, y, g = make_biased_classification(
        args.pool + args.labeled, class_sep=0.5, random_state=0
    )
    n = args.labeled
    learner = FairActiveClassifier(LogisticRegression(max_iter=1000))
    learner.fit(X[:n], y[:n], sensitive_features=g[:n])
    X_pool, g_pool = X[n:], g[n:]

    def entropy(learner, X_pool, n_instances, *, sensitive_features, random_state):
        return entropy_sampling(learner, X_pool, n_instances, random_state=random_state)

    methods = {
        "entropy": entropy,
        "fal fast": FALSampling(
            method="fast", n_candidates=None, max_fairness_rows=None
        ),
        "fal fast, n_candidates=64": FALSampling(
            method="fast", n_candidates=64, max_fairness_rows=None
        ),
        "fal exact, n_candidates=64": FALSampling(
            method="exact", n_candidates=64, max_fairness_rows=None
        ),
    }
    if not args.no_exact:
        methods["fal exact"] = FALSampling(
            method="exact", n_candidates=None, max_fairness_rows=None
        )
    print(f"pool {args.pool} rows, {n} labeled, median of {args.repeat}")
    print("| method | s / query | x entropy |\n|---|---:|---:|")
    base = None
    for name, strategy in methods.items():
        repeat = 1 if name == "fal exact" else args.repeat
        seconds = median_seconds(strategy, learner, X_pool, g_pool, repeat)
        base = seconds if base is None else base
        print(f"| {name} | {seconds:.4f} | {seconds / base:.1f} |", flush=True)
    if not args.no_exact:
        exact = FALSampling(method="exact", max_fairness_rows=None).expected_unfairness(
            learner, X_pool, sensitive_features=g_pool
        )
        fast = FALSampling(method="fast", max_fairness_rows=None).expected_unfairness(
            learner, X_pool, sensitive_features=g_pool
        )
        shared = len(set(np.argsort(exact)[:10]) & set(np.argsort(fast)[:10]))
        rho = spearmanr(exact, fast)[0]
        print(f"fast vs exact E: Spearman {rho:.3f}, top-10 shared {shared}/10")


if __name__ == "__main__":
    main()
