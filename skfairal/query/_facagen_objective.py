"""FACA-GEN's round objective and what acts on it.

The bandit it rewards, the controller of its weight lambda, the collapse
guard, the reward and lambda's share of a batch: functions of a round's
observations, kept apart from the strategy's state so that each rule can be
read (and tested) on its own.
"""

import numpy as np

from ..utils import select_top_k, shared_group_codes

_TIE = 1e-12


def rate_band(prevalences, ratio: float | None) -> tuple[float, float]:
    """The predicted positive rates the collapse guard accepts.

    Both classes' predicted rates must lie within a factor ``ratio`` of
    their rates in the labels: a positive rate ``r`` with ``p / ratio <= r
    <= ratio * p`` and the same for ``1 - r`` against ``1 - p``. Bounding
    the rarer class is what matters: with 96 % positives, ``r <= 2 * 0.96``
    bounds nothing, while ``1 - r >= 0.04 / 2`` refuses a model that
    predicts 99 % positive. Given several estimates of the prevalence ``p``,
    the band runs from the lowest one's low end to the highest one's high
    end.

    Parameters
    ----------
    prevalences : sequence of float in [0, 1]
        Estimates of the share of positives.
    ratio : float > 1 or None
        The factor; None accepts every rate.

    Returns
    -------
    low, high : float
        The band's ends.

    Examples
    --------
    >>> from skfairal.query._facagen_objective import rate_band
    >>> [round(r, 3) for r in rate_band([0.3], 2.0)]
    [0.15, 0.6]
    >>> [round(r, 3) for r in rate_band([0.96], 2.0)]
    [0.92, 0.98]
    >>> [round(r, 3) for r in rate_band([0.9, 0.96], 2.0)]
    [0.8, 0.98]
    """
    if ratio is None:
        return 0.0, 1.0
    # Both ends grow with the prevalence: the extreme estimates set them.
    p, q = float(min(prevalences)), float(max(prevalences))
    low = max(p / ratio, 1.0 - ratio * (1.0 - p))
    high = min(ratio * q, 1.0 - (1.0 - q) / ratio)
    return low, high


def stratified_prevalence(positive, groups, pool_groups) -> float:
    """The share of positives in labels, post-stratified to the pool's groups.

    Each group's rate of positives in the labels is weighted by that group's
    share of the pool: a seed drawn mostly from one group, or a fairness arm
    that buys from its target groups, changes the mix of groups in the
    labels, not each group's rate. A pool group without labels takes the
    labels' overall rate; without groups (``groups`` or ``pool_groups``
    None) the estimate is the plain share.

    Parameters
    ----------
    positive : ndarray of shape (n_labels,), dtype=bool
        Which labels are positive.
    groups, pool_groups : GroupEncoding or None
        The groups of the labeled rows and of the pool rows.

    Returns
    -------
    prevalence : float

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.query._facagen_objective import stratified_prevalence
    >>> from skfairal.utils import check_sensitive_features
    >>> positive = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    >>> labeled = check_sensitive_features(["a", "a", "a", "a", "a", "a", "b", "b"])
    >>> pool = check_sensitive_features(["a", "b", "b", "b"])
    >>> stratified_prevalence(positive, labeled, pool)  # a: 1/2, b: 0
    0.125
    """
    positive = np.asarray(positive, dtype=np.float64)
    if groups is None or pool_groups is None:
        return float(positive.mean())
    label_codes, pool_codes, names = shared_group_codes(groups, pool_groups)
    counts = np.bincount(label_codes, minlength=len(names))
    hits = np.bincount(label_codes, weights=positive, minlength=len(names))
    overall = hits.sum() / max(counts.sum(), 1)
    rates = np.where(counts > 0, hits / np.maximum(counts, 1), overall)
    weights = np.bincount(pool_codes, minlength=len(names))
    return float(rates @ weights / weights.sum())


def band_distance(rate: float, band: tuple[float, float]) -> float:
    """How far ``rate`` lies outside ``band`` (0 inside)."""
    low, high = band
    return max(low - rate, rate - high, 0.0)


def guarded_targets(targets, rate: float, band: tuple[float, float]) -> list:
    """The ``(label, group)`` targets whose labels do not push ``rate``
    further out of ``band``.

    Below the band only positives are targets, above it only negatives:
    the disparity then falls by the route that brings the model back toward
    the labels' prevalence, not by the one that empties a class.
    """
    low, high = band
    if rate < low:
        return [(y, z) for y, z in targets if y == 1]
    if rate > high:
        return [(y, z) for y, z in targets if y == 0]
    return list(targets)


def round_reward(before, after, lam: float, band: tuple[float, float]) -> float:
    """The reward of a round, 1 (better), 0.5 (unchanged) or 0 (worse).

    ``before`` and ``after`` are ``(accuracy, disparity, positive rate)``.
    The distance of the positive rate to ``band`` comes first: a round that
    moves the model out of the band (or further out) is worse whatever its
    accuracy and disparity, and one that moves it back is better. Between
    rounds at the same distance (both inside, most often), the objective
    ``accuracy - lam * disparity`` decides. The current ``lam`` and ``band``
    judge both sides, so a change of either is no reward.
    """
    closer = band_distance(before[2], band) - band_distance(after[2], band)
    if abs(closer) > _TIE:
        return 1.0 if closer > 0 else 0.0
    change = (after[0] - lam * after[1]) - (before[0] - lam * before[1])
    return 1.0 if change > _TIE else 0.0 if change < -_TIE else 0.5


def fairness_share(lam: float, n_instances: int, rng) -> int:
    """How many of a batch's rows the fairness arm picks besides another arm.

    The objective weighs accuracy 1 and disparity ``lam``; the batch is
    split in the same proportion, ``lam / (1 + lam)`` of it for the
    fairness arm. The count is rounded at random (up with probability the
    fractional part), so that its mean is exact even for a batch of one.
    """
    share = n_instances * lam / (1.0 + lam)
    return min(n_instances, int(np.floor(share + rng.uniform())))


def split_batch(utility, fairness, n_instances: int, n_fair: int, rng):
    """(picks, rows the fairness arm took) of a batch shared with the arm.

    The fairness arm takes its ``n_fair`` best rows by ``fairness`` (NaN:
    rows it does not score; fewer scored rows, fewer taken), then the
    round's arm its best others by ``utility``. ``fairness`` may be None
    when ``n_fair`` is 0.
    """
    share = np.empty(0, dtype=np.intp)
    if n_fair:
        scored = np.flatnonzero(~np.isnan(fairness))
        n_fair = min(n_fair, len(scored))
        if n_fair:
            share = scored[select_top_k(fairness[scored], n_fair, random_state=rng)]
    own = np.empty(0, dtype=np.intp)
    if n_fair < n_instances:
        rest = np.array(utility, dtype=np.float64)
        rest[share] = -np.inf
        own = select_top_k(rest, n_instances - n_fair, random_state=rng)
    return np.concatenate([own, share]), n_fair


def make_bandit(name: str, n_arms: int, seed: int):
    """The bandit over the arms, rewarded with the objective's changes."""
    from ..policies import Exp3Bandit, ThompsonBandit, UCB1Bandit

    if name == "exp3":
        return Exp3Bandit(n_arms, gamma=0.5, random_state=seed)
    if name == "ucb1":
        return UCB1Bandit(n_arms, random_state=seed)
    return ThompsonBandit(n_arms, random_state=seed)


def make_controller(name: str, target: float, seed: int):
    """The controller of lambda, the objective's weight of the disparity."""
    from ..policies import DualAscentController, FixedLambda, PolicyGradientController

    if name == "rl":
        return PolicyGradientController(target=target, random_state=seed)
    if name == "dual":
        return DualAscentController(target=target, initial=1.0)
    return FixedLambda(1.0, target=target)
