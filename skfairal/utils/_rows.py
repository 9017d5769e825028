"""Row selection and concatenation for every kind of X the base estimator takes."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing


def indexable_rows(X):
    """X in a form whose rows can be taken: other array-likes become ndarrays.

    DataFrames, Series, lists (text, say) and CSR/CSC matrices are kept as
    they are, so a base pipeline still sees its column names or raw strings.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skfairal.utils import indexable_rows
    >>> indexable_rows(((1, 2), (3, 4)))
    array([[1, 2],
           [3, 4]])
    >>> indexable_rows(sp.coo_matrix([[1, 0]])).format
    'csr'
    """
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "biufc":
        raise ValueError(
            "Expected 2D array, got 1D array instead. Reshape your data either "
            "using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    if hasattr(X, "iloc") or isinstance(X, np.ndarray | list):
        return X
    if sp.issparse(X):
        return X if X.format in ("csr", "csc") else X.tocsr()
    return np.asarray(X)


def take_rows(X, indices):
    """Rows ``indices`` of X: ndarray, sparse matrix, DataFrame, Series or list.

    ``indices`` is an array of row numbers or a slice; a slice of an ndarray
    is a view, without a copy.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfairal.utils import take_rows
    >>> take_rows(pd.DataFrame({"a": [1, 2, 3]}), [2, 0])
       a
    2  3
    0  1
    >>> take_rows(["x", "y", "z"], slice(1, None))
    ['y', 'z']
    """
    if not isinstance(indices, slice):
        indices = np.asarray(indices, dtype=np.intp)
    if isinstance(X, np.ndarray):
        # _safe_indexing would first ask whether X is a dataframe of any
        # library (a tenth of a simulation's time on 50,000 rows).
        return X[indices]
    return _safe_indexing(X, indices, axis=0)


def concat_rows(first, second):
    """Stack two row blocks of the same kind (the kind of ``first``).

    Numbers next to strings become objects, so each value keeps its type.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.utils import concat_rows
    >>> concat_rows(np.array([1, 2]), np.array(["a"]))
    array([1, 2, 'a'], dtype=object)
    """
    if hasattr(first, "iloc"):
        import pandas as pd

        if not hasattr(second, "iloc"):
            second = type(first)(np.asarray(second), **_frame_kwargs(first))
        return pd.concat([first, second], ignore_index=True)
    if sp.issparse(first):
        return sp.vstack([first, sp.csr_matrix(second)], format=first.format)
    if isinstance(first, list):
        return [*first, *(second.tolist() if hasattr(second, "tolist") else second)]
    first, second = np.asarray(first), np.asarray(second)
    kinds = {first.dtype.kind, second.dtype.kind}
    if len(kinds) > 1 and kinds & set("USO"):
        # np.concatenate would turn numbers into strings next to strings;
        # as objects, each value keeps its type and a mix stays detectable.
        first, second = first.astype(object), second.astype(object)
    return np.concatenate([first, second])


def _frame_kwargs(frame) -> dict:
    if frame.ndim == 2:
        return {"columns": frame.columns}
    return {"name": frame.name}
