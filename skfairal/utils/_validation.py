"""Validation and integer encoding of sensitive features."""

from typing import Any, NamedTuple

import numpy as np


class GroupEncoding(NamedTuple):
    """Sensitive features encoded as one integer group code per sample.

    Attributes
    ----------
    codes : ndarray of shape (n_samples,), dtype=intp
        ``codes[i]`` is the index into ``groups`` of sample ``i``'s group.
    groups : list
        The distinct groups, sorted. A group is a scalar for one sensitive
        column and a tuple (one entry per column) for several columns, whose
        combinations form intersectional groups.
    names : list of str or None
        One name per sensitive column: the DataFrame or Series name when there
        is one, else ``"sensitive_feature_<j>"``.

    Examples
    --------
    Returned by :func:`check_sensitive_features`; two columns give
    intersectional groups:

    >>> from skfairal.utils import check_sensitive_features
    >>> encoding = check_sensitive_features(
    ...     {"sex": ["F", "M", "F"], "race": ["a", "a", "b"]}
    ... )
    >>> encoding.codes
    array([0, 2, 1])
    >>> encoding.groups, encoding.names
    ([('F', 'a'), ('F', 'b'), ('M', 'a')], ['sex', 'race'])
    >>> encoding.n_groups
    3
    """

    codes: np.ndarray
    groups: list
    names: list

    @property
    def n_groups(self) -> int:
        """Number of distinct groups."""
        return len(self.groups)

    def code_of(self, group) -> int:
        """The code of ``group``, or -1 when no sample is in it.

        Examples
        --------
        >>> from skfairal.utils import check_sensitive_features
        >>> encoding = check_sensitive_features(["b", "a", "b"])
        >>> encoding.code_of("b"), encoding.code_of("z")
        (1, -1)
        """
        for code, value in enumerate(self.groups):
            if value == group:
                return code
        return -1


def shared_group_codes(first: GroupEncoding, second: GroupEncoding):
    """Codes of two encodings' samples in one index of their groups.

    Groups are matched by value, so the two sets of samples may come in any
    container; the groups of ``first`` keep their codes and the groups seen
    only in ``second`` follow them.

    Returns
    -------
    codes_first, codes_second : ndarray of int
    groups : list
        The groups of the shared index.

    Examples
    --------
    >>> from skfairal.utils import check_sensitive_features, shared_group_codes
    >>> a = check_sensitive_features(["m", "f", "m"])
    >>> b = check_sensitive_features(["x", "m"])
    >>> shared_group_codes(a, b)
    (array([1, 0, 1]), array([2, 1]), ['f', 'm', 'x'])
    """
    groups = list(first.groups)
    index = {}
    for code, group in enumerate(groups):
        index.setdefault(group, code)
    lookup = np.empty(second.n_groups, dtype=np.intp)
    for code, group in enumerate(second.groups):
        if group not in index:
            index[group] = len(groups)
            groups.append(group)
        lookup[code] = index[group]
    return first.codes, lookup[second.codes], groups


def is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing-value marker: None, NaN, pandas.NA or NaT.

    Examples
    --------
    >>> from skfairal.utils import is_missing
    >>> is_missing(float("nan")), is_missing(None), is_missing(0)
    (True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    # pandas.NA and pandas.NaT without importing pandas.
    return type(value).__name__ in {"NAType", "NaTType"}


def _as_columns(sensitive_features, name: str) -> tuple[list[np.ndarray], list[str]]:
    if sensitive_features is None:
        raise ValueError(
            f"{name} is required: pass one group label per sample "
            "(an array, a list, a pandas Series or DataFrame)."
        )
    if isinstance(sensitive_features, str | bytes) or np.isscalar(sensitive_features):
        raise ValueError(
            f"{name} must be array-like with one group label per sample, "
            f"got the scalar {sensitive_features!r}."
        )
    if isinstance(sensitive_features, dict):
        names = [str(k) for k in sensitive_features]
        return [np.asarray(v, dtype=object) for v in sensitive_features.values()], names
    if hasattr(sensitive_features, "columns") and hasattr(sensitive_features, "iloc"):
        # pandas DataFrame: per-column conversion keeps each column's own dtype.
        names = [str(c) for c in sensitive_features.columns]
        columns = [np.asarray(sensitive_features.iloc[:, j]) for j in range(len(names))]
        return columns, names
    series_name = getattr(sensitive_features, "name", None)
    array = np.asarray(sensitive_features)
    if array.dtype.kind in "US" and not isinstance(sensitive_features, np.ndarray):
        # numpy would turn [1, "1"] into one group and np.nan into the string
        # "nan"; as objects, mixed types and missing values stay visible.
        array = np.asarray(sensitive_features, dtype=object)
    if array.ndim == 1:
        label = str(series_name) if series_name is not None else "sensitive_feature_0"
        return [array], [label]
    if array.ndim == 2:
        return (
            [array[:, j] for j in range(array.shape[1])],
            [f"sensitive_feature_{j}" for j in range(array.shape[1])],
        )
    raise ValueError(
        f"{name} must be 1-D (one column) or 2-D (one column per sensitive "
        f"attribute), got an array with {array.ndim} dimensions."
    )


def _encode_column(column: np.ndarray, name: str, col_name: str) -> np.ndarray:
    if column.dtype.kind == "O":
        try:
            uniques, codes = np.unique(column, return_inverse=True)
        except TypeError:
            uniques = None  # mixed types, or a missing value among strings
        # Only the distinct values are checked, so the common case costs one
        # np.unique; the row-wise scan runs only to report a problem.
        if uniques is None or any(is_missing(v) for v in uniques):
            _raise_if_missing(
                np.flatnonzero([is_missing(v) for v in column]), name, col_name
            )
        if uniques is None:
            kinds = sorted({type(v).__name__ for v in column})
            raise ValueError(
                f"{name} column {col_name!r} mixes value types ({', '.join(kinds)}); "
                "use one type per column, for example all strings."
            )
        return uniques, codes
    if column.dtype.kind == "f":
        _raise_if_missing(np.flatnonzero(np.isnan(column)), name, col_name)
    if column.dtype.kind in "biu" and len(column):
        low, high = int(column.min()), int(column.max())
        if high - low < max(1024, len(column)):
            # Integer groups in a small range: counting, linear in the rows
            # (np.unique sorts, 10x slower on a pool of a million rows).
            shifted = column.astype(np.intp) - low
            present = np.flatnonzero(np.bincount(shifted))
            lookup = np.empty(high - low + 1, dtype=np.intp)
            lookup[present] = np.arange(len(present))
            return (present + low).astype(column.dtype), lookup[shifted]
    return np.unique(column, return_inverse=True)


def _raise_if_missing(bad: np.ndarray, name: str, col_name: str) -> None:
    if len(bad):
        raise ValueError(
            f"{name} contains missing values (column {col_name!r}, "
            f"{len(bad)} rows, first at row {bad[0]}); "
            "drop those rows or give the missing value its own group label."
        )


def sensitive_features_array(
    sensitive_features, *, name: str = "sensitive_features"
) -> np.ndarray:
    """Sensitive features as an array aligned with the rows by position.

    The columns :func:`check_sensitive_features` reads, stacked: 1-D for one
    column, 2-D for several (as objects when the columns' types differ). A
    Series' index and name, or a DataFrame's, play no part, so groups given
    in different containers line up.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfairal.utils import sensitive_features_array
    >>> sensitive_features_array(pd.Series(["F", "M"], index=[7, 3], name="sex"))
    array(['F', 'M'], dtype=object)
    >>> sensitive_features_array({"sex": ["F", "M"], "age": [30, 40]})
    array([['F', 30],
           ['M', 40]], dtype=object)
    """
    columns, _ = _as_columns(sensitive_features, name)
    if len(columns) == 1:
        return columns[0]
    if len({column.dtype for column in columns}) > 1:
        columns = [column.astype(object) for column in columns]
    return np.column_stack(columns)


def check_sensitive_features(
    sensitive_features,
    n_samples: int | None = None,
    *,
    min_groups: int = 1,
    name: str = "sensitive_features",
) -> GroupEncoding:
    """Validate sensitive features and encode each sample's group as an integer.

    Several columns (a 2-D array, a DataFrame or a dict of columns) define
    intersectional groups: one group per observed combination of values.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels: numbers or strings, a list, an ndarray, a pandas Series or
        DataFrame, or a dict mapping column names to arrays.
    n_samples : int, default=None
        Expected number of rows; ``None`` skips the check.
    min_groups : int, default=1
        Fewest distinct groups accepted.
    name : str, default="sensitive_features"
        Argument name used in error messages.

    Returns
    -------
    encoding : GroupEncoding
        Integer codes, the sorted distinct groups and the column names.

    Raises
    ------
    ValueError
        On missing values, mixed value types in a column, a length that is
        not ``n_samples``, an empty input, or fewer than ``min_groups`` groups.

    Examples
    --------
    >>> from skfairal.utils import check_sensitive_features
    >>> enc = check_sensitive_features(["b", "a", "b", "c"])
    >>> enc.codes
    array([1, 0, 1, 2])
    >>> enc.groups
    ['a', 'b', 'c']
    >>> check_sensitive_features([[0, "x"], [1, "x"], [0, "y"]]).groups
    [(0, 'x'), (0, 'y'), (1, 'x')]
    """
    columns, names = _as_columns(sensitive_features, name)
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise ValueError(f"{name} columns have different lengths: {sorted(lengths)}.")
    (length,) = lengths
    if length == 0:
        raise ValueError(f"{name} is empty: it needs one group label per sample.")
    if n_samples is not None and length != n_samples:
        raise ValueError(
            f"{name} has {length} rows but {n_samples} samples were given; "
            "it needs exactly one group label per sample."
        )
    uniques, codes = zip(
        *(_encode_column(c, name, n) for c, n in zip(columns, names)), strict=True
    )
    if len(columns) == 1:
        groups = [_to_python(v) for v in uniques[0]]
        codes = np.asarray(codes[0], dtype=np.intp)
    else:
        combos, codes = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
        groups = [
            tuple(_to_python(u[k]) for u, k in zip(uniques, combo)) for combo in combos
        ]
        codes = np.asarray(codes, dtype=np.intp).ravel()
    if len(groups) < min_groups:
        raise ValueError(
            f"{name} has {len(groups)} distinct group(s) ({_preview(groups)}) but at "
            f"least {min_groups} are needed to compare groups."
        )
    return GroupEncoding(codes=codes, groups=groups, names=names)


def _to_python(value):
    # numpy scalars become Python scalars so group labels print and compare cleanly.
    return value.item() if isinstance(value, np.generic) else value


def _preview(groups: list, limit: int = 5) -> str:
    shown = ", ".join(repr(g) for g in groups[:limit])
    return shown + (", ..." if len(groups) > limit else "")
