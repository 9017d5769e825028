"""Optimal-transport distance between the groups' score distributions."""

from numbers import Real

import numpy as np
from sklearn.utils import check_consistent_length, column_or_1d

from ..utils import check_sensitive_features, import_optional
from ._base import Method, check_method


def _wasserstein(ot, u, v, u_w, v_w, p: float) -> float:
    # POT returns W_p ** p; the metric is W_p itself.
    value = float(ot.wasserstein_1d(u, v, u_w, v_w, p=p))
    return max(value, 0.0) ** (1.0 / p)


def optimal_transport_distance(
    y_true,
    y_score,
    *,
    sensitive_features,
    p: float = 1,
    method: Method = "between_groups",
    sample_weight=None,
) -> float:
    r"""Wasserstein-p distance between the groups' score distributions.

    Demographic parity asks the *decisions* to be independent of the group;
    this asks the same of the whole score distribution, so it does not depend on
    a threshold. For groups :math:`a, b` with score distributions
    :math:`\mu_a, \mu_b` (weighted empirical measures, weights normalised to 1
    within each group):

    - ``method="between_groups"``: :math:`\max_{a \ne b} W_p(\mu_a, \mu_b)`;
    - ``method="to_overall"``: :math:`\max_a W_p(\mu_a, \mu)` with :math:`\mu`
      the distribution over all samples.

    :math:`W_p(\mu, \nu) = (\int_0^1 |F_\mu^{-1}(q) - F_\nu^{-1}(q)|^p\,dq)^{1/p}`
    is computed exactly by POT's ``ot.wasserstein_1d`` (which returns
    :math:`W_p^p`; the root is taken here). The "OTD" of the FACA-GEN paper is
    this distance between two groups' predicted probabilities.

    POT is imported on the first call (it is heavy to import).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Ignored except for its length, for a signature like the other metrics.
    y_score : array-like of shape (n_samples,)
        Real-valued scores, for example ``predict_proba(X)[:, 1]``.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group labels; several columns form intersectional groups.
    p : float, default=1
        Order of the distance, at least 1.
    method : {"between_groups", "to_overall"}, default="between_groups"
        Whether groups are compared pairwise or each with the whole population.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; normalised within each group.

    Returns
    -------
    distance : float
        Non-negative, in the units of ``y_score``; 0 when every group has the
        same score distribution.

    Examples
    --------
    >>> from skfairal.metrics import optimal_transport_distance
    >>> scores = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]
    >>> optimal_transport_distance(None, scores, sensitive_features=[0, 0, 0, 1, 1, 1])
    0.5
    """
    check_method(method)
    if not isinstance(p, Real) or isinstance(p, bool) or not p >= 1:
        raise ValueError(f"p must be a real number >= 1, got {p!r}.")
    # np.ndim/np.shape, not .ndim: a nested list (no .ndim) gets the same message.
    if np.ndim(y_score) == 2 and np.shape(y_score)[1] > 1:
        raise ValueError(
            f"y_score must be 1-D, got shape {np.shape(y_score)}; for predict_proba "
            "output pass the positive-class column, predict_proba(X)[:, 1]."
        )
    scores = column_or_1d(y_score, warn=False).astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("y_score contains NaN or infinite values.")
    arrays = [scores]
    if y_true is not None:
        arrays.insert(0, np.asarray(y_true))
    if sample_weight is None:
        weights = np.ones_like(scores)
    else:
        weights = column_or_1d(sample_weight, warn=False).astype(np.float64)
        arrays.append(weights)
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("sample_weight must be finite and non-negative.")
    try:
        check_consistent_length(*arrays)
    except ValueError as exc:
        raise ValueError(f"y_true, y_score and sample_weight: {exc}") from exc
    if len(scores) == 0:
        raise ValueError("y_score is empty.")
    enc = check_sensitive_features(sensitive_features, len(scores), min_groups=2)

    members, masses = [], []
    for k, group in enumerate(enc.groups):
        idx = np.flatnonzero(enc.codes == k)
        mass = weights[idx].sum()
        if mass <= 0:
            # POT would divide by zero; a group with no weight has no distribution.
            raise ValueError(
                f"group {group!r} of sensitive_features has zero total sample_weight, "
                "so it has no score distribution to compare."
            )
        members.append(idx)
        masses.append(weights[idx] / mass)

    ot = import_optional("ot", purpose="optimal_transport_distance")
    if method == "to_overall":
        overall_w = weights / weights.sum()
        return max(
            _wasserstein(ot, scores[idx], scores, w, overall_w, p)
            for idx, w in zip(members, masses)
        )
    return max(
        _wasserstein(
            ot, scores[members[a]], scores[members[b]], masses[a], masses[b], p
        )
        for a in range(len(members))
        for b in range(a + 1, len(members))
    )
