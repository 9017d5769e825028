"""The frontier: every strategy against what a practitioner would do instead.

    OMP_NUM_THREADS=1 python benchmarks/frontier.py --seeds 5 --jobs 2
    python benchmarks/frontier.py --quick            # a few minutes, 1 seed
    python benchmarks/frontier.py --report-only      # tables from frontier.json

A user who can buy N labels has an obvious alternative to a fair query
strategy: entropy (or random) sampling, then a mitigation from fairlearn on
the labeled rows: ``ExponentiatedGradient(LogisticRegression(),
DemographicParity() | EqualizedOdds())`` or
``ThresholdOptimizer(constraints="demographic_parity" | "equalized_odds")``.
This script puts both on one accuracy / fairness plane.

Datasets (each seed draws its own split): Adult (sex; a pool of 10,000 rows
and 5,000 test rows drawn from the 32,561), COMPAS (sex; when its file is
in ``$SKFAIRAL_DATA`` or ``../shared/data``; 70 / 30), the 1000 Genomes
trait of :func:`~skfairal.datasets.make_1000genomes_trait` (European or not;
2,000 SNPs of which 100 causal; 70 / 30, stratified by super-population) and
a synthetic :func:`~skfairal.datasets.make_biased_classification` problem
(6,000 rows, 70 / 30). Features are one-hot and standardised as a user
would. The learner is ``LogisticRegression(max_iter=1000)``.

Protocol: a **biased seed set** of 40 labels, the smaller group at 10 % of it
(4 rows), then labels bought in batches of 10 through the estimator's own
simulation (``FairActiveClassifier.fit`` with ``budget``), scored at budgets
100, 200 and 400. No strategy gets labels beyond its budget: strategies that
take a validation set (Falcon, min-max, FACA-GEN) use the learner's labeled
rows, as they do when typed by name. The mitigation rows refit on the rows
entropy (or random) sampling bought, with their groups; "all labels" is the
logistic regression on the whole pool, the ceiling.

Writes to ``benchmarks/results/``: ``frontier.json`` (every seed's scores),
``frontier.md`` (per dataset and budget the table, the Pareto fronts for DP
and EO, dominance and hypervolume; the summary; the collapse flags),
``frontier_recommendation.md`` (the strategy to use per fairness metric,
chosen by the rule in ``frontier_report.py``; the docs and the README
include it), and ``frontier_<dataset>.png``.
"""

import argparse
import json
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import frontier_report
from fal import _encode

from skfairal import FairActiveClassifier
from skfairal.datasets import (
    DatasetNotFoundError,
    load_adult,
    load_compas,
    make_1000genomes_trait,
    make_biased_classification,
)
from skfairal.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
)
from skfairal.query import (
    DFA2LSampling,
    FACAGENSampling,
    FalconSampling,
    FALSampling,
    MinMaxSampling,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SEED_SIZE, SEED_MINORITY, BATCH = 40, 4, 10
BUDGETS = (100, 200, 400)


def _model():
    return LogisticRegression(max_iter=1000)


# -- datasets ------------------------------------------------------------------


def _data_home():
    return os.environ.get("SKFAIRAL_DATA") or ROOT.parent / "shared" / "data"


def adult(seed):
    bunch = load_adult(as_frame=True)
    X = _encode(bunch.data, bunch.categorical_features, bunch.numerical_features)
    groups = bunch.sensitive_features["sex"].astype(str).to_numpy()
    rows = np.random.RandomState(seed).permutation(len(groups))[:15000]
    return X[rows], bunch.target.to_numpy()[rows], groups[rows], 10000


def compas(seed):
    bunch = load_compas(data_home=_data_home(), as_frame=True)
    frame = bunch.data
    numeric = [
        "age",
        "juv_fel_count",
        "juv_misd_count",
        "juv_other_count",
        "priors_count",
    ]
    categorical = ["c_charge_degree", "race", "sex"]
    X = _encode(frame, categorical, numeric)
    groups = bunch.sensitive_features["sex"].astype(str).to_numpy()
    rows = np.random.RandomState(seed).permutation(len(groups))
    return X[rows], bunch.target.to_numpy()[rows], groups[rows], int(0.7 * len(rows))


def genomes(seed, n_snps=2000):
    trait = make_1000genomes_trait(100, random_state=seed)
    rng = np.random.RandomState(seed)
    others = np.setdiff1d(np.arange(trait.data.shape[1]), trait.causal_snps)
    columns = rng.permutation(
        np.concatenate(
            [trait.causal_snps, rng.choice(others, n_snps - 100, replace=False)]
        )
    )
    X = StandardScaler().fit_transform(np.asarray(trait.data[:, columns], float))
    pool, test = train_test_split(
        np.arange(len(trait.target)),
        test_size=0.3,
        stratify=trait.super_pop,
        random_state=seed,
    )
    rows = np.concatenate([pool, test])
    return X[rows], trait.target[rows], trait.european[rows], len(pool)


def synthetic(seed):
    X, y, groups = make_biased_classification(6000, n_features=10, random_state=seed)
    return X, y, np.asarray(groups), 4200


DATASETS = {
    "adult": ("Adult", adult),
    "compas": ("COMPAS", compas),
    "genomes": ("1000 Genomes trait", genomes),
    "synthetic": ("synthetic", synthetic),
}


def biased_seed_rows(y, groups, seed) -> np.ndarray:
    """SEED_SIZE pool rows, SEED_MINORITY of them from the smaller group, with
    both classes among them."""
    names, counts = np.unique(groups, return_counts=True)
    minority = names[np.argmin(counts)]
    rng = np.random.RandomState(seed)
    for _ in range(100):
        rows = np.concatenate(
            [
                rng.choice(np.flatnonzero(groups == minority), SEED_MINORITY, False),
                rng.choice(
                    np.flatnonzero(groups != minority), SEED_SIZE - SEED_MINORITY, False
                ),
            ]
        )
        if len(np.unique(y[rows])) == 2:
            return rows
    raise RuntimeError("no seed set with both classes in 100 draws")


# -- the rows of the table -------------------------------------------------------

# name -> (what the learner gets as query_strategy, the knob's family).
# The first row of a family is the string name as a user types it.
STRATEGIES = {
    "random": lambda: "random",
    "entropy": lambda: "entropy",
    "group_aware_random": lambda: "group_aware_random",
    "fal": lambda: "fal",
    "fal alpha=0.3": lambda: FALSampling(alpha=0.3),
    "fal alpha=0.9": lambda: FALSampling(alpha=0.9),
    "falcon": lambda: "falcon",
    "falcon lam=0.5": lambda: FalconSampling(lam=0.5),
    "falcon metric=EO": lambda: FalconSampling("equalized_odds"),
    "facagen": lambda: "facagen",
    "facagen target=0.01": lambda: FACAGENSampling(target=0.01),
    "facagen target=0.2": lambda: FACAGENSampling(target=0.2),
    "facagen controller=dual": lambda: FACAGENSampling(controller="dual"),
    "facagen arms=no_causal": lambda: FACAGENSampling(
        arms=("informativeness", "fairness")
    ),
    "panda": lambda: "panda",
    "d_fa2l": lambda: "d_fa2l",
    "d_fa2l alpha=0.1": lambda: DFA2LSampling(alpha=0.1),
    "d_fa2l alpha=0.4": lambda: DFA2LSampling(alpha=0.4),
    "min_max": lambda: "min_max",
    "min_max p=0.5": lambda: MinMaxSampling(p=0.5),
    "fis": lambda: "fis",
    "fal_cur": lambda: "fal_cur",
    # Constraint mode: the learner's base is the fairlearn mitigation itself,
    # refit on the labeled rows every round, and the strategy reads it.
    "constrained_margin EG DP .05": lambda: "constrained_margin",
    # No "EG EO .05" row: ExponentiatedGradient under EqualizedOdds refit
    # every round cost 950 s per seed on the 1000 Genomes trait (2,000
    # features), 100-115 s on Adult and COMPAS.
    "constrained_margin TO DP .05": lambda: "constrained_margin",
    "constrained_margin TO EO": lambda: "constrained_margin",
}
# The base of the constraint-mode rows: the mitigation kind after the name.
CONSTRAINED = {
    name: " ".join(w for w in name.split()[1:] if "=" not in w)
    for name in STRATEGIES
    if " EG " in name or " TO " in name
}
QUICK = ["random", "entropy", "fal", "falcon", "facagen", "d_fa2l", "min_max"]
# The practitioner's alternatives, fitted on a sampler's labeled rows.
# "EG DP" is fairlearn's default bound (0.01); ".05" the tolerance a user
# with a requirement "difference <= 0.05" sets. ThresholdOptimizer relaxes
# demographic parity only ("Relaxed constraints are not supported for
# equalized odds", fairlearn 0.15), so "TO EO" is its one EO setting.
MITIGATIONS = (
    "EG DP",
    "EG EO",
    "TO DP",
    "TO EO",
    "EG DP .05",
    "EG EO .05",
    "TO DP .05",
)
SAMPLERS = ("entropy", "random")
CEILING = "all labels"
SCORES = ("accuracy", "F1", "ROC AUC", "DP", "EO", "positive rate")
COLUMNS = (
    "accuracy",
    "F1",
    "ROC AUC",
    "DP",
    "EO",
    "positive rate",
    "minority share of picks",
    "seconds",
    "mitigation failed",
)


def scores(y_test, y_pred, y_score, groups_test) -> dict:
    kwargs = {"sensitive_features": groups_test}
    return {
        "accuracy": accuracy_score(y_test, y_pred),
        "F1": f1_score(y_test, y_pred),
        "ROC AUC": np.nan if y_score is None else roc_auc_score(y_test, y_score),
        "DP": demographic_parity_difference(y_test, y_pred, **kwargs),
        "EO": equalized_odds_difference(y_test, y_pred, **kwargs),
        "positive rate": float(np.mean(y_pred)),
    }


def mitigation(kind):
    """The unfitted fairlearn model of a kind such as "EG DP" or "TO DP .05"."""
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import (
        DemographicParity,
        EqualizedOdds,
        ExponentiatedGradient,
    )

    family, constraint, *tolerance = kind.split()
    if family == "EG":
        moment = DemographicParity if constraint == "DP" else EqualizedOdds
        bound = {"difference_bound": float(tolerance[0])} if tolerance else {}
        return ExponentiatedGradient(_model(), moment(**bound))
    return ThresholdOptimizer(
        estimator=_model(),
        constraints="demographic_parity" if constraint == "DP" else "equalized_odds",
        predict_method="predict_proba",
        tol=float(tolerance[0]) if tolerance else None,
    )


def mitigate(kind, X, y, groups, test, seed) -> dict:
    """Fit fairlearn's mitigation ``kind`` on (X, y, groups); score on test."""
    from fairlearn.reductions import ExponentiatedGradient

    X_test, y_test, groups_test = test
    model = mitigation(kind)
    model.fit(X, y, sensitive_features=groups)
    if isinstance(model, ExponentiatedGradient):
        y_pred = model.predict(X_test, random_state=seed)
        y_score = model._pmf_predict(X_test)[:, 1]
    else:
        y_pred = model.predict(
            X_test, sensitive_features=groups_test, random_state=seed
        )
        y_score = None  # a randomised threshold has no score to rank by
    return scores(y_test, y_pred, y_score, groups_test)


def warm_up(y, groups, seed_rows, bought) -> np.ndarray:
    """The fewest batches of ``bought`` after which every group of the
    labeled rows holds both classes."""
    for k in range(0, len(bought) + 1, BATCH):
        labeled = np.concatenate([seed_rows, bought[:k]])
        if all(
            len(np.unique(y[labeled][groups[labeled] == g])) == 2
            for g in np.unique(groups)
        ):
            return bought[:k]
    raise ValueError("a group never holds both classes within the budget")


def run_strategy(name, X, y, groups, seed_rows, test, budgets, seed, prior=()) -> dict:
    """{budget: scores} of one strategy, and the rows it bought by then
    (``prior``: rows another strategy bought first, within the budget)."""
    minority = np.unique(groups, return_counts=True)
    minority = minority[0][np.argmin(minority[1])]
    results, bought = {}, [*np.asarray(prior).tolist()]
    start = time.perf_counter()

    def record(learner, entry):
        if entry["round"] == 0:
            return
        bought.extend(entry["indices"].tolist())
        if len(bought) in budgets:
            X_test, y_test, groups_test = test
            # A constrained base predicts with the groups (ThresholdOptimizer
            # needs them); a randomised threshold has no score to rank by.
            at = {"sensitive_features": groups_test} if constrained else {}
            y_score = (
                None
                if constrained.startswith("TO")
                else (learner.predict_proba(X_test, **at)[:, 1])
            )
            row = scores(y_test, learner.predict(X_test, **at), y_score, groups_test)
            row["minority share of picks"] = float(np.mean(groups[bought] == minority))
            row["seconds"] = time.perf_counter() - start
            row["n postponed"] = int(entry["n_postponed"])
            row["mitigation failed"] = 0.0
            row["entropy warm-up"] = len(prior)
            results[len(bought)] = row

    constrained = CONSTRAINED.get(name, "")
    learner = FairActiveClassifier(
        mitigation(constrained) if constrained else _model(),
        STRATEGIES[name](),
        budget=max(budgets) - len(prior),
        batch_size=BATCH,
        initial_indices=np.concatenate([seed_rows, prior]).astype(int),
        on_round=record,
        random_state=seed,
    )
    learner.fit(X, y, sensitive_features=groups)
    return results, np.asarray(bought)


def run_seed(dataset, names, budgets, seed, samplers=True) -> dict:
    """{row name: {budget: scores}} of every strategy, mitigation and the
    ceiling on one seed's split of ``dataset``."""
    X, y, groups, n_pool = DATASETS[dataset][1](seed)
    test = (X[n_pool:], y[n_pool:], groups[n_pool:])
    X, y, groups = X[:n_pool], y[:n_pool], groups[:n_pool]
    seed_rows = biased_seed_rows(y, groups, seed)
    rows, boughts = {}, {}
    with warnings.catch_warnings():
        # A refit on 40 rows may not converge; the verdict is at the budget.
        warnings.simplefilter("ignore")
        for name in names:
            try:
                rows[name], bought = run_strategy(
                    name, X, y, groups, seed_rows, test, budgets, seed
                )
            except ValueError:
                if name not in CONSTRAINED:
                    raise
                # fairlearn refuses the seed set (ThresholdOptimizer: a group
                # with one class). A user labels with entropy sampling until
                # it accepts the rows, within the same budget.
                if "entropy" not in boughts:  # --update reruns no sampler
                    entropy, boughts["entropy"] = run_strategy(
                        "entropy", X, y, groups, seed_rows, test, budgets, seed
                    )
                    rows.setdefault("entropy", entropy)
                warm = warm_up(y, groups, seed_rows, boughts["entropy"])
                rows[name], bought = {}, warm
                if len(warm) < max(budgets):
                    rows[name], bought = run_strategy(
                        name, X, y, groups, seed_rows, test, budgets, seed, prior=warm
                    )
                for budget in budgets:
                    if budget not in rows[name]:  # spent on the warm-up
                        rows[name][budget] = {
                            **rows["entropy"][budget],
                            "mitigation failed": 1.0,
                        }
            boughts[name] = bought
            seconds = rows[name][max(budgets)]["seconds"]
            print(f"{dataset} seed {seed}: {name} {seconds:.1f} s", file=sys.stderr)
            if not samplers or name not in SAMPLERS:
                continue
            for budget in budgets:
                labeled = np.concatenate([seed_rows, bought[:budget]])
                for kind in MITIGATIONS:
                    start = time.perf_counter()
                    base = rows[name][budget]
                    try:
                        row = mitigate(
                            kind, X[labeled], y[labeled], groups[labeled], test, seed
                        )
                        row["mitigation failed"] = 0.0
                    except ValueError:
                        # fairlearn refuses, e.g. a group with one class among
                        # the labeled rows: the practitioner keeps the plain
                        # model, and the table counts the failure.
                        row = {k: base[k] for k in SCORES}
                        row["mitigation failed"] = 1.0
                    row["minority share of picks"] = base["minority share of picks"]
                    row["seconds"] = base["seconds"] + time.perf_counter() - start
                    rows.setdefault(f"{name} + {kind}", {})[budget] = row
        if not samplers:
            return {"dataset": dataset, "seed": seed, "rows": rows}
        start = time.perf_counter()
        model = _model().fit(X, y)
        ceiling = scores(
            test[1], model.predict(test[0]), model.predict_proba(test[0])[:, 1], test[2]
        )
        ceiling["minority share of picks"] = np.nan
        ceiling["seconds"] = time.perf_counter() - start
        ceiling["mitigation failed"] = 0.0
        rows[CEILING] = dict.fromkeys(budgets, ceiling)
    prevalence = float(np.mean(test[1]))
    return {"dataset": dataset, "seed": seed, "prevalence": prevalence, "rows": rows}


def available(datasets) -> list[str]:
    """The datasets whose files are here (COMPAS is never embedded)."""
    out = []
    for dataset in datasets:
        if dataset == "compas":
            try:
                load_compas(data_home=_data_home())
            except DatasetNotFoundError as exc:
                print(f"skipping COMPAS: {exc}", file=sys.stderr)
                continue
        out.append(dataset)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--strategies", nargs="+", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--update",
        action="store_true",
        help="rerun only --strategies and replace their rows in frontier.json",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    raw_path = args.out / "frontier.json"
    if args.report_only:
        raw = json.loads(raw_path.read_text())
    elif args.update:
        raw = update(json.loads(raw_path.read_text()), args)
        raw_path.write_text(json.dumps(raw, indent=1))
    else:
        # Through JSON and back, so a fresh run and --report-only read the
        # same thing (budgets as string keys).
        raw = json.loads(json.dumps(run(args), default=float))
        raw_path.write_text(json.dumps(raw, indent=1))
    frontier_report.write(raw, args.out)
    print(f"wrote {args.out / 'frontier.md'}", file=sys.stderr)


def update(raw, args) -> dict:
    """``raw`` with the rows of ``args.strategies`` rerun on its datasets,
    seeds and budgets (after a change to those strategies only)."""
    if not args.strategies:
        raise SystemExit("--update needs --strategies")
    if set(args.strategies) & set(SAMPLERS):
        raise SystemExit("--update cannot rerun the samplers the mitigations use")
    from joblib import Parallel, delayed

    budgets = tuple(raw["budgets"])
    seeds = sorted({r["seed"] for r in raw["runs"]})
    jobs = [(d, s) for d in raw["datasets"] for s in seeds]
    fresh = Parallel(n_jobs=args.jobs)(
        delayed(run_seed)(d, args.strategies, budgets, s, samplers=False)
        for d, s in jobs
    )
    fresh = json.loads(json.dumps(fresh, default=float))
    by_key = {(r["dataset"], r["seed"]): r for r in fresh}
    for run_ in raw["runs"]:
        rows = by_key[run_["dataset"], run_["seed"]]["rows"]
        run_["rows"].update({n: rows[n] for n in args.strategies})
    known = {*raw["names"], *args.strategies}
    raw["names"] = [n for n in STRATEGIES if n in known]
    # Rows of strategies no longer in the table (a renamed knob) go.
    keep = {*raw["names"], *raw["mitigations"], raw["ceiling"], *SAMPLERS}
    for run_ in raw["runs"]:
        run_["rows"] = {n: r for n, r in run_["rows"].items() if n in keep}
    raw["command"] += " && python benchmarks/frontier.py --update --strategies " + (
        shlex.join(args.strategies)
    )
    return raw


def run(args) -> dict:
    from joblib import Parallel, delayed
    from tqdm import tqdm

    names = args.strategies or (QUICK if args.quick else list(STRATEGIES))
    unknown = sorted(set(names) - set(STRATEGIES))
    if unknown:
        raise SystemExit(
            f"unknown strategies {unknown}; choose from {list(STRATEGIES)}"
        )
    for sampler in SAMPLERS:
        if sampler not in names:
            names = [sampler, *names]
    budgets = (100,) if args.quick else BUDGETS
    seeds = 1 if args.quick else args.seeds
    datasets = available(["synthetic", "compas"] if args.quick else args.datasets)
    jobs = [(d, s) for d in datasets for s in range(seeds)]
    start = time.perf_counter()
    results = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(run_seed)(d, names, budgets, s) for d, s in jobs
    )
    per_seed = list(tqdm(results, total=len(jobs), desc="dataset x seed", unit="run"))
    command = "python benchmarks/frontier.py " + " ".join(
        sys.argv[1:] if argv_is_cli() else []
    )
    return {
        "command": command.strip(),
        "seconds": time.perf_counter() - start,
        "budgets": list(budgets),
        "datasets": {d: DATASETS[d][0] for d in datasets},
        "names": names,
        "mitigations": [f"{s} + {k}" for s in SAMPLERS for k in MITIGATIONS],
        "ceiling": CEILING,
        "columns": list(COLUMNS),
        "runs": sorted(per_seed, key=lambda r: (r["dataset"], r["seed"])),
    }


def argv_is_cli() -> bool:
    return Path(sys.argv[0]).name == "frontier.py"


if __name__ == "__main__":
    main()
