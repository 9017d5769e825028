"""Query cost against pool size: every strategy as a ratio to one predict_proba.

    OMP_NUM_THREADS=1 python benchmarks/scale.py
    python benchmarks/scale.py --sizes 1000 10000 --strategies entropy falcon

For each pool size (default 1e3, 1e4, 1e5 and 1e6 rows x 100 Gaussian
features, two groups) a ``LogisticRegression`` is fitted on 1,000 labeled
rows inside a ``FairActiveClassifier``; then, for every registered strategy
(and FAL's and FACA-GEN's variants), one query of a batch of 100 is timed
(best of 5 when a call takes under a second, else best of 2) and its peak
memory measured in a second run: the peak of numpy's allocations during the query
(``tracemalloc``) and the rise of the process's resident memory above its
level before the query (sampled every 2 ms, so it also sees torch's
allocations, which ``tracemalloc`` does not). The floor is one
``learner.predict_proba`` over the same pool, measured (best of 5) right
before each strategy, and every time is reported as a ratio to it; the
floor's row shows its first measurement at each size.

A strategy is not run at the next size (ten times larger) when its time
there, extrapolated from the growth seen so far (at least linear), would
pass ``--max-seconds`` (default 60); the table says where it stopped.
A query over ``--max-seconds`` is timed once and its memory not measured.
Strategies that need a labeled validation set
(Falcon, min-max, FIS, FACA-GEN's reward) get 1,000 rows. PANDA
(``PANDASampling``) meta-trains its policy at its first call (50
meta-iterations, budget 100, on the labeled rows): the "first call" column;
the later calls, timed, select with the policy it keeps.
FACA-GEN is timed per arm after a first query, which also fits its
representation (once per run): the "first call" column. ``"fal"`` is FAL as
typed, ``FALSampling()``'s defaults (here the Newton step, Nested over 64
candidates, a fairness sample of 2,000 rows: issue 17's target, 5x the floor
at 1e5). The other FAL rows set every bound explicitly: fast on the whole pool
as its fairness set and on a 2,000-row sample of it (``max_fairness_rows``),
each with and without Nested FAL's 64 candidates, and exact, the authors'
variant, with and without them. Those without candidates warn
(``QueryCostWarning``) on pools over 5,000 rows: here they are measured on
purpose, and the warning is silenced.

Writes ``benchmarks/results/scale.md`` (ratios, seconds and memory per size,
the targets of issue 8 marked met or missed) and ``scale.png`` (time against
pool size, log-log).

**Wide setting** (issue 20): genotype matrices have thousands of features
and a few hundred labels, where the logistic strategies' Hessian
(features x features) could cost more than everything else::

    OMP_NUM_THREADS=1 python benchmarks/scale.py --wide
    python benchmarks/scale.py --wide --sizes 10000 --n-features 2000

times *whole runs*, a user's loop: 200 seed labels, then 300 labels bought
in batches of 10, the learner (``StandardScaler`` then
``LogisticRegression(C=0.05)``, as in ``benchmarks/facagen_1kg.py``) refit
after each (``FairActiveClassifier.fit`` with a budget: 30 queries, 31
fits). The rows are genotypes (0, 1 or 2 minor alleles, default 2,000 SNPs)
of two ancestries whose allele frequencies differ, so ancestry shows in
every SNP; the trait comes from 100 of them and from ancestry (prevalence
0.5, about 0.4 and 0.7 in the two groups: a disparity no accurate model
removes, so that FACA-GEN's fairness arm has rows in nearly every batch,
its costliest regime; the table counts those queries). Entropy
sampling's run is measured again right before each strategy's (the
floor, for the drift of a shared machine), and each run is reported as a
ratio to it, against issue 20's target of 5x. FACA-GEN runs with its
defaults, with ``target=0.05`` and a validation ``fairness_set`` of 250
rows (the 1000 Genomes benchmark's setting) and with equalized odds there;
FAL as fast Nested FAL over 64 candidates, ``alpha=0.5``. Writes
``benchmarks/results/scale_wide.md``.
"""

import argparse
import sys
import threading
import time
import tracemalloc
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfairal import FairActiveClassifier
from skfairal.query import (
    DFA2LSampling,
    FACAGENSampling,
    FalconSampling,
    FALCURSampling,
    FALSampling,
    FISSampling,
    MinMaxSampling,
    get_strategy,
)
from skfairal.query._fal import QueryCostWarning

RESULTS = Path(__file__).parent / "results"
N_FEATURES, N_LABELED, N_VALIDATION, BATCH = 100, 1000, 1000, 100
MiB = 2**20

# name -> (maker(validation) -> strategy, target ratio at 1e5 or None)
FLOOR_TARGETS = {
    "random": 1.5,
    "uncertainty": 1.5,
    "margin": 1.5,
    "entropy": 1.5,
    "group_aware_random": 2.0,
    "min_max": 2.0,
    '"fal" (as typed)': 5.0,
    "FAL fast": 5.0,
    "FAL fast, C of 2,000": 5.0,
    "FAL fast, nested 64": 5.0,
    "FAL fast, nested 64, C of 2,000": 5.0,
    "falcon": 5.0,
    "fal_cur": 5.0,
    "fis": 5.0,
    "FACA-GEN: informativeness arm": 5.0,
    "FACA-GEN: fairness arm": 5.0,
    "FACA-GEN: causal-consistency arm": 5.0,
    "panda (selection)": 20.0,
}


def _fal(method, n_candidates, max_fairness_rows):
    return FALSampling(
        method=method, n_candidates=n_candidates, max_fairness_rows=max_fairness_rows
    )


def strategies(validation, seed):
    arms = {
        "informativeness": "FACA-GEN: informativeness arm",
        "fairness": "FACA-GEN: fairness arm",
        "causal_consistency": "FACA-GEN: causal-consistency arm",
    }
    made = {
        name: (lambda name=name: get_strategy(name))
        for name in ("random", "uncertainty", "margin", "entropy", "group_aware_random")
    }
    made |= {
        "min_max": lambda: MinMaxSampling(fairness_set=validation, random_state=seed),
        '"fal" (as typed)': lambda: get_strategy("fal"),
        "FAL fast": lambda: _fal("fast", None, None),
        "FAL fast, C of 2,000": lambda: _fal("fast", None, 2000),
        "FAL fast, nested 64": lambda: _fal("fast", 64, None),
        "FAL fast, nested 64, C of 2,000": lambda: _fal("fast", 64, 2000),
        "FAL exact, nested 64": lambda: _fal("exact", 64, None),
        "FAL exact": lambda: _fal("exact", None, None),
        "falcon": lambda: FalconSampling(fairness_set=validation, random_state=seed),
        "fal_cur": lambda: FALCURSampling(random_state=seed),
        "fis": lambda: FISSampling(fairness_set=validation, random_state=seed),
        "d_fa2l": lambda: DFA2LSampling(),
    }
    for arm, label in arms.items():
        made[label] = lambda arm=arm: FACAGENSampling(arms=(arm,), random_state=seed)
    return made


class _RSSPeak:
    """Highest resident memory of this process while the block runs (Linux)."""

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096
        except OSError:
            return 0

    def _watch(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def make_pool(n_pool: int, seed: int):
    rng = np.random.RandomState(seed)
    n = N_LABELED + N_VALIDATION + n_pool
    groups = (rng.random_sample(n) < 0.3).astype(np.int64)
    X = rng.standard_normal((n, N_FEATURES))
    X[:, -1] += 2.0 * groups - 1.0  # a proxy of the group
    logits = X[:, :10].sum(axis=1) / np.sqrt(10) - 0.8 * groups
    y = (rng.random_sample(n) < 1 / (1 + np.exp(-2 * logits))).astype(np.int64)
    lab = slice(0, N_LABELED)
    val = slice(N_LABELED, N_LABELED + N_VALIDATION)
    pool = slice(N_LABELED + N_VALIDATION, n)
    learner = FairActiveClassifier(LogisticRegression(max_iter=1000))
    learner.fit(X[lab], y[lab], sensitive_features=groups[lab])
    return (
        learner,
        (X[val], y[val], groups[val]),
        np.ascontiguousarray(X[pool]),
        groups[pool],
    )


def best_time(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def memory(call) -> tuple[float, float]:
    """(numpy peak, resident rise) in MiB during ``call``."""
    tracemalloc.start()
    try:
        with _RSSPeak() as rss:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MiB, (rss.peak - rss.start) / MiB


def measure(sizes, names, max_seconds, seed, progress):
    rows = []  # dicts: strategy, n, seconds, ratio, numpy MiB, rss MiB, note
    stopped = {}
    last_seconds = {}
    for n_pool in sizes:
        learner, validation, X_pool, g_pool = make_pool(n_pool, seed)
        predict = partial(learner.predict_proba, X_pool)
        floor = best_time(predict, 3)
        rows.append(
            {"strategy": "predict_proba (floor)", "n": n_pool, "seconds": floor,
             "ratio": 1.0, "numpy": memory(predict)[0],
             "rss": float("nan"), "note": ""}
        )  # fmt: skip
        made = strategies(validation, seed)
        for name in names:
            if name in stopped:
                rows.append({"strategy": name, "n": n_pool, "note": stopped[name]})
                continue
            progress(f"{name} @ {n_pool:,}")
            if name == "panda (selection)":
                call, first = _panda_call(learner, X_pool, seed)
            else:
                call = partial(
                    made[name](), learner, X_pool, BATCH, sensitive_features=g_pool,
                    random_state=seed,
                )  # fmt: skip

                first = best_time(call, 1)  # FACA-GEN fits its representation here
            # The floor is measured again right before the strategy and the
            # ratio taken to that: this shared machine drifts between states
            # (the same query took 1.4 s and 2.3 s in two runs), and a floor
            # measured minutes earlier does not see the drift.
            local_floor = best_time(predict, 5)
            if first > max_seconds:
                seconds, numpy_mib, rss_mib = first, float("nan"), float("nan")
            else:
                # Best of 5 wherever a call is cheap, 2 otherwise: one run is noisy.
                seconds = best_time(call, 5 if first < 1.0 else 2)
                numpy_mib, rss_mib = memory(call)
            row = {"strategy": name, "n": n_pool, "seconds": seconds,
                   "ratio": seconds / local_floor, "numpy": numpy_mib,
                   "rss": rss_mib, "first": first, "first_ratio": first / local_floor,
                   "note": ""}  # fmt: skip
            rows.append(row)
            # The next size is 10x: predict its time from the growth seen so
            # far (at least linear), and skip it when it would pass the limit.
            growth = 10.0
            if name in last_seconds:
                growth = max(growth, seconds / max(last_seconds[name], 1e-9))
            last_seconds[name] = seconds
            if seconds * growth > max_seconds:
                stopped[name] = (
                    f"not run: {seconds:.3g} s at {n_pool:,}, "
                    f"~{seconds * growth:.0f} s expected"
                )
    return rows


def _panda_call(learner, X_pool, seed):
    from skfairal.policies import PANDAPolicy
    from skfairal.query import PANDASampling

    strategy = PANDASampling(PANDAPolicy(budget=BATCH, n_meta_iter=50))
    # The pool's groups are not passed: PANDA does not need them.
    call = partial(strategy, learner, X_pool, BATCH, random_state=seed)
    start = time.perf_counter()
    call()  # meta-trains the policy on the labeled rows, then selects
    return call, time.perf_counter() - start


def table(rows, sizes) -> str:
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    by = {(r["strategy"], r["n"]): r for r in rows}
    head = ["strategy"] + [f"{n:,}: x floor (s)" for n in sizes]
    head += [
        f"peak MiB at {sizes[-1]:,} (numpy / resident)",
        "first call at 1e5: x floor (s)",
        "target at 1e5",
        "met?",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for name in names:
        cells = []
        for n in sizes:
            r = by.get((name, n))
            if r is None or "seconds" not in r:
                cells.append("—" if r is None else r["note"])
            else:
                cells.append(f"{r['ratio']:.2f} ({r['seconds']:.3g})")
        last = by.get((name, sizes[-1]), {})
        cells.append(
            f"{last['numpy']:.0f} / {last['rss']:.0f}" if "numpy" in last else "—"
        )
        target = FLOOR_TARGETS.get(name)
        at = by.get((name, 100_000), {})
        cells.append(
            f"{at['first_ratio']:.2f} ({at['first']:.3g})" if "first" in at else ""
        )
        cells.append("" if target is None else f"<= {target:g}")
        if target is None or "ratio" not in at:
            cells.append("")
        else:
            cells.append("met" if at["ratio"] <= target else "**missed**")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    colours = plt.get_cmap("tab20").colors
    markers = "osD^v<>pP*X"
    for i, name in enumerate(names):
        pts = [
            (r["n"], r["seconds"])
            for r in rows
            if r["strategy"] == name and "seconds" in r
        ]
        if not pts:
            continue
        n, s = zip(*pts)
        if name.startswith("predict_proba"):
            ax.loglog(n, s, "k--", label=name, linewidth=2)
        else:
            ax.loglog(n, s, color=colours[i % 20], marker=markers[i % len(markers)],
                      label=name, markersize=4)  # fmt: skip
    ax.set_xlabel("pool rows")
    ax.set_ylabel(f"seconds per query of {BATCH}")
    ax.legend(fontsize=6, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# The wide setting: seed labels, validation rows, labels bought and batch,
# and the target run cost, as a ratio to an entropy run.
WIDE_FEATURES, WIDE_SEED, WIDE_VALIDATION = 2000, 200, 250
WIDE_BUDGET, WIDE_BATCH, WIDE_TARGET = 300, 10, 5.0


def wide_strategies(validation, seed):
    return {
        "entropy": lambda: get_strategy("entropy"),
        "FACA-GEN (defaults)": lambda: FACAGENSampling(random_state=seed),
        "FACA-GEN, target 0.05, fairness set": lambda: FACAGENSampling(
            target=0.05, fairness_set=validation, random_state=seed
        ),
        "FACA-GEN, target 0.05, fairness set, EO": lambda: FACAGENSampling(
            target=0.05,
            fairness_set=validation,
            metric="equalized_odds",
            random_state=seed,
        ),
        "FAL fast, nested 64": lambda: FALSampling(
            alpha=0.5, method="fast", n_candidates=64
        ),
    }


def make_wide(n_pool: int, n_features: int, seed: int):
    """(X, y, groups) of the seed rows then the pool, and the validation set."""
    rng = np.random.RandomState(seed)
    n = WIDE_SEED + WIDE_VALIDATION + n_pool
    groups = (rng.random_sample(n) < 0.3).astype(np.int64)
    freq = rng.uniform(0.05, 0.5, n_features)
    other = np.clip(freq + rng.normal(0.0, 0.1, n_features), 0.01, 0.99)
    X = np.empty((n, n_features))
    for code, f in ((0, freq), (1, other)):
        rows = groups == code
        X[rows] = rng.binomial(2, f, (rows.sum(), n_features))
    causal = rng.choice(n_features, 100, replace=False)
    G = (X[:, causal] - X[:, causal].mean(axis=0)) / (X[:, causal].std(axis=0) + 1e-9)
    genetic = G @ rng.standard_normal(100)
    liability = 0.7 * genetic / genetic.std() + 1.0 * groups
    liability += 0.6 * rng.standard_normal(n)
    y = (liability > np.median(liability)).astype(np.int64)
    val = np.arange(WIDE_SEED, WIDE_SEED + WIDE_VALIDATION)
    task = np.setdiff1d(np.arange(n), val)
    return (X[task], y[task], groups[task]), (X[val], y[val], groups[val])


def wide_run(maker, data, seed) -> tuple[float, float, int]:
    """(seconds of the whole run, seconds of its queries, the queries whose
    batch FACA-GEN's fairness arm had a share of)."""
    X, y, groups = data
    learner = FairActiveClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000)),
        maker(),
        budget=WIDE_BUDGET,
        batch_size=WIDE_BATCH,
        initial_indices=np.arange(WIDE_SEED),
        random_state=seed,
    )
    start = time.perf_counter()
    learner.fit(X, y, sensitive_features=groups)
    seconds = time.perf_counter() - start
    queries = sum(r.get("query_seconds", 0.0) for r in learner.history_)
    shares = getattr(learner.query_strategy_, "fairness_rows_history_", [])
    return seconds, queries, int(np.count_nonzero(shares))


def measure_wide(sizes, n_features, names, repeats, seed, progress):
    rows = []  # dicts: strategy, n, seconds, queries, ratio
    for n_pool in sizes:
        data, validation = make_wide(n_pool, n_features, seed)
        made = wide_strategies(validation, seed)
        entropy = partial(wide_run, made["entropy"], data, seed)
        for name in names:
            progress(f"{name} @ {n_pool:,} x {n_features:,}")
            # Entropy's run right before, as the floor: the machine drifts.
            floor = min(entropy() for _ in range(repeats))
            if name == "entropy":
                seconds, queries, fair = floor
            else:
                seconds, queries, fair = min(
                    wide_run(made[name], data, seed) for _ in range(repeats)
                )
            rows.append({"strategy": name, "n": n_pool, "seconds": seconds,
                         "queries": queries, "fair": fair, "floor": floor[0],
                         "ratio": seconds / floor[0]})  # fmt: skip
    return rows


def wide_table(rows) -> str:
    head = ["strategy", "pool rows", "run: x entropy run", "run (s)",
            "its queries (s)", "queries with fairness-arm rows", "entropy run (s)",
            "target", "met?"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for r in rows:
        entropy = r["strategy"] == "entropy"
        cells = [
            r["strategy"],
            f"{r['n']:,}",
            f"{r['ratio']:.2f}",
            f"{r['seconds']:.2f}",
            f"{r['queries']:.2f}",
            f"{r['fair']}" if r["strategy"].startswith("FACA-GEN") else "",
            f"{r['floor']:.2f}",
            "" if entropy else f"<= {WIDE_TARGET:g}",
            "" if entropy else ("met" if r["ratio"] <= WIDE_TARGET else "**missed**"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main_wide(args, start, progress) -> None:
    names = args.strategies or list(wide_strategies(None, 0))
    sizes = args.sizes or [10_000]
    rows = measure_wide(
        sizes, args.n_features, names, args.repeats, args.seed, progress
    )
    out = Path(args.out or RESULTS / "scale_wide.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/scale.py " + " ".join(sys.argv[1:])
    text = (
        f"Made by `{command.strip()}` in {(time.perf_counter() - start) / 60:.1f} "
        f"min: whole runs on genotype pools of {args.n_features:,} features, "
        f"{WIDE_SEED} seed labels and {WIDE_BUDGET} bought in batches of "
        f"{WIDE_BATCH} (StandardScaler, LogisticRegression(C=0.05)); each run "
        "as a ratio to an entropy-sampling run measured right before it (best "
        f"of {args.repeats}).\n\n" + wide_table(rows) + "\n"
    )
    out.write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--strategies", nargs="+", default=None)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--wide", action="store_true", help="whole runs on wide genotype pools"
    )
    parser.add_argument("--n-features", type=int, default=WIDE_FEATURES)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()

    def progress(text):
        print(
            f"[{time.perf_counter() - start:7.1f} s] {text}",
            file=sys.stderr,
            flush=True,
        )

    if args.wide:
        main_wide(args, start, progress)
        return
    args.sizes = args.sizes or [1_000, 10_000, 100_000, 1_000_000]
    args.out = args.out or str(RESULTS / "scale.md")
    # The superlinear FAL rows are measured on purpose.
    warnings.filterwarnings("ignore", category=QueryCostWarning)
    names = args.strategies or [
        *strategies(None, 0),
        "panda (selection)",
    ]
    rows = measure(args.sizes, names, args.max_seconds, args.seed, progress)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/scale.py " + " ".join(sys.argv[1:])
    text = (
        f"Made by `{command.strip()}` in {(time.perf_counter() - start) / 60:.1f} "
        f"min: one query of {BATCH} rows, pools of {N_FEATURES} features; time as "
        "a ratio to one predict_proba over the same pool (seconds in brackets).\n\n"
        + table(rows, args.sizes)
        + "\n"
    )
    out.write_text(text)
    plot(rows, out.with_suffix(".png"))
    print(text)


if __name__ == "__main__":
    main()
