"""Per-group table of counts, rates, accuracy and F1."""

import numpy as np

from ..utils import import_optional
from ._base import check_binary_inputs


class GroupReport:
    """Per-group metrics of a binary classifier, one row per group plus overall.

    Returned by :func:`group_report`; not meant to be built directly.

    Attributes
    ----------
    groups : list
        Group labels in row order; the last row is ``"overall"``.
    columns : dict of str to ndarray
        ``n`` (weighted count), ``selection_rate``, ``tpr``, ``fpr``,
        ``accuracy`` and ``f1``; NaN where a rate is undefined (a group with
        no positives has no TPR).
    sensitive_feature_names : list of str
        Names of the sensitive columns that define the groups.

    Examples
    --------
    >>> from skfairal.metrics import group_report
    >>> report = group_report(
    ...     [1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"]
    ... )
    >>> report.groups
    ['a', 'b', 'overall']
    >>> report["selection_rate"]
    array([0.5 , 0.  , 0.25])
    >>> print(report.to_markdown())
    | group | n | selection_rate | tpr | fpr | accuracy | f1 |
    |---|---:|---:|---:|---:|---:|---:|
    | a | 2 | 0.500 | 1.000 | 0.000 | 1.000 | 1.000 |
    | b | 2 | 0.000 | 0.000 | 0.000 | 0.500 | 0.000 |
    | overall | 4 | 0.250 | 0.500 | 0.000 | 0.750 | 0.667 |
    """

    def __init__(self, groups: list, columns: dict, sensitive_feature_names: list):
        self.groups = groups
        self.columns = columns
        self.sensitive_feature_names = sensitive_feature_names

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def to_frame(self):
        """The report as a pandas DataFrame indexed by group (needs pandas)."""
        pd = import_optional("pandas", purpose="GroupReport.to_frame", extra="bench")
        index = pd.Index([str(g) for g in self.groups], name="group")
        return pd.DataFrame(self.columns, index=index)

    def to_markdown(self, floatfmt: str = ".3f") -> str:
        """The report as a GitHub-flavoured markdown table."""
        rows = self._rows(floatfmt)
        header = ["group", *self.columns]
        lines = ["| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * len(self.columns)) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)

    def _rows(self, floatfmt: str) -> list[list[str]]:
        rows = []
        for i, group in enumerate(self.groups):
            cells = [str(group)]
            for name, values in self.columns.items():
                fmt = (
                    ".0f" if name == "n" and float(values[i]).is_integer() else floatfmt
                )
                cells.append(format(values[i], fmt))
            rows.append(cells)
        return rows

    def __str__(self) -> str:
        header = ["group", *self.columns]
        rows = [header, *self._rows(".3f")]
        widths = [max(len(r[j]) for r in rows) for j in range(len(header))]
        lines = [
            "  ".join(
                cell.ljust(w) if j == 0 else cell.rjust(w)
                for j, (cell, w) in enumerate(zip(row, widths))
            )
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"GroupReport(\n{self}\n)"


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def group_report(
    y_true,
    y_pred,
    *,
    sensitive_features,
    sample_weight=None,
    pos_label=None,
) -> GroupReport:
    """Per group: size, selection rate, TPR, FPR, accuracy and F1.

    One row per group (intersectional when ``sensitive_features`` has several
    columns) and a last row ``"overall"``. Undefined entries (a TPR for a group
    without positives, say) are NaN rather than a made-up number.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; ``n`` is then the weighted count.
    pos_label : int, float, bool or str, default=None
        The positive label; ``None`` means 1 for labels in {0, 1} or {-1, 1}.

    Returns
    -------
    report : GroupReport
        Printable; ``to_frame()`` and ``to_markdown()`` convert it.

    Examples
    --------
    >>> from skfairal.metrics import group_report
    >>> y_true = [1, 0, 1, 0, 1, 0]
    >>> y_pred = [1, 0, 0, 0, 1, 1]
    >>> report = group_report(y_true, y_pred, sensitive_features=list("aaabbb"))
    >>> print(report)
    group    n  selection_rate    tpr    fpr  accuracy     f1
    -------  -  --------------  -----  -----  --------  -----
    a        3           0.333  0.500  0.000     0.667  0.667
    b        3           0.667  1.000  0.500     0.667  0.667
    overall  6           0.500  0.667  0.333     0.667  0.667
    >>> report["tpr"]
    array([0.5       , 1.        , 0.66666667])
    """
    inputs = check_binary_inputs(
        y_true,
        y_pred,
        sensitive_features,
        sample_weight,
        pos_label,
        require_y_true=True,
    )
    t, p, w = inputs.y_true, inputs.y_pred, inputs.weights
    n_groups = inputs.groups.n_groups
    # Column n_groups collects every sample: the overall row.
    codes = np.concatenate([inputs.groups.codes, np.full(len(t), n_groups)])

    def wsum(mask: np.ndarray) -> np.ndarray:
        both = np.concatenate([w * mask, w * mask])
        return np.bincount(codes, weights=both, minlength=n_groups + 1)

    ones = np.ones(len(t), dtype=bool)
    n, pos, neg = wsum(ones), wsum(t), wsum(~t)
    tp, fp, pred = wsum(t & p), wsum(~t & p), wsum(p)
    correct = wsum(t == p)
    columns = {
        "n": n,
        "selection_rate": _safe_div(pred, n),
        "tpr": _safe_div(tp, pos),
        "fpr": _safe_div(fp, neg),
        "accuracy": _safe_div(correct, n),
        "f1": _safe_div(2 * tp, pos + pred),
    }
    return GroupReport(
        groups=[*inputs.groups.groups, "overall"],
        columns=columns,
        sensitive_feature_names=inputs.groups.names,
    )
