"""Falcon: target subgroups chosen by an EXP3 bandit (Tae et al., PVLDB 2024)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..metrics import group_rate_gap
from ..policies import Exp3Bandit
from ..utils import check_sensitive_features, select_top_k
from ._base import BaseQueryStrategy, check_fairness_set
from ._uncertainty import entropy_utility

# Which rate each metric compares across groups, as (rows the rate is taken
# over, label to add to the group with the lowest rate, label to add to the
# group with the highest rate): adding positives of a group raises its rate of
# positive predictions, adding negatives lowers it (Falcon, Table 2).
_RATES = {
    "demographic_parity": [(None, 1, 0)],
    "equal_opportunity": [(1, 1, None)],
    "equalized_odds": [(1, 1, None), (0, None, 0)],
}


def falcon_targets(y_pred, y_true, group_codes, n_groups: int, metric: str, *, z=None):
    """The disparity of ``metric`` and the (label, group) subgroups to add.

    For each rate the metric compares (the positive-prediction rate for
    demographic parity; the true-positive rate for equal opportunity; the
    true- and false-positive rates for equalized odds), the gap is the largest
    minus the smallest group rate, and the targets are the subgroups whose
    labels move those two rates toward each other: positives of the group
    with the lowest rate, negatives of the group with the highest. Equalized
    odds takes the rate with the wider gap: positives of the group with the
    lowest true-positive rate, or negatives of the group with the highest
    false-positive rate.

    Parameters
    ----------
    y_pred, y_true : ndarray of shape (n_samples,)
        Predicted and true class codes, 0 or 1 (``y_true`` may be None for
        demographic parity).
    group_codes : ndarray of shape (n_samples,)
        Group code of each row, in ``[0, n_groups)``.
    n_groups : int
        Number of groups.
    metric : {"demographic_parity", "equal_opportunity", "equalized_odds"}
    z : float or None, default=None
        With a number, a gap is targeted only when it exceeds ``z`` standard
        errors of the difference of its two groups' rates (each rate's
        variance from ``(k + 1) / (n + 2)`` of its ``k`` positive predictions
        among ``n`` rows, so that a rate of 0 or 1 on few rows is still
        noisy), and equalized odds takes the wider of its gaps that do: a
        gap the validation rows cannot tell from noise names no direction to
        push. None targets the widest gap, even a zero one.

    Returns
    -------
    disparity : float
        The largest gap, the metric's value (0 when fewer than two groups
        have rows).
    targets : list of (int, int)
        ``(label code, group code)`` of each target subgroup.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.query import falcon_targets
    >>> y_pred = np.array([1, 1, 0, 1, 0, 0])
    >>> groups = np.array([0, 0, 0, 1, 1, 1])
    >>> falcon_targets(y_pred, None, groups, 2, "demographic_parity")
    (0.333..., [(1, 1), (0, 0)])
    >>> falcon_targets(y_pred, None, groups, 2, "demographic_parity", z=1.0)
    (0.333..., [])
    """
    disparity, targeted, targets = 0.0, -1.0, []
    for condition, low_label, high_label in _RATES[metric]:
        rows = np.ones(len(y_pred), dtype=bool)
        if condition is not None:
            rows = np.asarray(y_true) == condition
        counts = np.bincount(group_codes[rows], minlength=n_groups)
        positives = np.bincount(
            group_codes[rows], weights=y_pred[rows] == 1, minlength=n_groups
        )
        # A group without rows has no rate (NaN), which the gap leaves out.
        rates = np.full(n_groups, np.nan)
        np.divide(positives, counts, out=rates, where=counts > 0)
        gap = group_rate_gap(rates)
        if np.isnan(gap):
            continue
        disparity = max(disparity, gap)
        low, high = np.nanargmin(rates), np.nanargmax(rates)
        if z is not None:
            smoothed = (positives[[low, high]] + 1) / (counts[[low, high]] + 2)
            noise = np.sqrt(np.sum(smoothed * (1 - smoothed) / counts[[low, high]]))
            if gap <= z * noise:
                continue
        # With two rates (equalized odds) only the wider gap is targeted: the
        # narrow one's extreme group flips with noise, and its subgroup would
        # move the wide gap the wrong way.
        if gap <= targeted:
            continue
        targeted, targets = gap, []
        for label, group in ((low_label, low), (high_label, high)):
            if label is not None:
                targets.append((label, int(group)))
    return disparity, targets


def postponement_mask(y, sensitive_features, n_postponed: int, *, targets, last):
    """Trial and error: which waiting rows to train on now.

    Rows postponed earlier (the first ``n_postponed``) are used once their
    (label, group) is one of the current ``targets``; new rows are postponed
    when their group is the group of one of the ``last`` query's targets but
    their revealed label is not that target's label. Everything else is used.
    ``targets`` and ``last`` hold ``(label code, group value)`` pairs. Falcon
    and FACA-GEN's fairness arm share it.
    """
    usable = np.ones(len(y), dtype=bool)
    if sensitive_features is None:
        return usable
    encoding = check_sensitive_features(sensitive_features, len(y))
    codes = encoding.codes
    old = np.zeros(len(y), dtype=bool)
    old[:n_postponed] = True
    targeted = np.zeros(len(y), dtype=bool)
    for label, group in targets:
        targeted |= (y == label) & (codes == encoding.code_of(group))
    usable[old] = targeted[old]
    for label, group in last:
        miss = (codes == encoding.code_of(group)) & (y != label)
        usable[~old & miss] = False
    return usable


class _TargetBandit:
    """EXP3 over one set of target subgroups' policies, with Falcon's warm-up."""

    def __init__(self, targets, risk_levels, gamma):
        self.policies = [(t, r) for t in targets for r in risk_levels]
        self.n_risks = len(risk_levels)
        self.gamma = gamma
        # gamma = 1 draws uniformly: the warm-up explores every policy alike.
        # Arms are drawn from the caller's per-round generator (select(rng)).
        self.bandit = Exp3Bandit(len(self.policies), gamma=1.0)
        self.n_queried = 0
        self.max_gain = 0.0
        self.scale = None

    def reward(self, gain: float, n_queried: int, warm_up: int) -> float | None:
        """Record a batch's fairness gain; return the reward credited, if any."""
        self.n_queried += n_queried
        self.max_gain = max(self.max_gain, gain)
        if self.n_queried < warm_up:
            return None
        if self.scale is None:
            if self.max_gain <= 0:
                return None
            # Rewards are gains relative to the largest gain seen so far, so
            # they land in [0, 1] whatever the metric's scale.
            self.scale = self.max_gain
            k = len(self.policies)
            gamma = self.gamma
            if gamma == "auto":
                # The authors' code: EXP3's gamma with g = 1 / (largest gain).
                gamma = np.sqrt(k * np.log(k) * self.scale / (np.e - 1))
            self.bandit.gamma = float(np.clip(gamma, 1e-6, 1.0))
        return float(np.clip(gain / self.scale, 0.0, 1.0))

    def credit(self, arm: int, reward: float, probability: float) -> None:
        """EXP3 update of ``arm``; half the reward to neighbouring risk levels."""
        self.bandit.update(arm, reward, probability)
        target = arm // self.n_risks
        for other in (arm - 1, arm + 1):
            if 0 <= other < len(self.policies) and other // self.n_risks == target:
                self.bandit.update(other, 0.5 * reward, probability, propagated=True)


def cap_release(usable, n_postponed: int):
    """Let released rows take only the places of the batch's rows postponed now.

    The longest-waiting go first, so the training set grows by one batch a
    round, as under any strategy. Released all at once, a target that flips
    (as a noisy validation rate does) adds every row held back against it, a
    step many batches long that undoes the rounds before. ``usable`` is
    :func:`postponement_mask`'s output, changed in place and returned.
    """
    slots = int(np.sum(~usable[n_postponed:]))
    released = np.flatnonzero(usable[:n_postponed])
    usable[released[slots:]] = False
    return usable


class FalconSampling(BaseQueryStrategy):
    """Falcon: label the subgroups that fix the disparity, chosen by a bandit.

    The strategy of Tae, Zhang, Park, Rong and Whang (*Falcon: Fair Active
    Learning using Multi-armed Bandits*, PVLDB 17(5), 2024; not the
    contextual-bandit algorithm of the same name). Each round:

    1. **Target subgroups.** The current model's disparity on a validation
       set names the (label, group) subgroups whose labels would shrink it
       (:func:`falcon_targets`): for demographic parity, positives of the
       group selected least and negatives of the group selected most; for
       equal opportunity, positives of the group with the lowest true-positive
       rate; for equalized odds, those or, when the false-positive rates are
       further apart, negatives of the group with the highest false-positive
       rate. More than two groups work: the groups with the lowest and
       highest rates are targeted. A gap within ``min_gap_se`` standard
       errors of its validation estimate names no target (equal rates
       included: a model that fits its labeled rows exactly, scored on them,
       shows no gap), and the round is an entropy round.
    2. **Policies.** A policy is a target subgroup ``(y_t, z_t)`` with a risk
       level ``r``: it queries the pool rows of group ``z_t`` whose
       probability ``p(y_t | x)`` is closest to ``1 - r``. A high ``r`` picks
       rows the model doubts are in the subgroup: more informative, but more
       often not in it.
    3. **Trial and error.** A queried row whose revealed label is not
       ``y_t`` is *postponed*: the learner keeps it (in ``X_postponed_``)
       but does not train on it, and adds it to the training set in a later
       round once its own (label, group) becomes a target subgroup, in the
       places of that round's newly postponed rows (the longest-waiting
       first), so the training set grows by at most one batch a round. (The
       authors' code drops such rows; the paper's intent, that a postponed
       row is used when it becomes useful, is what is implemented here.)
       Rows still postponed when the budget ends stay out of the model.
    4. **Bandit.** An EXP3 bandit per set of target subgroups chooses the
       policy. Its reward is the drop of the validation disparity that the
       batch caused (measured at the next call), divided by the largest drop
       seen during the warm-up, clipped to [0, 1]; half of it also goes to
       the same subgroup's neighbouring risk levels. The first ``warm_up``
       queried labels explore uniformly.
    5. **Accuracy trade-off.** Each round uses Falcon with probability
       ``lam`` and entropy sampling otherwise.

    The strategy keeps state between rounds (bandits, the pending reward;
    ``keeps_run_state``): a :class:`~skfairal.FairActiveClassifier` clones it
    at fit, so use one instance per learner when calling it directly. A
    query of the same round as the last one (no label bought in between)
    redoes that round: it is not rewarded and replaces its ``history_``
    entry, and with the learner's round seed it returns the same rows.
    Binary classification only; it needs the sensitive features of the pool
    (and of the labeled rows, without a ``fairness_set``).

    Parameters
    ----------
    metric : {"demographic_parity", "equal_opportunity", "equalized_odds"}, \
            default="demographic_parity"
        The disparity to reduce.
    risk_levels : array-like of float in [0, 1], default=(0.3, 0.4, 0.5, 0.6, 0.7)
        The risk levels ``r`` of the policies, increasing (neighbours share
        rewards).
    lam : float in [0, 1], default=1.0
        Probability that a round uses Falcon rather than entropy sampling;
        lower trades fairness for accuracy.
    warm_up : int, default=100
        Labels queried by a bandit before its rewards are used (the authors'
        value).
    gamma : float in (0, 1] or "auto", default="auto"
        EXP3's exploration rate after the warm-up; "auto" follows the
        authors' code, ``min(1, sqrt(K ln K * g_max / (e - 1)))`` with ``K``
        policies and ``g_max`` the largest warm-up gain.
    min_gap_se : float >= 0, default=1.0
        The smallest gap targeted, in standard errors of its estimate on the
        validation rows (see :func:`falcon_targets`); a round with no such
        gap is an entropy round. A gap within its noise names no direction:
        chasing it postpones labels on a coin flip and fits the validation
        set's noise. 0 targets every nonzero gap.
    fairness_set : tuple or None, default=None
        ``(X_val, y_val, sensitive_features_val)``, the labeled validation set
        that sets the targets and rewards (``y_val`` may be None for
        demographic parity). None uses the learner's labeled rows, scored in
        sample.
    random_state : int, RandomState instance or None, default=None
        Seed of the Falcon-or-entropy draw, the policy draw and the ties,
        used when the call's ``random_state`` is None. A learner passes each
        round its own seed, which wins: every round draws afresh, and a
        repeated query of a round (no ``teach`` in between) redoes that round
        and returns the same rows.

    Attributes
    ----------
    history_ : list of dict
        One entry per call: ``strategy`` ("falcon" or "entropy"), ``target``
        (class label and group) and ``risk`` of the chosen policy (None for
        entropy), ``disparity`` (validation disparity before the batch) and
        ``reward`` (credited at the next call; None during the warm-up).
    targets_ : list of tuple
        The current target subgroups as ``(class label, group)``; empty
        when no gap clears ``min_gap_se``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import FalconSampling
    >>> X, y, g = make_biased_classification(600, random_state=0)
    >>> learner = FairActiveClassifier(
    ...     LogisticRegression(), FalconSampling(warm_up=10, random_state=0),
    ...     budget=30, batch_size=5, random_state=0,
    ... ).fit(X, y, sensitive_features=g)
    >>> len(learner.query_strategy_.history_)
    6
    >>> n_bought = len(learner.y_labeled_) + len(learner.y_postponed_)
    >>> n_bought
    40
    """

    # Bandits and the pending reward belong to one run: a learner clones it.
    keeps_run_state = True
    requires_pool_groups = True

    _parameter_constraints = {
        "metric": [StrOptions(set(_RATES))],
        "risk_levels": ["array-like"],
        "lam": [Interval(Real, 0, 1, closed="both")],
        "warm_up": [Interval(Integral, 0, None, closed="left")],
        "gamma": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
        "min_gap_se": [Interval(Real, 0, None, closed="left")],
        "fairness_set": [tuple, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        metric: str = "demographic_parity",
        risk_levels=(0.3, 0.4, 0.5, 0.6, 0.7),
        lam: float = 1.0,
        warm_up: int = 100,
        gamma="auto",
        min_gap_se: float = 1.0,
        fairness_set=None,
        random_state=None,
    ):
        self.metric = metric
        self.risk_levels = risk_levels
        self.lam = lam
        self.warm_up = warm_up
        self.gamma = gamma
        self.min_gap_se = min_gap_se
        self.fairness_set = fairness_set
        self.random_state = random_state

    def _check_risk_levels(self) -> list[float]:
        risks = np.asarray(self.risk_levels, dtype=np.float64)
        if (
            risks.ndim != 1
            or len(risks) == 0
            or not np.all((risks >= 0) & (risks <= 1))
            or np.any(np.diff(risks) <= 0)
        ):
            raise ValueError(
                "risk_levels must be a non-empty, strictly increasing sequence of "
                f"numbers in [0, 1], got {self.risk_levels!r}."
            )
        return risks.tolist()

    def _validation(self, view):
        """Predicted and true codes and group encoding of the validation rows."""
        if self.fairness_set is None:
            encoding = view.require_labeled_groups("or a fairness_set")
            X_val, y_codes = view.X_labeled, view.y_encoded
        else:
            X_val, encoding, y_codes = check_fairness_set(
                self.fairness_set, view.classes
            )
            if y_codes is None and self.metric != "demographic_parity":
                raise ValueError(
                    f"metric={self.metric!r} compares error rates, which needs "
                    "y_val in fairness_set; it is None."
                )
        return view.predict_codes(X_val), y_codes, encoding

    def _start_run(self) -> None:
        self.bandits_ = {}
        self.history_ = []
        self.targets_ = []
        self._targets = []
        self._pending = None
        self._last_target = None
        self._last_round = None

    def _query(self, view, X_pool, n_instances, groups, rng):
        risks = self._check_risk_levels()
        if view.n_classes != 2:
            raise ValueError(
                f"Falcon needs a binary problem; the learner has {view.n_classes} "
                "classes."
            )
        if not hasattr(self, "bandits_"):
            self._start_run()
        # The round names a query; the labels bought tell rounds apart for a
        # learner without a history (a modAL learner's view is always at 1).
        round_ = (view.context.round, view.context.n_bought)
        if round_ == self._last_round:
            # No label since the last call: that round is redone, not rewarded.
            self._pending = None
            self.history_.pop()
        self._last_round = round_

        y_pred, y_true, val_groups = self._validation(view)
        disparity, targets = falcon_targets(
            y_pred,
            y_true,
            val_groups.codes,
            val_groups.n_groups,
            self.metric,
            z=self.min_gap_se,
        )
        self._credit_pending(disparity)
        classes = view.classes.tolist()
        self.targets_ = [(classes[y], val_groups.groups[z]) for y, z in targets]
        self._targets = [(y, val_groups.groups[z]) for y, z in targets]
        self._last_target = None
        entry = {"strategy": "entropy", "target": None, "risk": None}
        entry |= {"disparity": disparity, "reward": None}
        self.history_.append(entry)

        proba = view.predict_proba(X_pool)
        fallback = entropy_utility(proba)
        if not targets or rng.random_sample() >= self.lam:
            return select_top_k(fallback, n_instances, random_state=rng)
        key = tuple(self._targets)
        if key not in self.bandits_:
            self.bandits_[key] = _TargetBandit(self._targets, risks, self.gamma)
        state = self.bandits_[key]
        probabilities = state.bandit.probabilities()
        arm = state.bandit.select(random_state=rng)
        (label, group), risk = state.policies[arm]
        # Matched by value: the validation rows' groups and the pool's may
        # come in different containers.
        in_group = groups.codes == groups.code_of(group)
        if not in_group.any():
            return select_top_k(fallback, n_instances, random_state=rng)
        closeness = -np.abs(proba[:, label] - (1.0 - risk))
        # Rows outside the target group only fill a batch the group cannot,
        # ranked by entropy below every row of the group.
        utility = np.where(in_group, closeness, fallback - 2.0)
        self._pending = (key, arm, probabilities[arm], disparity, n_instances)
        self._last_target = (label, group)
        entry |= {"strategy": "falcon", "target": (classes[label], group)}
        entry["risk"] = risk
        return select_top_k(utility, n_instances, random_state=rng)

    def _credit_pending(self, disparity: float) -> None:
        if self._pending is None:
            return
        key, arm, probability, before, n_queried = self._pending
        self._pending = None
        state = self.bandits_[key]
        reward = state.reward(before - disparity, n_queried, self.warm_up)
        self.history_[-1]["reward"] = reward
        if reward is not None:
            state.credit(arm, reward, probability)

    def usable_rows(self, learner, y, *, sensitive_features, n_postponed: int):
        """Which waiting labeled rows to train on now (the learner's hook).

        Newly labeled rows are postponed when they belong to the group the
        last Falcon policy targeted but their revealed label is not its
        target label; everything else is used. Rows postponed earlier are
        used once their (label, group) is one of the current target
        subgroups, at most as many as the new rows postponed, the
        longest-waiting first. Rows taught after a Falcon query are judged
        against that query's target until the next query.

        Parameters
        ----------
        learner : FairActiveClassifier
            The learner being taught.
        y : ndarray of shape (n_waiting,)
            Class codes of the waiting rows: the ``n_postponed`` postponed
            ones first, then the new ones.
        sensitive_features : array-like of shape (n_waiting,) or None
            Their groups.
        n_postponed : int
            How many of the waiting rows were postponed earlier.

        Returns
        -------
        usable : ndarray of shape (n_waiting,), dtype=bool
            True for the rows to add to the training set now.
        """
        if not hasattr(self, "bandits_"):
            return np.ones(len(y), dtype=bool)
        last = [] if self._last_target is None else [self._last_target]
        usable = postponement_mask(
            y, sensitive_features, n_postponed, targets=self._targets, last=last
        )
        return cap_release(usable, n_postponed)
