"""ProPublica's COMPAS recidivism dataset, read from a user-supplied copy."""

import csv
import io
import os
from os import PathLike
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils import import_optional
from ._base import (
    COMPAS_FILENAME,
    COMPAS_SHA256,
    DatasetNotFoundError,
    categorical_column,
    object_matrix,
    read_descr,
    read_verified,
)

__all__ = ["load_compas"]

COMPAS_FEATURES = [
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "c_charge_desc",
]
COMPAS_NUMERICAL = [
    "age",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
]
COMPAS_CATEGORICAL = [f for f in COMPAS_FEATURES if f not in COMPAS_NUMERICAL]
COMPAS_SENSITIVE = ["sex", "race"]
COMPAS_TARGET_NAMES = ["no recidivism", "recidivism"]
_AGE_CATS = ["Less than 25", "25 - 45", "Greater than 45"]
_SCORE_TEXTS = ["Low", "Medium", "High"]
_FILTER_COLUMNS = ["days_b_screening_arrest", "is_recid", "c_charge_degree"]
_ENV_VAR = "SKFAIRAL_DATA"
_HOW_TO_GET = (
    f"Download {COMPAS_FILENAME!r} from ProPublica's compas-analysis repository "
    "(https://github.com/propublica/compas-analysis) and pass the folder that holds "
    f"it as load_compas(data_home=...), or set the {_ENV_VAR} environment variable "
    f"to that folder (or to a folder with a compas/{COMPAS_FILENAME} inside). "
    "skfairal neither ships nor downloads this file: it carries no license."
)


def _find_compas_file(data_home) -> Path:
    if data_home is not None:
        base, origin = Path(data_home).expanduser(), f"data_home={str(data_home)!r}"
    elif os.environ.get(_ENV_VAR):
        base = Path(os.environ[_ENV_VAR]).expanduser()
        origin = f"{_ENV_VAR}={os.environ[_ENV_VAR]!r}"
    else:
        raise DatasetNotFoundError(
            f"COMPAS data file {COMPAS_FILENAME!r} not found: no data_home was given "
            f"and the {_ENV_VAR} environment variable is not set. {_HOW_TO_GET}",
            filename=COMPAS_FILENAME,
        )
    if base.is_file():
        return base
    candidates = [base / COMPAS_FILENAME, base / "compas" / COMPAS_FILENAME]
    for path in candidates:
        if path.is_file():
            return path
    raise DatasetNotFoundError(
        f"COMPAS data file {COMPAS_FILENAME!r} not found (from {origin}); looked "
        f"for {' and '.join(str(p) for p in candidates)}. {_HOW_TO_GET}",
        filename=COMPAS_FILENAME,
        searched=candidates,
    )


def _keep_row(days_b: str, is_recid: str, degree: str, score_text: str) -> bool:
    # ProPublica's filter; a missing days_b_screening_arrest fails it, as in R.
    if not days_b or abs(float(days_b)) > 30:
        return False
    return int(is_recid) != -1 and degree != "O" and score_text != "N/A"


def load_compas(
    *, data_home: str | PathLike | None = None, as_frame: bool = False
) -> Bunch:
    """Load ProPublica's COMPAS two-year recidivism data (6,172 defendants).

    Reads ``compas-scores-two-years.csv`` from ProPublica's compas-analysis
    repository, checks its SHA-256 and applies ProPublica's filter
    (``|days_b_screening_arrest| <= 30``, ``is_recid != -1``,
    ``c_charge_degree != "O"``, ``score_text != "N/A"``), which keeps 6,172 of
    the 7,214 rows. The file has no license, so skfairal neither ships nor
    downloads it: the user supplies a copy.

    Names, dates of birth, case numbers and other identifying columns are
    dropped. ``data`` holds the ten features AIF360 keeps; columns about the
    outcome (``is_recid``, ``r_*``, ``violent_recid``, ``vr_*``, custody and
    jail dates, ``start``/``end``/``event``) are left out because they leak
    the label, and the COMPAS tool's own scores are left out of ``data`` but
    returned as ``decile_score`` and ``score_text`` for auditing the tool.

    Read more in ``load_compas(...).DESCR``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder holding ``compas-scores-two-years.csv``, either directly or
        in a ``compas/`` subfolder (or the path of the file itself). If None,
        the ``SKFAIRAL_DATA`` environment variable gives the folder.
    as_frame : bool, default=False
        If True, return pandas objects (requires pandas): ``data`` is a
        DataFrame (int64 numeric columns, ``category`` columns, NaN for
        missing), ``target`` an int64 Series named ``"two_year_recid"``,
        ``sensitive_features`` a DataFrame with ``sex`` and ``race``, and
        ``frame`` holds ``data`` plus the target column.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (6172, 10), dtype=object, or DataFrame
            With ``as_frame=False``, numeric features are Python floats,
            categorical ones str; a missing ``c_charge_desc`` (5 rows) is
            ``np.nan``.
        target : ndarray of shape (6172,), dtype=int64, or Series
            ``two_year_recid``: 1 if the person was charged with a new crime
            within two years.
        sensitive_features : ndarray of shape (6172, 2), dtype=object, or DataFrame
            ``sex`` and ``race`` as str.
        sensitive_feature_names : list of str
            ``["sex", "race"]``.
        feature_names : list of str
            The ten feature names, in column order.
        categorical_features, numerical_features : list of str
            The categorical (5) and numerical (5) feature names.
        target_names : list of str
            ``["no recidivism", "recidivism"]``: the meaning of 0 and 1.
        decile_score : ndarray of shape (6172,), dtype=int64, or Series
            The COMPAS risk-of-recidivism decile score (1 to 10).
        score_text : ndarray of shape (6172,), dtype=object, or Series
            The COMPAS risk level: ``"Low"``, ``"Medium"`` or ``"High"``.
        frame : DataFrame or None
            ``data`` with the ``two_year_recid`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance and credit.

    Raises
    ------
    DatasetNotFoundError
        If the file is not found; the message says where it looked.
    ChecksumMismatchError
        If the file is not ProPublica's original.

    Examples
    --------
    With ``compas-scores-two-years.csv`` downloaded to ``~/data``:

    >>> from skfairal.datasets import load_compas
    >>> compas = load_compas(data_home="~/data")  # doctest: +SKIP
    >>> compas.data.shape  # doctest: +SKIP
    (6172, 10)

    Without it, the error says where it looked and how to get the file:

    >>> try:
    ...     load_compas(data_home="no/such/folder")
    ... except FileNotFoundError as exc:
    ...     print(type(exc).__name__, "SKFAIRAL_DATA" in str(exc))
    DatasetNotFoundError True
    """
    # Fail before any parsing when pandas is missing.
    pd = (
        import_optional("pandas", purpose="as_frame=True", extra="bench")
        if as_frame
        else None
    )
    path = _find_compas_file(data_home)
    raw = read_verified(path, COMPAS_SHA256, hint=_HOW_TO_GET)
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader)
    # The file repeats some columns (decile_score, priors_count) with equal
    # values; the first occurrence is the one used. The checksum guarantees
    # every column needed is there.
    needed = [
        *COMPAS_FEATURES,
        *_FILTER_COLUMNS,
        "decile_score",
        "score_text",
        "two_year_recid",
    ]
    idx = {name: header.index(name) for name in needed}
    filter_idx = [idx[c] for c in (*_FILTER_COLUMNS, "score_text")]
    rows = [r for r in reader if r and _keep_row(*(r[i] for i in filter_idx))]

    def column(name):
        return [r[idx[name]] for r in rows]

    columns = {}
    for name in COMPAS_FEATURES:
        if name in COMPAS_NUMERICAL:
            columns[name] = np.asarray(column(name)).astype(np.int64)
        else:
            columns[name] = column(name)
    target = np.asarray(column("two_year_recid")).astype(np.int64)
    decile_score = np.asarray(column("decile_score")).astype(np.int64)
    score_text = column("score_text")

    bunch = Bunch(
        feature_names=list(COMPAS_FEATURES),
        categorical_features=list(COMPAS_CATEGORICAL),
        numerical_features=list(COMPAS_NUMERICAL),
        sensitive_feature_names=list(COMPAS_SENSITIVE),
        target_names=list(COMPAS_TARGET_NAMES),
        frame=None,
        DESCR=read_descr("compas"),
    )
    if as_frame:
        frame_columns = {}
        for name, values in columns.items():
            if name in COMPAS_NUMERICAL:
                frame_columns[name] = values
            else:
                cats = _AGE_CATS if name == "age_cat" else None
                frame_columns[name] = categorical_column(
                    pd, values, missing="", categories=cats
                )
        data = pd.DataFrame(frame_columns)
        target_series = pd.Series(target, name="two_year_recid")
        bunch.update(
            data=data,
            target=target_series,
            sensitive_features=data[COMPAS_SENSITIVE].copy(),
            frame=data.assign(two_year_recid=target_series),
            decile_score=pd.Series(decile_score, name="decile_score"),
            score_text=pd.Series(
                pd.Categorical(score_text, categories=_SCORE_TEXTS, ordered=True),
                name="score_text",
            ),
        )
    else:
        bunch.update(
            data=object_matrix(
                [
                    values.astype(np.float64)
                    if name in COMPAS_NUMERICAL
                    # An empty field (c_charge_desc, 5 rows) is a missing value.
                    else [v if v else np.nan for v in values]
                    for name, values in columns.items()
                ]
            ),
            target=target,
            sensitive_features=object_matrix([columns[f] for f in COMPAS_SENSITIVE]),
            decile_score=decile_score,
            score_text=np.asarray(score_text, dtype=object),
        )
    return bunch
