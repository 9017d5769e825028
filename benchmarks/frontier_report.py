"""Tables, Pareto fronts, plots and the recommendation of ``frontier.py``.

Everything here reads the raw scores ``frontier.py`` wrote
(``frontier.json``), so the report can be rebuilt without rerunning:

    python benchmarks/frontier.py --report-only

The rules, written once:

- **collapse**: a row whose mean positive rate is below half or above twice
  the test prevalence, or whose negative rate is below half the test's, is
  flagged: fairness bought by predicting one class is not fairness a user
  wants. Collapsed rows are kept in the tables but never put on a front and
  never recommended.
- **dominance**: at one budget, row A dominates row B on metric m when A's
  mean accuracy is at least B's and A's mean m at most B's, one of them
  strictly. The front is the rows no other row dominates ("all labels" is
  a reference, not a competitor: it buys every label).
- **hypervolume** of a row: the area between its (accuracy, m) point and
  the corner (worst accuracy, worst m) of the budget's rows, as a multiple
  of entropy sampling's.
- **recommendation**, per metric at the main budget: among the fair
  strategies (not random or entropy sampling, not a mitigation), the one
  that no practitioner's row (random or entropy sampling, alone or followed
  by a fairlearn mitigation) dominates, on the most datasets; ties go to
  a strategy's default setting (its string name), then the cheaper (mean
  seconds as a multiple of entropy sampling's). A row
  that is undominated only by being more accurate, its disparity no lower
  than entropy sampling's, does not count: it is not a fairness win.
"""

import re
from pathlib import Path

import numpy as np

MAIN_BUDGET = 200
# A fair strategy's verdicts on a dataset that count for its recommendation.
WINS = ("front", "undominated by practitioners")
METRICS = ("DP", "EO")
README = Path(__file__).resolve().parents[1] / "README.md"
README_MARKERS = (
    "<!-- frontier-recommendation: start -->",
    "<!-- frontier-recommendation: end -->",
)


def aggregate(raw) -> dict:
    """{dataset: {budget: {row: {column: (mean, std)}}}} and prevalences."""
    out, prevalence = {}, {}
    for dataset in raw["datasets"]:
        runs = [r for r in raw["runs"] if r["dataset"] == dataset]
        prevalence[dataset] = float(np.mean([r["prevalence"] for r in runs]))
        per_budget = {}
        for budget in raw["budgets"]:
            rows = {}
            for name in row_order(raw):
                values = [r["rows"][name][str(budget)] for r in runs]
                rows[name] = {
                    column: _mean_std([v[column] for v in values])
                    for column in raw["columns"]
                }
            per_budget[budget] = rows
        out[dataset] = per_budget
    return out, prevalence


def row_order(raw) -> list[str]:
    """Random, entropy and their mitigations, the fair strategies as listed,
    then the ceiling."""
    practitioners = [
        row
        for sampler in ("random", "entropy")
        for row in [sampler, *(m for m in raw["mitigations"] if m.startswith(sampler))]
    ]
    return [*practitioners, *fair_rows(raw), raw["ceiling"]]


def _mean_std(values) -> tuple[float, float]:
    """Mean and std over seeds; NaN where a row has no such score (a
    ThresholdOptimizer has no ROC AUC, the ceiling no picks)."""
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return float("nan"), float("nan")
    return float(np.nanmean(values)), float(np.nanstd(values))


def collapsed(row, prevalence) -> bool:
    rate = row["positive rate"][0]
    return bool(
        rate < prevalence / 2
        or rate > 2 * prevalence
        or (1 - rate) < (1 - prevalence) / 2
    )


def dominates(a, b, metric) -> bool:
    acc_a, acc_b = a["accuracy"][0], b["accuracy"][0]
    m_a, m_b = a[metric][0], b[metric][0]
    return acc_a >= acc_b and m_a <= m_b and (acc_a > acc_b or m_a < m_b)


def competitors(rows, prevalence, ceiling) -> list[str]:
    return [n for n in rows if n != ceiling and not collapsed(rows[n], prevalence)]


def front(rows, metric, prevalence, ceiling) -> list[str]:
    pool = competitors(rows, prevalence, ceiling)
    return [
        n for n in pool if not any(dominates(rows[o], rows[n], metric) for o in pool)
    ]


def dominated_by(rows, name, metric, among) -> list[str]:
    """The rows of ``among`` that dominate ``name``, the largest accuracy
    minus disparity first."""
    out = [o for o in among if o != name and dominates(rows[o], rows[name], metric)]
    return sorted(out, key=lambda o: -rows[o]["accuracy"][0] + rows[o][metric][0])


def hypervolumes(rows, metric, ceiling) -> dict:
    """Each row's hypervolume against the budget's nadir pushed out by a tenth
    of each axis's range (so the worst row still counts), over entropy's."""
    names = [n for n in rows if n != ceiling]
    accuracy = np.array([rows[n]["accuracy"][0] for n in names])
    disparity = np.array([rows[n][metric][0] for n in names])
    corner_acc = accuracy.min() - 0.1 * np.ptp(accuracy)
    corner_m = disparity.max() + 0.1 * np.ptp(disparity)

    def volume(n):
        return max(rows[n]["accuracy"][0] - corner_acc, 0) * max(
            corner_m - rows[n][metric][0], 0
        )

    reference = volume("entropy")
    return {n: volume(n) / reference if reference > 0 else np.nan for n in names}


def practitioner_rows(raw) -> list[str]:
    return ["random", "entropy", *raw["mitigations"]]


def fair_rows(raw) -> list[str]:
    return [n for n in raw["names"] if n not in ("random", "entropy")]


def _fmt(value, digits=3) -> str:
    mean, std = value
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def dataset_table(raw, rows, prevalence, budget, full=True) -> list[str]:
    ceiling = raw["ceiling"]
    fronts = {m: front(rows, m, prevalence, ceiling) for m in METRICS}
    fronts["all"] = competitors(rows, prevalence, ceiling)
    volumes = {m: hypervolumes(rows, m, ceiling) for m in METRICS}
    entropy_seconds = rows["entropy"]["seconds"][0]
    columns = [c for c in raw["columns"] if c != "mitigation failed"]
    if not full:
        columns = ["accuracy", "DP", "EO", "positive rate"]
    header = ["row", *columns]
    if full:
        header[header.index("seconds")] = "seconds (x entropy)"
    header += ["DP front", "EO front", "HV DP", "HV EO", "flag"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in rows:
        row = rows[name]
        cells = [name]
        for column in columns:
            if column not in row:
                cells.append("n/a")
            elif column == "seconds":
                s = row[column][0]
                cells.append(f"{s:.1f} ({s / entropy_seconds:.1f}x)")
            else:
                cells.append(_fmt(row[column]))
        if name == ceiling:
            cells += ["reference", "reference", "", "", ""]
        else:
            for metric in METRICS:
                if name in fronts[metric]:
                    cells.append("**front**")
                else:
                    beaten = dominated_by(rows, name, metric, fronts["all"])
                    cells.append(f"< {beaten[0]}" if beaten else "")
            cells += [f"{volumes[m][name]:.2f}" for m in METRICS]
            flags = ["collapse"] if collapsed(row, prevalence) else []
            failed = row.get("mitigation failed", (0.0, 0.0))[0]
            if failed > 0:
                flags.append(f"fairlearn failed on {failed:.0%} of seeds")
            cells.append(", ".join(flags))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def verdicts(raw, agg, prevalence, budget=MAIN_BUDGET) -> dict:
    """{metric: {row: {dataset: "front" | "collapse" | "< X" | ""}}}: the
    practitioners' verdict on each fair row (X dominates it; "" undominated
    by practitioners yet not on the whole front)."""
    practitioners = practitioner_rows(raw)
    out = {}
    for metric in METRICS:
        table = {}
        for name in fair_rows(raw):
            per = {}
            for dataset in raw["datasets"]:
                rows = agg[dataset][budget]
                if collapsed(rows[name], prevalence[dataset]):
                    per[dataset] = "collapse"
                    continue
                beaten = dominated_by(rows, name, metric, practitioners)
                if beaten:
                    per[dataset] = f"< {beaten[0]}"
                elif rows[name][metric][0] >= rows["entropy"][metric][0]:
                    # Undominated by being more accurate, not fairer: no
                    # fairness recommendation.
                    per[dataset] = "not fairer than entropy"
                elif name in front(rows, metric, prevalence[dataset], raw["ceiling"]):
                    per[dataset] = "front"
                else:
                    per[dataset] = "undominated by practitioners"
            table[name] = per
        out[metric] = table
    return out


def recommendation(raw, agg, prevalence) -> dict:
    """{metric: (row or None, datasets won, cost ratio, per-dataset verdict)}."""
    budget = MAIN_BUDGET if MAIN_BUDGET in raw["budgets"] else raw["budgets"][-1]
    table = verdicts(raw, agg, prevalence, budget)
    out = {}
    for metric in METRICS:
        best = None
        for name, per in table[metric].items():
            wins = sum(v in WINS for v in per.values())
            cost = np.mean(
                [
                    agg[d][budget][name]["seconds"][0]
                    / agg[d][budget]["entropy"]["seconds"][0]
                    for d in raw["datasets"]
                ]
            )
            # A strategy's settings cost the same up to timing noise: among
            # equal winners, the one a user gets by typing its name first.
            key = (-wins, " " in name, cost)
            if wins and (best is None or key < best[0]):
                best = (key, name, wins, cost, per)
        out[metric] = (None, 0, np.nan, {}) if best is None else tuple(best[1:])
    return out, table, budget


def default_check(raw, agg) -> list[str]:
    """Every fair strategy's default (its string name) against entropy: the
    DP and EO excess in units of the pooled seed std, at every budget."""
    defaults = [n for n in fair_rows(raw) if " " not in n]
    header = ["strategy", *raw["datasets"].values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in defaults:
        cells = [name]
        for dataset in raw["datasets"]:
            worst = []
            for budget in raw["budgets"]:
                rows = agg[dataset][budget]
                for metric in METRICS:
                    (m, s), (e, se) = rows[name][metric], rows["entropy"][metric]
                    pooled = np.sqrt((s**2 + se**2) / 2) or np.inf
                    worst.append(((m - e) / pooled, metric, budget, m - e))
            z, metric, budget, delta = max(worst)
            mark = "**above**" if z > 1 else "ok"
            cells.append(f"{mark} (worst {metric}@{budget}: {delta:+.3f}, {z:+.1f} sd)")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def recommendation_detail(raw, agg, chosen, budget) -> list[str]:
    """What each recommended row gives against entropy sampling and against
    the practitioner's row with the lowest disparity, per dataset."""
    practitioners = [n for n in practitioner_rows(raw) if n != "entropy"]
    lines = [
        "| metric | dataset | recommended: accuracy, disparity | entropy "
        "| fairest practitioner row: accuracy, disparity |",
        "|---|---|---|---|---|",
    ]
    for metric, (name, *_rest) in chosen.items():
        if name is None:
            continue
        for dataset, label in raw["datasets"].items():
            rows = agg[dataset][budget]
            best = min(practitioners, key=lambda n: rows[n][metric][0])

            def pair(n, rows=rows, metric=metric):
                acc, m = rows[n]["accuracy"][0], rows[n][metric][0]
                return f"{acc:.3f}, {m:.3f}"

            lines.append(
                f"| {metric} | {label} | {pair(name)} | {pair('entropy')} "
                f"| {best}: {pair(best)} |"
            )
    return lines


def recommendation_markdown(raw, agg, prevalence) -> str:
    chosen, table, budget = recommendation(raw, agg, prevalence)
    names = raw["datasets"]
    lines = [
        f"At a budget of {budget} labels (a biased seed of 40), per fairness "
        "metric, the fair strategy that no practitioner's row (random or "
        "entropy sampling, alone or followed by fairlearn's "
        "ExponentiatedGradient or ThresholdOptimizer) dominates on the most "
        f"datasets ({', '.join(names.values())}), counting only datasets where "
        "it is also fairer than entropy sampling; ties go to a strategy's "
        "default setting, then to the cheaper. "
        "Generated by `benchmarks/frontier.py`.",
        "",
        "| metric | use | undominated on | cost (x entropy) |",
        "|---|---|---|---|",
    ]
    for metric, (name, wins, cost, per) in chosen.items():
        if name is None:
            lines.append(
                f"| {metric} | no fair strategy: entropy sampling, then a "
                "fairlearn mitigation | 0 datasets | |"
            )
            continue
        won = [names[d] for d, v in per.items() if v in WINS]
        lines.append(
            f"| {metric} | `{name}` | {wins} of {len(names)} ({', '.join(won)}) "
            f"| {cost:.1f} |"
        )
    lines += ["", *recommendation_detail(raw, agg, chosen, budget), ""]
    for metric in METRICS:
        for dataset, label in names.items():
            winners = [n for n, per in table[metric].items() if per[dataset] in WINS]
            if not winners:
                lines.append(
                    f"- {label}, {metric}: **no fair strategy beats the "
                    "mitigation baselines**; use entropy sampling and a "
                    "fairlearn mitigation."
                )
    return "\n".join(lines).rstrip() + "\n"


def write(raw, out: Path) -> None:
    agg, prevalence = aggregate(raw)
    names = raw["datasets"]
    lines = [
        "# The frontier: strategies against entropy / random sampling + fairlearn",
        "",
        f"Command: `{raw['command']}`"
        + (
            f". {raw['note']} "
            if raw.get("note")
            else f" ({raw['seconds'] / 60:.1f} min). "
        )
        + f"Seeds: {len({r['seed'] for r in raw['runs']})}; mean ± std over seeds. "
        "LogisticRegression, a biased seed set of 40 labels (the smaller group at "
        "10 %), batches of 10. `< X`: X dominates this row (of "
        "those that do, the one with the largest accuracy minus disparity); "
        "HV: hypervolume against the worst corner (pushed out by a tenth of "
        "the range) as a multiple of entropy sampling's; collapse: positive "
        "rate outside [prevalence / 2, 2 prevalence] (or negatives below half "
        "the test's).",
        "",
        "## Recommendation",
        "",
        recommendation_markdown(raw, agg, prevalence),
        "## Summary: each fair strategy against the practitioner's rows",
        "",
    ]
    _, table, budget = recommendation(raw, agg, prevalence)
    for metric in METRICS:
        lines += [
            f"### {metric} at budget {budget}",
            "",
            "| strategy | " + " | ".join(names.values()) + " |",
            "|" + "---|" * (len(names) + 1),
        ]
        for name, per in table[metric].items():
            lines.append(f"| {name} | " + " | ".join(per[d] for d in names) + " |")
        lines.append("")
    lines += [
        "## Defaults against entropy sampling",
        "",
        "The largest excess DP or EO over entropy sampling's, at any budget, in "
        "units of the pooled std over seeds (above: more than one).",
        "",
        *default_check(raw, agg),
        "",
    ]
    for dataset, label in names.items():
        for budget in raw["budgets"]:
            full = budget == budget_main(raw)
            lines += [
                f"## {label}, budget {budget}",
                "",
                f"Test prevalence {prevalence[dataset]:.3f}.",
                "",
                *dataset_table(
                    raw, agg[dataset][budget], prevalence[dataset], budget, full
                ),
                "",
            ]
        plot(raw, agg[dataset][budget_main(raw)], prevalence[dataset], label,
             out / f"frontier_{dataset}.png")  # fmt: skip
        lines += [f"![{label}](frontier_{dataset}.png)", ""]
    if any(constraint_rows(raw).values()):
        constraint = constraint_markdown(raw, agg, budget_main(raw))
        (out / "frontier_constraint.md").write_text(constraint)
        lines[lines.index("## Defaults against entropy sampling") : 0] = [
            "## Constraint mode",
            "",
            constraint,
        ]
    (out / "frontier.md").write_text("\n".join(lines))
    recommended = recommendation_markdown(raw, agg, prevalence)
    (out / "frontier_recommendation.md").write_text(recommended)
    if out.resolve() == (README.parent / "benchmarks" / "results").resolve():
        update_readme(recommended)


# Constraint mode (issue 18): a row "<strategy> EG DP .05" drives a learner
# whose base is that fairlearn mitigation; it is measured against the
# practitioner's mitigations at the same tolerance.
CONSTRAINT_TARGET = 0.06
CONSTRAINT_BASELINES = {
    "DP": ("entropy + EG DP .05", "random + EG DP .05", "entropy + TO DP .05"),
    "EO": ("entropy + EG EO .05", "random + EG EO .05", "entropy + TO EO"),
}


def constraint_rows(raw) -> dict:
    """{metric: [constraint-mode rows]} among ``raw``'s strategies."""
    out = {metric: [] for metric in METRICS}
    for name in raw["names"]:
        words = name.split()
        if len(words) > 2 and words[1] in ("EG", "TO") and words[2] in METRICS:
            out[words[2]].append(name)
    return out


def constraint_markdown(raw, agg, budget) -> str:
    """Each constraint-mode row against the target: its test disparity at
    most CONSTRAINT_TARGET, its accuracy at least the best baseline's."""
    lines = [
        f"Constraint mode at a budget of {budget} labels: the learner's base is "
        "the fairlearn mitigation named in the row, refit on the labeled rows "
        "every round. Target: test disparity ≤ "
        f"{CONSTRAINT_TARGET} and accuracy ≥ the best of the baselines at the "
        "same tolerance (mean ± std over seeds; fairlearn's ThresholdOptimizer "
        "relaxes demographic parity only, so its EO baseline is the exact "
        "constraint). Generated by `benchmarks/frontier.py`.",
        "",
        "| dataset | row | accuracy | disparity | most accurate baseline: "
        "accuracy, disparity | most accurate baseline within the target | "
        "disparity ≤ 0.06 | accuracy ≥ most accurate baseline |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for metric, names in constraint_rows(raw).items():
        for dataset, label in raw["datasets"].items():
            rows = agg[dataset][budget]
            baselines = [b for b in CONSTRAINT_BASELINES[metric] if b in rows]
            if not baselines:
                continue
            best = max(baselines, key=lambda b: rows[b]["accuracy"][0])
            within = [b for b in baselines if rows[b][metric][0] <= CONSTRAINT_TARGET]
            feasible = "none"
            if within:
                top = max(within, key=lambda b: rows[b]["accuracy"][0])
                feasible = (
                    f"{top}: {rows[top]['accuracy'][0]:.3f}, {rows[top][metric][0]:.3f}"
                )
            for name in names:
                acc, gap = rows[name]["accuracy"], rows[name][metric]
                met = "yes" if gap[0] <= CONSTRAINT_TARGET else "**no**"
                wins = "yes" if acc[0] >= rows[best]["accuracy"][0] else "**no**"
                lines.append(
                    f"| {label} | {name} | {_fmt(acc)} | {metric} {_fmt(gap)} "
                    f"| {best}: {rows[best]['accuracy'][0]:.3f}, "
                    f"{rows[best][metric][0]:.3f} | {feasible} | {met} | {wins} |"
                )
    return "\n".join(lines) + "\n"


def budget_main(raw) -> int:
    return MAIN_BUDGET if MAIN_BUDGET in raw["budgets"] else raw["budgets"][-1]


def update_readme(text: str, readme: Path = README) -> None:
    """Replace the README's recommendation block with ``text``."""
    start, end = README_MARKERS
    content = readme.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(content):
        return
    readme.write_text(pattern.sub(lambda _: f"{start}\n{text}{end}", content))


def readme_block(readme: Path = README) -> str | None:
    start, end = README_MARKERS
    match = re.search(
        re.escape(start) + "\n(.*?)" + re.escape(end), readme.read_text(), re.S
    )
    return None if match is None else match.group(1)


def plot(raw, rows, prevalence, label, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ceiling = raw["ceiling"]
    practitioners = set(practitioner_rows(raw))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, metric in zip(axes, METRICS):
        on_front = front(rows, metric, prevalence, ceiling)
        for name, row in rows.items():
            x, xs = row[metric]
            y, ys = row["accuracy"]
            if name == ceiling:
                style = dict(marker="*", s=160, color="gold", edgecolor="k", zorder=4)
            elif name in practitioners and "+" in name:
                style = dict(marker="X", s=70, color="tab:gray", zorder=3)
            elif name in practitioners:
                style = dict(marker="s", s=60, color="k", zorder=3)
            else:
                style = dict(marker="o", s=45, color="tab:blue", zorder=3)
            if name != ceiling and collapsed(row, prevalence):
                style.update(facecolor="none", edgecolor="tab:red", color=None)
            ax.errorbar(x, y, xerr=xs, yerr=ys, color="0.8", lw=0.8, zorder=1)
            ax.scatter([x], [y], **style)
            if name in on_front or name in ("entropy", ceiling):
                ax.annotate(name, (x, y), fontsize=7, xytext=(4, 3),
                            textcoords="offset points")  # fmt: skip
        points = sorted((rows[n][metric][0], rows[n]["accuracy"][0]) for n in on_front)
        if points:
            xs_, ys_ = zip(*points)
            ax.step(xs_, ys_, where="post", color="tab:green", lw=1.5, label="front")
        ax.set_xlabel(f"{metric} difference (lower is fairer)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{label}: accuracy against {metric}")
        ax.scatter([], [], marker="o", color="tab:blue", label="fair strategy")
        ax.scatter([], [], marker="s", color="k", label="random / entropy")
        ax.scatter([], [], marker="X", color="tab:gray", label="+ fairlearn mitigation")
        ax.scatter([], [], marker="o", facecolor="none", edgecolor="tab:red",
                   label="collapse")  # fmt: skip
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
