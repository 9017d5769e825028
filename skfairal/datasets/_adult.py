"""The UCI Adult (Census Income) dataset."""

import gzip

import numpy as np
from sklearn.utils import Bunch

from ..utils import import_optional
from ._base import (
    DatasetFileError,
    categorical_column,
    read_descr,
    read_embedded,
)

__all__ = ["load_adult"]

ADULT_FEATURES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
]
ADULT_NUMERICAL = [
    "age",
    "fnlwgt",
    "education-num",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
]
ADULT_CATEGORICAL = [f for f in ADULT_FEATURES if f not in ADULT_NUMERICAL]
ADULT_SENSITIVE = ["sex", "race"]
ADULT_TARGET_NAMES = ["<=50K", ">50K"]
_LABELS = {"<=50K": 0, ">50K": 1}
_N_FIELDS = len(ADULT_FEATURES) + 1


def _parse(filename: str) -> np.ndarray:
    """Fields of one embedded Adult file: an object array of shape (n, 15) of str."""
    text = gzip.decompress(read_embedded(filename)).decode("ascii")
    # Blank lines end both files; adult.test opens with "|1x3 Cross validator".
    lines = [line for line in text.splitlines() if line and not line.startswith("|")]
    # Fields are separated by ", " and never contain it: one split over all rows
    # is several times faster than the csv module.
    fields = ", ".join(lines).split(", ")
    bad = [i for i, line in enumerate(lines) if line.count(", ") != _N_FIELDS - 1]
    if bad:
        raise DatasetFileError(
            f"{len(bad)} rows of {filename!r} do not have {_N_FIELDS} fields, "
            f"for example {lines[bad[0]]!r}.",
            filename=filename,
        )
    return np.array(fields, dtype=object).reshape(len(lines), _N_FIELDS)


def load_adult(*, as_frame: bool = False) -> Bunch:
    """Load the UCI Adult (Census Income) dataset, train and test files together.

    48,842 people from the 1994 US Census, 14 attributes, and whether their
    income exceeds $50K a year. The two UCI files (``adult.data``, 32,561
    rows, then ``adult.test``, 16,281 rows) are stacked in that order;
    ``is_test`` marks the rows of the second so the UCI split can be
    reproduced. The data ship with skfairal (compressed, checksum-verified on
    every load), so no download is needed.

    ``data`` keeps all 14 attributes, ``sex`` and ``race`` included, because
    fairness methods that act on the representation need them; drop those
    columns (``sensitive_feature_names``) to train a model that does not see
    them directly.

    Read more in ``load_adult().DESCR``.

    Parameters
    ----------
    as_frame : bool, default=False
        If True, return pandas objects (requires pandas): ``data`` is a
        DataFrame whose numeric columns are int64 and whose categorical columns
        have the ``category`` dtype (missing values are NaN), ``target`` is an
        int64 Series named ``"income"``, ``sensitive_features`` a DataFrame with
        the ``sex`` and ``race`` columns, and ``frame`` holds ``data`` plus the
        ``income`` column.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (48842, 14), dtype=object, or DataFrame
            With ``as_frame=False``, numeric attributes are Python floats,
            categorical ones are str, and a missing value (``?`` in the UCI
            files, only in ``workclass``, ``occupation`` and
            ``native-country``) is ``np.nan``.
        target : ndarray of shape (48842,), dtype=int64, or Series
            1 for income ``>50K``, 0 for ``<=50K`` (the dot that ends the
            test-file labels is removed).
        sensitive_features : ndarray of shape (48842, 2), dtype=object, or DataFrame
            The ``sex`` and ``race`` of each person, as str.
        sensitive_feature_names : list of str
            ``["sex", "race"]``.
        feature_names : list of str
            The 14 UCI attribute names, in column order.
        categorical_features, numerical_features : list of str
            The categorical (8) and numerical (6) feature names, for a
            :class:`~sklearn.compose.ColumnTransformer`.
        target_names : list of str
            ``["<=50K", ">50K"]``: the meaning of target 0 and 1.
        is_test : ndarray of shape (48842,), dtype=bool
            True for the rows of ``adult.test``.
        frame : DataFrame or None
            ``data`` with the ``income`` target column when ``as_frame=True``.
        DESCR : str
            Description, provenance and citation.

    Raises
    ------
    DatasetFileError
        If an embedded file is missing or fails its checksum.

    Examples
    --------
    >>> from skfairal.datasets import load_adult
    >>> adult = load_adult()
    >>> adult.data.shape
    (48842, 14)
    >>> adult.target_names
    ['<=50K', '>50K']
    >>> round(float(adult.target.mean()), 3)
    0.239
    >>> int(adult.is_test.sum())
    16281
    >>> numeric = [adult.feature_names.index(f) for f in adult.numerical_features]
    >>> adult.data[:, numeric].astype(float).shape
    (48842, 6)
    """
    # Fail before any parsing when pandas is missing.
    pd = (
        import_optional("pandas", purpose="as_frame=True", extra="bench")
        if as_frame
        else None
    )
    train = _parse("adult.data.gz")
    table = np.concatenate([train, _parse("adult.test.gz")])
    is_test = np.zeros(len(table), dtype=bool)
    is_test[len(train) :] = True

    # Test-file labels end with a dot (">50K.").
    labels = table[:, -1]
    positive = (labels == ">50K") | (labels == ">50K.")
    negative = (labels == "<=50K") | (labels == "<=50K.")
    if not np.all(positive | negative):
        unknown = sorted(set(labels[~(positive | negative)]))
        raise DatasetFileError(
            f"Unexpected Adult labels {unknown}.", filename="adult.data.gz"
        )
    target = positive.astype(np.int64)

    data = table[:, :-1].copy()
    numerical = [ADULT_FEATURES.index(f) for f in ADULT_NUMERICAL]
    numbers = data[:, numerical].astype(np.int64)

    bunch = Bunch(
        feature_names=list(ADULT_FEATURES),
        categorical_features=list(ADULT_CATEGORICAL),
        numerical_features=list(ADULT_NUMERICAL),
        sensitive_feature_names=list(ADULT_SENSITIVE),
        target_names=list(ADULT_TARGET_NAMES),
        is_test=is_test,
        frame=None,
        DESCR=read_descr("adult"),
    )
    if as_frame:
        columns = {}
        for j, name in enumerate(ADULT_FEATURES):
            if j in numerical:
                columns[name] = numbers[:, numerical.index(j)]
            else:
                columns[name] = categorical_column(pd, data[:, j], missing="?")
        frame_data = pd.DataFrame(columns)
        target_series = pd.Series(target, name="income")
        bunch.update(
            data=frame_data,
            target=target_series,
            sensitive_features=frame_data[ADULT_SENSITIVE].copy(),
            frame=frame_data.assign(income=target_series),
        )
    else:
        data[data == "?"] = np.nan
        data[:, numerical] = numbers.astype(np.float64)
        sensitive = data[:, [ADULT_FEATURES.index(f) for f in ADULT_SENSITIVE]]
        bunch.update(data=data, target=target, sensitive_features=sensitive)
    return bunch
