"""The main job: a fairness report of baseline models on the embedded real data.

Run it with ``python -m skfairal demo`` (or ``python3 dev.py demo`` from a
clone). It prints tables and writes a PNG figure.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .datasets import load_1000genomes, load_adult
from .metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
    error_rate_balance_difference,
    group_report,
    optimal_transport_distance,
)
from .utils import import_optional

_DISPARITIES = {
    "DP difference": demographic_parity_difference,
    "EO difference": equalized_odds_difference,
    "error-rate gap": error_rate_balance_difference,
}


def _section(title: str) -> None:
    print(f"\n{title}\n{'=' * len(title)}", flush=True)


def adult_report(random_state: int = 0) -> dict:
    """Fit a logistic regression on the UCI train split, report on the test split."""
    bunch = load_adult(as_frame=True)
    X, y = bunch.data, bunch.target.to_numpy()
    test = bunch.is_test
    model = make_pipeline(
        ColumnTransformer(
            [
                (
                    "cat",
                    OneHotEncoder(handle_unknown="ignore"),
                    bunch.categorical_features,
                ),
                ("num", StandardScaler(), bunch.numerical_features),
            ]
        ),
        LogisticRegression(max_iter=2000, random_state=random_state),
    )
    model.fit(X[~test], y[~test])
    y_pred = model.predict(X[test])
    y_score = model.predict_proba(X[test])[:, 1]
    y_true = y[test]
    accuracy = float(np.mean(y_pred == y_true))
    reports, summary = {}, []
    for attribute in bunch.sensitive_feature_names:
        groups = bunch.sensitive_features[attribute].to_numpy()[test]
        reports[attribute] = group_report(y_true, y_pred, sensitive_features=groups)
        row = {"attribute": attribute}
        for name, metric in _DISPARITIES.items():
            row[name] = metric(y_true, y_pred, sensitive_features=groups)
        row["OT distance"] = optimal_transport_distance(
            y_true, y_score, sensitive_features=groups
        )
        summary.append(row)
    return {
        "n_train": int((~test).sum()),
        "n_test": int(test.sum()),
        "accuracy": accuracy,
        "reports": reports,
        "summary": summary,
    }


def genomes_report(random_state: int = 0) -> dict:
    """Ancestry inference from genotypes: 10 PCs + logistic regression, 5-fold CV."""
    bunch = load_1000genomes()
    pcs = PCA(n_components=10, svd_solver="randomized", random_state=random_state)
    embedding = pcs.fit_transform(bunch.data.astype(np.float32))
    super_pop = bunch.target
    cv = StratifiedKFold(5, shuffle=True, random_state=random_state)
    predicted = cross_val_predict(
        LogisticRegression(max_iter=2000), embedding, super_pop, cv=cv
    )
    correct = predicted == super_pop
    names = list(bunch.sensitive_feature_names)
    gender = bunch.sensitive_features[:, names.index("gender")]
    rows = []
    for label, column in (("super_pop", super_pop), ("gender", gender)):
        for group in np.unique(column):
            mask = column == group
            rows.append(
                (label, str(group), int(mask.sum()), float(correct[mask].mean()))
            )
    return {
        "shape": bunch.data.shape,
        "accuracy": float(correct.mean()),
        "rows": rows,
        "embedding": embedding[:, :2],
        "super_pop": super_pop,
    }


def _plot(adult: dict, genomes: dict, path: Path) -> None:
    plt = import_optional(
        "matplotlib.pyplot", purpose="the demo's figure", extra="bench"
    )
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, (attribute, report) in zip(axes[:2], adult["reports"].items()):
        labels = [str(g) for g in report.groups]
        x = np.arange(len(labels))
        for k, column in enumerate(("selection_rate", "tpr", "fpr")):
            ax.bar(x + (k - 1) * 0.27, report[column], width=0.27, label=column)
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"Adult, logistic regression: rates by {attribute}")
        ax.legend(fontsize=8)
    ax = axes[2]
    for pop in np.unique(genomes["super_pop"]):
        mask = genomes["super_pop"] == pop
        ax.scatter(*genomes["embedding"][mask].T, s=4, label=pop)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("1000 Genomes: genotype PCs by super-population")
    ax.legend(fontsize=8, markerscale=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m skfairal demo",
        description="Fairness report of baseline models on Adult and 1000 Genomes.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("demo_output"), help="folder for the figure"
    )
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    _section("Adult (UCI): logistic regression, train split -> test split")
    adult = adult_report(args.random_state)
    print(
        f"{adult['n_train']} training rows, {adult['n_test']} test rows, "
        f"test accuracy {adult['accuracy']:.3f}"
    )
    for attribute, report in adult["reports"].items():
        print(f"\nby {attribute}:\n{report}")
    print("\nDisparities on the test split (between groups; 0 is parity):")
    header = list(adult["summary"][0])
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * len(header)) + "|")
    for row in adult["summary"]:
        cells = [row["attribute"]] + [f"{row[h]:.3f}" for h in header[1:]]
        print("| " + " | ".join(cells) + " |")

    _section(
        "1000 Genomes: ancestry from genotypes (10 PCs, logistic regression, 5-fold CV)"
    )
    genomes = genomes_report(args.random_state)
    n, p = genomes["shape"]
    print(f"{n} samples x {p} SNPs, cross-validated accuracy {genomes['accuracy']:.3f}")
    print("\n| grouped by | group | n | accuracy |\n|---|---|---:|---:|")
    for label, group, count, acc in genomes["rows"]:
        print(f"| {label} | {group} | {count} | {acc:.3f} |")

    figure = args.out / "fairness_report.png"
    _plot(adult, genomes, figure)
    print(f"\nfigure written to {figure}  ({time.perf_counter() - start:.1f} s in all)")
    return 0
