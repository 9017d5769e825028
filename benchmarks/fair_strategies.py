"""Falcon, min-max sampling and D-FA2L against the baselines, under Falcon's protocol.

    OMP_NUM_THREADS=1 python benchmarks/fair_strategies.py --seeds 10 --jobs 2
    python benchmarks/fair_strategies.py --datasets compas --seeds 2 --quick

The protocol of Tae et al. (Falcon, PVLDB 2024) on COMPAS: sex is the
sensitive attribute, and each seed splits 4,122 random rows into 294 initial
labels, a pool of 2,356, a test set of 1,178 and a validation set of 294;
200 labels are bought one at a time, and a ``LogisticRegression`` is refit
after each. Features: age, the three juvenile counts, priors count, charge
degree, sex and race (one-hot), min-max scaled; as in AIF360's COMPAS
preprocessing, the sensitive attribute is a feature, so the model can use it
directly. Adult uses
the same split proportions on a 5,000-row sample (sex as the group, one-hot
and standardised features). COMPAS is read from ``$SKFAIRAL_DATA`` or
``../shared/data`` (never embedded).

Every strategy that uses a labeled validation set (Falcon, min-max) gets the
split's validation rows. Each fair strategy runs over its trade-off knob:
Falcon's ``lam`` (probability of a Falcon round rather than an entropy
round), min-max sampling's ``p`` (probability of a uniform pick) and
D-FA2L's ``alpha`` (disagreement threshold); FAL (fast, nested over 64
candidates, alpha = 0.5) is there for reference.

Writes ``benchmarks/results/fair_strategies.md``: per dataset, the test
accuracy, demographic-parity and equalized-odds differences after the last
label (mean +- std over seeds), the error of the group served worst (min-max
fairness's objective), the fairness scores ``1 - DP`` and ``1 - EO``
(Falcon's), the change of DP and EO against entropy sampling, the mean
query time and the end-to-end time of a run (queries and refits), both also
as a ratio to entropy sampling in the same run; and per dataset a PNG with
each method's accuracy-fairness trade-off curve over its knob (DP, EO and
worst-group error panels) and the learning curves of the default settings.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fal import _encode

from skfairal._experiment import METRICS, Task, run_active_learning
from skfairal.datasets import load_adult, load_compas
from skfairal.query import (
    DFA2LSampling,
    FalconSampling,
    FALSampling,
    MinMaxSampling,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SPLIT = (294, 2356, 1178, 294)  # initial, pool, test, validation (Falcon)

# (method, knob, values); the first value is the method's default setting.
KNOBS = {
    "falcon": ("lam", [1.0, 0.75, 0.5, 0.25]),
    "falcon_eo": ("lam", [1.0, 0.5]),
    "min_max": ("p", [0.0, 0.25, 0.5]),
    "d_fa2l": ("alpha", [0.2, 0.1, 0.4]),
}
QUICK_KNOBS = {method: (knob, values[:1]) for method, (knob, values) in KNOBS.items()}


def configurations(knobs) -> list[str]:
    """Strategy names: the baselines, FAL, then every method at every knob value."""
    names = ["random", "entropy", "fal_fast_nested64"]
    for method, (knob, values) in knobs.items():
        names += [f"{method} {knob}={v:g}" for v in values]
    return names


def make_strategy(name: str, validation, seed: int):
    if name in ("random", "entropy"):
        return name
    if name == "fal_fast_nested64":
        return FALSampling(
            alpha=0.5, method="fast", n_candidates=64, max_fairness_rows=None
        )
    method, setting = name.split(" ")
    value = float(setting.split("=")[1])
    if method == "falcon":
        return FalconSampling(lam=value, fairness_set=validation, random_state=seed)
    if method == "falcon_eo":
        return FalconSampling(
            "equalized_odds", lam=value, fairness_set=validation, random_state=seed
        )
    if method == "min_max":
        return MinMaxSampling(p=value, fairness_set=validation, random_state=seed)
    if method == "d_fa2l":
        return DFA2LSampling(alpha=value)
    raise ValueError(f"unknown strategy {name!r}")


def _split(X, y, groups, seed, name, sizes=SPLIT):
    """Random initial / pool / test / validation rows of ``sizes``."""
    order = np.random.RandomState(seed).permutation(len(y))
    bounds = np.cumsum(sizes)
    initial, pool, test, val = np.split(order[: bounds[-1]], bounds[:-1])
    train = np.concatenate([initial, pool])
    task = Task(X[train], y[train], groups[train], X[test], y[test], groups[test], name)
    return task, np.arange(len(initial)), (X[val], y[val], groups[val])


def compas_task(seed: int):
    home = os.environ.get("SKFAIRAL_DATA") or ROOT.parent / "shared" / "data"
    bunch = load_compas(data_home=home, as_frame=True)
    frame = bunch.data
    numeric = [
        "age",
        "juv_fel_count",
        "juv_misd_count",
        "juv_other_count",
        "priors_count",
    ]
    felony = (frame["c_charge_degree"].astype(str) == "F").to_numpy(float)
    male = (frame["sex"].astype(str) == "Male").to_numpy(float)
    race = OneHotEncoder(sparse_output=False).fit_transform(frame[["race"]])
    X = np.column_stack([frame[numeric].to_numpy(float), felony, male, race])
    X = MinMaxScaler().fit_transform(X)
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    return _split(X, bunch.target.to_numpy(), sex, seed, "COMPAS")


def adult_task(seed: int, n_rows: int = 5000):
    bunch = load_adult(as_frame=True)
    X = _encode(bunch.data, bunch.categorical_features, bunch.numerical_features)
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    sizes = np.round(np.array(SPLIT) / sum(SPLIT) * n_rows).astype(int)
    return _split(X, bunch.target.to_numpy(), sex, seed, "Adult", sizes)


TASKS = {"compas": compas_task, "adult": adult_task}
BUDGET = 200


def run_seed(dataset, strategies, seed, position_slots=1) -> dict:
    """Every strategy on one seed's split; {strategy: (Run, seconds)}."""
    from tqdm import tqdm

    task, initial, validation = TASKS[dataset](seed)
    runs = {}
    for name in strategies:
        bar = tqdm(
            total=BUDGET,
            desc=f"{dataset} seed {seed}: {name}",
            unit="label",
            position=seed % max(1, position_slots),
            leave=False,
            file=sys.stderr,
        )
        start = time.perf_counter()
        run = run_active_learning(
            LogisticRegression(max_iter=1000),
            make_strategy(name, validation, seed),
            task,
            initial,
            budget=BUDGET,
            batch_size=1,
            seed=seed,
            on_round=bar.update,
        )
        runs[name] = (run, time.perf_counter() - start)
        bar.close()
    return runs


def run_dataset(dataset, strategies, seeds, n_jobs=1) -> dict:
    """{strategy: [(Run, seconds) per seed]}; seeds run in ``n_jobs`` processes."""
    from joblib import Parallel, delayed

    per_seed = Parallel(n_jobs=n_jobs)(
        delayed(run_seed)(dataset, strategies, seed, n_jobs) for seed in seeds
    )
    return {s: [runs[s] for runs in per_seed] for s in strategies}


ACC, DP, EO, WORST = (
    METRICS.index(m)
    for m in ("accuracy", "DP difference", "EO difference", "worst-group error")
)


def final_scores(results) -> np.ndarray:
    return np.array([run.scores[-1] for run, _ in results])


def table(name, runs) -> str:
    header = [
        "strategy",
        "accuracy",
        "DP difference",
        "EO difference",
        "worst-group error",
        "1 - DP",
        "1 - EO",
        "DP vs entropy",
        "EO vs entropy",
        "s / query",
        "s / run",
        "run x entropy",
    ]
    lines = [
        f"### {name}",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    base = final_scores(runs["entropy"]).mean(0)
    base_run = np.mean([seconds for _, seconds in runs["entropy"]])
    for strategy, results in runs.items():
        final = final_scores(results)
        mean, std = final.mean(0), final.std(0)
        query = np.mean([np.mean(run.query_seconds) for run, _ in results])
        seconds = np.mean([s for _, s in results])
        cells = [f"{mean[k]:.3f} +- {std[k]:.3f}" for k in (ACC, DP, EO, WORST)]
        cells += [f"{1 - mean[DP]:.3f}", f"{1 - mean[EO]:.3f}"]
        cells += [f"{mean[DP] / base[DP] - 1:+.0%}", f"{mean[EO] / base[EO] - 1:+.0%}"]
        cells += [f"{query:.4f}", f"{seconds:.2f}", f"{seconds / base_run:.2f}"]
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def best_fairness(name, runs) -> str:
    """Each method's best fairness score over its knob, with its accuracy."""
    lines = [
        f"Best fairness score over each method's knob ({name}):",
        "",
        "| method | max 1 - DP | its accuracy | max 1 - EO | its accuracy |",
        "|---|---:|---:|---:|---:|",
    ]
    methods = {}
    for strategy, results in runs.items():
        methods.setdefault(strategy.split(" ")[0], []).append(final_scores(results))
    for method, finals in methods.items():
        means = np.array([f.mean(0) for f in finals])
        i, j = means[:, DP].argmin(), means[:, EO].argmin()
        lines.append(
            f"| {method} | {1 - means[i, DP]:.3f} | {means[i, ACC]:.3f} | "
            f"{1 - means[j, EO]:.3f} | {means[j, ACC]:.3f} |"
        )
    return "\n".join(lines)


def plot(name, runs, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 3, figsize=(18, 9))
    axes = [*grid[0], *grid[1]]
    colours = {}
    for k, ax in zip((DP, EO, WORST), axes[:3]):
        methods = {}
        for strategy, results in runs.items():
            methods.setdefault(strategy.split(" ")[0], []).append((strategy, results))
        for method, settings in methods.items():
            finals = [final_scores(r).mean(0) for _, r in settings]
            x = [f[k] for f in finals]
            y = [f[ACC] for f in finals]
            line = ax.plot(x, y, "o-" if len(x) > 1 else "s", label=method)[0]
            colours[method] = line.get_color()
            for (strategy, _), xi, yi in zip(settings, x, y):
                if " " in strategy:
                    knob = strategy.split(" ")[1]
                    ax.annotate(knob, (xi, yi), fontsize=7, alpha=0.8)
        ax.set_xlabel(f"{METRICS[k]} (lower is fairer)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{name}: trade-off over each knob, {BUDGET} labels", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    defaults = [s for s in runs if " " not in s] + [
        f"{m} {knob}={values[0]:g}"
        for m, (knob, values) in KNOBS.items()
        if f"{m} {knob}={values[0]:g}" in runs
    ]
    for k, ax in zip((DP, EO, ACC), axes[3:]):
        for strategy in defaults:
            results = runs[strategy]
            n_labels = results[0][0].n_labels
            scores = np.array([run.scores for run, _ in results])[:, :, k]
            ax.plot(
                n_labels,
                scores.mean(0),
                label=strategy,
                color=colours.get(strategy.split(" ")[0]),
            )
        ax.set_xlabel("labels bought")
        ax.set_title(f"{name}: {METRICS[k]}, default knobs, mean", fontsize=10)
        ax.grid(alpha=0.3)
    axes[3].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel")
    parser.add_argument(
        "--quick", action="store_true", help="each method at its default only"
    )
    parser.add_argument(
        "--out",
        default=str(RESULTS / "fair_strategies.md"),
        help="the table; the plots go beside it, named <stem>_<dataset>.png",
    )
    args = parser.parse_args()
    strategies = configurations(QUICK_KNOBS if args.quick else KNOBS)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/fair_strategies.py " + " ".join(sys.argv[1:])
    sections = [f"Made by `{command.strip()}`, {args.seeds} seeds."]
    for dataset in args.datasets:
        runs = run_dataset(dataset, strategies, range(args.seeds), args.jobs)
        name = {"compas": "COMPAS", "adult": "Adult"}[dataset]
        sections += [table(name, runs), best_fairness(name, runs)]
        plot(name, runs, out.with_name(f"{out.stem}_{dataset}.png"))
        print("\n\n".join(sections[-2:]), flush=True)
    out.write_text("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
