"""A labeling session's progress: one record per round, and its figure."""

import datetime

import numpy as np

from ..metrics import demographic_parity_difference, equalized_odds_difference
from ..utils import import_optional


def _group_names(groups) -> np.ndarray:
    """One name per row: the value, or the values joined for several columns."""
    if groups.ndim == 1:
        return groups.astype(str)
    return np.array([" & ".join(map(str, row)) for row in groups])


def round_record(session, positions) -> dict:
    """The history entry of a round that labeled ``positions``."""
    record = {
        "round": len(session.history_) + 1,
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "labels": session.n_labeled,
        "new": len(positions),
        "out": len(session.out_ids),
        "fitted": session.learner_ is not None,
    }
    groups = session._groups(None)
    if groups is not None:
        names = _group_names(groups)
        values, counts = np.unique(names, return_counts=True)
        rarest = values[np.argmin(counts)]
        record["minority_share"] = float(np.mean(names[positions] == rarest))
    if session.validation is not None and session.learner_ is not None:
        record |= _scores(session)
    return record


def _scores(session) -> dict:
    validation = session.validation
    y_true = np.asarray(
        session._as_classes(
            validation[session.label_column].tolist(), validation.index, "validation"
        ),
        dtype=object,
    )
    groups = session._groups(None, validation)
    y_pred = np.asarray(
        session.learner_.predict(
            validation[session.features],
            **({} if groups is None else {"sensitive_features": groups}),
        ),
        dtype=object,
    )
    scores = {"accuracy": float(np.mean(y_pred == y_true))}
    if groups is None:
        return scores
    names = _group_names(groups)
    if len(session.classes) == 2:
        # The metrics take one kind of label: compare on "is positive".
        positive = session.pos_label
        kwargs = {"sensitive_features": names, "pos_label": True}
        y_t, y_p = y_true == positive, y_pred == positive
        scores["demographic_parity"] = demographic_parity_difference(y_t, y_p, **kwargs)
        scores["equalized_odds"] = equalized_odds_difference(
            y_t, y_p, zero_division=np.nan, **kwargs
        )
    for name in np.unique(names):
        rows = names == name
        scores[f"accuracy[{name}]"] = float(np.mean(y_pred[rows] == y_true[rows]))
    return scores


def plot_progress(session):
    """Accuracy per group, the disparities and the picks' minority share."""
    plt = import_optional(
        "matplotlib.pyplot", purpose="LabelingSession.plot_progress", extra="bench"
    )
    table = session.progress()
    if table.empty:
        raise ValueError(
            "the session has no round yet: add labels before plotting progress."
        )
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    x = table["labels"]
    per_group = [c for c in table.columns if c.startswith("accuracy[")]
    if "accuracy" in table:
        left.plot(x, table["accuracy"], "k-o", label="all")
        for column in per_group:
            left.plot(x, table[column], "--o", label=column[len("accuracy[") : -1])
        left.set_ylabel("validation accuracy")
        left.legend(title="group", fontsize="small")
    else:
        left.text(
            0.5, 0.5, "no validation set", ha="center", va="center",
            transform=left.transAxes,
        )  # fmt: skip
    left.set_xlabel("labels")
    left.set_title("accuracy")
    for column, style in (("demographic_parity", "-o"), ("equalized_odds", "-s")):
        if column in table:
            right.plot(x, table[column], style, label=column.replace("_", " "))
    if "minority_share" in table:
        right.bar(
            x, table["minority_share"], width=0.6 * np.diff(x, prepend=0).min(),
            alpha=0.3, color="tab:gray", label="minority share of the round",
        )  # fmt: skip
    right.set_xlabel("labels")
    right.set_ylabel("difference between groups; share")
    right.set_title("fairness")
    right.set_ylim(0, 1)
    right.legend(fontsize="small")
    return fig
