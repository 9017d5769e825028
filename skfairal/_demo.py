"""The main job: fair active learning on the embedded Adult data.

Run it with ``python -m skfairal demo`` (or ``python3 dev.py demo`` from a
clone). A logistic regression starts from a small seed set with few women,
then each strategy buys ``budget`` labels in batches from the UCI training
split; after every batch the model is scored on the UCI test split. The job
prints a table (mean +- std over seeds) and writes a PNG of F1 and
demographic-parity difference against the number of labels. Beside the
strategies it scores what a practitioner would do instead: entropy
sampling's labeled rows, then fairlearn's ``ExponentiatedGradient`` under a
demographic-parity constraint (the row ``entropy + fairlearn EG (DP)``).
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ._experiment import (
    METRICS,
    Task,
    evaluate,
    run_active_learning,
    score_predictions,
)
from .datasets import load_adult
from .utils import import_optional

STRATEGIES = ("random", "entropy", "group_aware_random", "fal", "falcon")
MITIGATED = "entropy + fairlearn EG (DP)"


def load_adult_task() -> Task:
    """Adult, one-hot encoded and scaled, split as UCI does; groups are ``sex``."""
    bunch = load_adult(as_frame=True)
    encoder = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), bunch.categorical_features),
            ("num", StandardScaler(), bunch.numerical_features),
        ],
        sparse_threshold=0.0,
    )
    # Unsupervised preprocessing fitted on the training split only.
    train, test = ~bunch.is_test, bunch.is_test
    X_train = encoder.fit_transform(bunch.data[train])
    X_test = encoder.transform(bunch.data[test])
    y = bunch.target.to_numpy()
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    return Task(X_train, y[train], sex[train], X_test, y[test], sex[test], "Adult")


def mitigated_scores(task: Task, rows, seed: int) -> list[float]:
    """The METRICS of fairlearn's ExponentiatedGradient(DP) fitted on ``rows``.

    The practitioner's alternative to a fair query strategy: the same labels,
    then a mitigation. Its scores for the OT distance are the randomised
    classifier's probabilities of the positive class.
    """
    reductions = import_optional(
        "fairlearn.reductions", purpose="the demo's mitigation row", extra="bench"
    )
    model = reductions.ExponentiatedGradient(
        LogisticRegression(max_iter=1000), reductions.DemographicParity()
    )
    model.fit(task.X[rows], task.y[rows], sensitive_features=task.groups[rows])
    y_pred = model.predict(task.X_test, random_state=seed)
    y_score = model._pmf_predict(task.X_test)[:, 1]
    return score_predictions(task, y_pred, y_score)


def women_poor_seed(groups, n_men: int, n_women: int, rng) -> np.ndarray:
    """Row indices of a seed set with ``n_men`` men and ``n_women`` women."""
    men = rng.choice(np.flatnonzero(groups == "Male"), n_men, replace=False)
    women = rng.choice(np.flatnonzero(groups == "Female"), n_women, replace=False)
    return np.concatenate([men, women])


def run_experiment(
    strategies=STRATEGIES,
    seeds=(0, 1, 2),
    *,
    budget: int = 400,
    batch_size: int = 20,
    n_men: int = 45,
    n_women: int = 5,
    progress: bool = True,
) -> dict:
    """Every strategy over every seed.

    ``scores[strategy]`` has shape (n_seeds, n_rounds + 1, n_metrics).
    """
    task = load_adult_task()
    rounds = budget // batch_size
    bar = None
    if progress:
        tqdm = import_optional("tqdm", purpose="the demo's progress bar").tqdm
        bar = tqdm(total=len(strategies) * len(seeds) * rounds, unit="round")
    scores, n_labels, mitigated = {}, None, []
    for strategy in strategies:
        runs = []
        for seed in seeds:
            if bar is not None:
                bar.set_description(f"{strategy}, seed {seed}")
            rng = np.random.RandomState(seed)
            seed_rows = women_poor_seed(task.groups, n_men, n_women, rng)
            result = run_active_learning(
                LogisticRegression(max_iter=1000),
                strategy,
                task,
                seed_rows,
                budget=budget,
                batch_size=batch_size,
                seed=seed,
                on_round=None if bar is None else bar.update,
            )
            n_labels = result.n_labels
            runs.append(np.asarray(result.scores))
            if strategy == "entropy":
                rows = np.concatenate([seed_rows, result.bought])
                mitigated.append(mitigated_scores(task, rows, seed))
        scores[strategy] = np.stack(runs)
    if bar is not None:
        bar.close()
    full = LogisticRegression(max_iter=1000).fit(task.X, task.y)
    return {
        "n_labels": np.asarray(n_labels),
        "scores": scores,
        "all_labels": evaluate(full, task),
        # (n_seeds, n_metrics) at the final budget; absent without "entropy".
        "mitigated": np.asarray(mitigated),
        "n_train": len(task.y),
        "n_test": len(task.y_test),
    }


def results_table(results: dict) -> str:
    """Markdown table of the final round, mean +- std over seeds."""
    header = ["strategy", "labels", *METRICS]
    lines = ["| " + " | ".join(header) + " |", "|---|---:|" + "---:|" * len(METRICS)]
    final_labels = results["n_labels"][-1]
    for strategy, scores in results["scores"].items():
        final = scores[:, -1, :]
        cells = [
            f"{m:.3f} +- {s:.3f}" for m, s in zip(final.mean(axis=0), final.std(axis=0))
        ]
        lines.append(f"| {strategy} | {final_labels} | " + " | ".join(cells) + " |")
    mitigated = results.get("mitigated", np.empty((0, 0)))
    if len(mitigated):
        cells = [
            f"{m:.3f} +- {s:.3f}"
            for m, s in zip(mitigated.mean(axis=0), mitigated.std(axis=0))
        ]
        lines.append(f"| {MITIGATED} | {final_labels} | " + " | ".join(cells) + " |")
    cells = [f"{v:.3f}" for v in results["all_labels"]]
    lines.append(f"| all labels | {results['n_train']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_results(results: dict, path: Path) -> None:
    """F1 and DP difference against the number of labels, mean +- std bands."""
    plt = import_optional("matplotlib.pyplot", purpose="the demo's plot", extra="bench")
    n_labels = results["n_labels"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, k, title in zip(
        axes, (0, 2), ("F1 on the test split", "demographic-parity difference (sex)")
    ):
        for strategy, scores in results["scores"].items():
            mean, std = scores[:, :, k].mean(axis=0), scores[:, :, k].std(axis=0)
            ax.plot(n_labels, mean, label=strategy)
            ax.fill_between(n_labels, mean - std, mean + std, alpha=0.2, lw=0)
        mitigated = results.get("mitigated", np.empty((0, 0)))
        if len(mitigated):
            ax.errorbar(
                n_labels[-1],
                mitigated[:, k].mean(),
                yerr=mitigated[:, k].std(),
                fmt="X",
                color="k",
                ms=9,
                label=MITIGATED,
            )
        ax.axhline(results["all_labels"][k], color="k", ls=":", label="all labels")
        ax.set_xlabel("labeled rows")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Adult: active learning from a women-poor seed set")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m skfairal demo",
        description="Fair active learning on the embedded Adult data.",
    )
    parser.add_argument("--out", type=Path, default=Path("demo_output"))
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds")
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    results = run_experiment(
        args.strategies,
        range(args.seeds),
        budget=args.budget,
        batch_size=args.batch_size,
        progress=not args.no_progress,
    )
    table = results_table(results)
    print(
        f"\nAdult: logistic regression from a seed of 45 men and 5 women, "
        f"{args.budget} labels in batches of {args.batch_size} from "
        f"{results['n_train']} training rows; scores on the {results['n_test']} "
        f"test rows, groups = sex, mean +- std over {args.seeds} seed(s).\n"
    )
    print(table)
    (args.out / "results.md").write_text(table + "\n")
    figure = args.out / "active_learning_adult.png"
    plot_results(results, figure)
    print(f"\nwrote {figure} and {args.out / 'results.md'}")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0
