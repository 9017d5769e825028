"""Column statistics for standardising features."""

import numpy as np
import scipy.sparse as sp


def column_mean_and_scale(X) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation, a zero deviation read as 1.

    ``(X - mean) / scale`` then standardises X, and a constant column becomes
    zeros instead of NaN. The statistics are float64 whatever the dtype of X,
    and the deviation is the population one (``ddof=0``), as in
    :class:`~sklearn.preprocessing.StandardScaler`. A sparse matrix's
    statistics count its implicit zeros.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Numeric rows; a 1-D array is one column.

    Returns
    -------
    mean : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
        Positive: the standard deviation, or 1 where it is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.utils import column_mean_and_scale
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> mean, scale = column_mean_and_scale(X)
    >>> mean, scale
    (array([2., 5.]), array([1., 1.]))
    >>> (X - mean) / scale
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, variance = mean_variance_axis(sp.csr_matrix(X, dtype=np.float64), 0)
        deviation = np.sqrt(variance)
    else:
        X = np.asarray(X)
        mean = X.mean(axis=0, dtype=np.float64)
        deviation = X.std(axis=0, dtype=np.float64)
    return mean, np.where(deviation > 0, deviation, 1.0)
