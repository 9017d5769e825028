"""FACA-GEN: a bandit over informativeness, fairness and causal consistency."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..utils import check_sensitive_features, concat_rows, select_top_k, take_rows
from ._base import BaseQueryStrategy, check_fairness_set
from ._facagen_causal import causal_gap, fit_representation
from ._facagen_objective import (
    fairness_share,
    guarded_targets,
    make_bandit,
    make_controller,
    rate_band,
    round_reward,
    split_batch,
    stratified_prevalence,
)
from ._falcon import cap_release, falcon_targets, postponement_mask
from ._influence import LogisticInfluence, sample_fairness_rows
from ._uncertainty import entropy_utility

ARMS = ("informativeness", "fairness", "causal_consistency")
_MAX_SEED = 2**31 - 1


class FACAGENSampling(BaseQueryStrategy):
    """FACA-GEN: a bandit picks, each round, which criterion chooses the batch.

    After Hawabaz, *Fairness-Aware Causal Active Learning for Genomics AI*.
    The paper names its three components and little else; every choice below
    is ours and stated. Three arms score the pool:

    - ``"informativeness"``: entropy of the learner's prediction;
    - ``"fairness"``: the expected disparity reduction, from FAL's fast
      first-order refit (:class:`LogisticInfluence`), made one-sided with
      trial and error. The target subgroups are those whose labels move the
      validation disparity toward parity (:func:`falcon_targets`: positives
      of the least-selected group, negatives of the most-selected, for
      demographic parity). Among the target groups' pool rows, the arm picks
      those whose labeling *with the target label* would lower the disparity
      most; a row whose revealed label is another is postponed (kept in the
      learner's ``X_postponed_``) until its (label, group) becomes a target,
      as in :class:`FalconSampling`, with Falcon's defaults: a gap within one
      standard error of its validation estimate names no target, and
      released rows grow the training set by at most one batch a round.
      When the learner's last step is not a logistic regression it reads
      (no fast refit), the arm picks the target rows whose target label is
      most uncertain;
    - ``"causal_consistency"``: how much the prediction for a row rests on
      the confounded part of the features: the largest change of a class
      probability between the learner and a clone of its last step fitted
      on the deconfounded ``representation`` of the labeled rows' features.
      Everything happens in the learner's feature space (for a Pipeline,
      the rows transformed by every step but the last). With the default
      residualiser and a ``LogisticRegression``, the clone is folded into a
      logistic regression on the features
      (:meth:`~skfairal.representation.AncestryResidualizer.affine_map`), so
      the pool's features are never residualised.

    A bandit (``"exp3"``, ``"ucb1"`` or ``"thompson"``) chooses the arm of
    each round. The reward of a round, credited at the next query, compares
    the validation objective ``accuracy - lambda * disparity`` after and
    before its labels: 1 if it rose, 0.5 if unchanged, 0 if it fell (judged
    with the current lambda, so a change of lambda is no reward). A
    controller tunes lambda from the validation disparity against ``target``:
    ``"rl"`` (:class:`~skfairal.policies.PolicyGradientController`, REINFORCE
    over lower / keep / raise), ``"dual"`` (Lagrangian dual ascent,
    :class:`~skfairal.policies.DualAscentController`) or ``"fixed"``
    (lambda = 1). The validation set is ``fairness_set`` or, by default, the
    learner's labeled rows.

    Lambda also splits the batch. The objective weighs accuracy 1 and the
    disparity lambda, so a round whose arm is not ``"fairness"`` gives the
    fairness arm ``lambda / (1 + lambda)`` of its rows (rounded at random to
    a whole number, exact on average), ranked by the disparity expected
    after labeling them (over the model's probabilities of their labels, as
    FAL's, since these rows are never postponed); the round's arm picks the
    rest. A reward alone could not carry lambda: it is the sign of a change,
    which lambda decides only when accuracy and disparity rise or fall
    together, and on the labeled rows a model with more features than rows
    is always right, so the accuracy never changes. Through the split, the
    ``target`` sets how many labels go to fairness: a reachable target
    lowers lambda and gives the labels to the round's arm, an unreachable
    one raises it until the fairness arm takes nearly every batch.

    **Collapse guard.** A model that predicts one class everywhere has no
    disparity, so ``accuracy - lambda * disparity`` with a large lambda
    rewards collapsing. The guard wants each class's predicted rate (read
    where the disparity is) within a factor ``max_rate_ratio`` of its rate
    in the labels: with prevalence ``p`` and the default factor 2, a
    positive rate in ``[max(p / 2, 1 - 2 (1 - p)), min(2 p, 1 - (1 - p) /
    2)]``, ``[0.92, 0.98]`` for 96 % positives, ``[0.15, 0.6]`` for 30 %.
    ``p`` comes from the labels of the rows the rate is read on (a
    ``fairness_set``, or the labeled rows for equalized odds) or, when it is
    read on the pool, from two estimates biased in different ways, each
    post-stratified to the pool's groups (a group's rate in the labels
    weighted by its share of the pool, so that a seed drawn mostly from one
    group does not skew ``p``), the band running from the lower one's low
    end to the higher one's high end: the labels of the first query's
    labeled rows (no arm chose them, but a seed may be small) and every
    label revealed since, postponed ones too (the arms buy rows near the
    decision boundary, more balanced than the population). Out of the band
    the disparity is no guide: the reward looks first at the rate's distance
    to the band (a round that moves the model out, or further out, earns 0
    whatever its disparity; one that moves it back earns 1), and the next
    round is entropy's, whatever the arm drawn or the arms in play: rows
    near the boundary carry the under-predicted class far more often than
    the model predicts it. Such a round is not credited to the bandit (it
    did not choose it), gives lambda no share and postpones nothing, and
    meanwhile postponed rows rejoin only if their label brings the rate
    back. The guard steers the labels bought; it cannot force a model whose
    rate no labels move.

    The first query fixes the run: the arms in play (``"fairness"`` drops
    out when the pool has no ``sensitive_features``), the bandit and the
    controller, seeded from that query's seed, and the fitted
    representation, which by default is an
    :class:`~skfairal.representation.AncestryResidualizer` fitted on the
    features of the labeled and pool rows: the confounder axes are estimated
    from the data themselves. Each round's arm draw, fairness sample and
    tie-breaking come from that round's seed, so a learner with a fixed
    ``random_state`` makes the same run, and a repeated query (no label
    taught in between) redoes its round and returns the same rows.

    Parameters
    ----------
    bandit : {"exp3", "ucb1", "thompson"}, default="exp3"
        The bandit over the arms.
    controller : {"rl", "dual", "fixed"}, default="rl"
        The controller of the fairness weight lambda. On
        ``benchmarks/frontier.py`` dual ascent ended with lower mean DP and
        EO on Adult and COMPAS (within about one seed std) and level
        elsewhere; the RL agent, undominated by the fairlearn baselines on
        more datasets, stays the default.
    target : float in (0, 1), default=0.05
        The disparity the controller aims at.
    metric : {"demographic_parity", "equalized_odds"}, \
            default="demographic_parity"
        The disparity on the validation set, which the controller and the
        fairness arm act on. Equalized odds needs labels there, which the
        learner's labeled rows (the default validation set) have. Where the
        prevalence differs between groups, an accurate model cannot reach a
        DP of 0: name ``"equalized_odds"`` (as the 1000 Genomes benchmark
        does).
    arms : tuple of str, default=("informativeness", "fairness", \
            "causal_consistency")
        The arms in play; one arm is an ablation.
    representation : transformer or None, default=None
        The deconfounded representation of the causal-consistency arm,
        cloned and fitted (without labels) on the features of the labeled
        and pool rows of the first query. None means
        ``AncestryResidualizer(n_components)``, seeded from that query. It
        serves selection only: the final model is the learner's estimator,
        on the features it is given. A model meant for people whose
        environment differs from the cohort's can put the residualiser in
        the learner's pipeline, ``make_pipeline(AncestryResidualizer(10),
        LogisticRegression())``; on ``benchmarks/facagen_1kg.py`` that
        lowers EO in distribution (0.15 vs 0.44) at a large cost in F1
        (0.35 vs 0.58), and under a confounder shift matches entropy
        sampling's accuracy (0.673 both) at a lower EO (0.16 vs 0.42).
    n_candidates : int or None, default=256
        The fairness arm's refit estimate is computed for this many target
        rows, those whose target label is least certain (None: all of them);
        it bounds the arm's cost on large pools.
    max_fairness_rows : int or None, default=2000
        Without a ``fairness_set``, the fairness arm estimates each
        candidate's demographic parity on at most this many pool rows (a
        sample drawn from the round's seed; None: all), so a query costs
        time linear in the pool.
    n_components : int, default=10
        Principal components the default representation removes (capped at
        ``min(n_rows, n_features) - 1``).
    fairness_set : tuple or None, default=None
        ``(X_val, y_val, sensitive_features_val)``, a labeled validation
        set; None uses the learner's labeled rows.
    max_rate_ratio : float > 1 or None, default=2.0
        The collapse guard's factor: each class's predicted rate should stay
        within this factor of its rate in the labels. None turns the guard
        off.
    random_state : int, RandomState instance or None, default=None
        Seed of the queries when the call passes none (a learner passes its
        own, which then wins).

    Attributes
    ----------
    arms_ : list of str
        The arms in play, in the bandit's order.
    bandit_, controller_ : object
        The bandit over ``arms_`` and the lambda controller.
    representation_ : transformer
        The fitted deconfounded representation (None while the
        causal-consistency arm is out of play).
    arm_history_ : list of str
        The arm of each round (``"informativeness"`` in the collapse guard's
        rounds, even when out of play).
    reward_history_ : list of float or None
        The reward credited to each round's arm (None until the next query).
    lambda_history_ : list of float
        Lambda after each round's controller update.
    disparity_history_ : list of float
        The validation disparity seen at each round.
    positive_rate_history_ : list of float
        The predicted positive rate seen at each round, where the disparity
        is read.
    rate_band_history_ : list of (float, float)
        The collapse guard's band at each round.
    fairness_rows_history_ : list of int
        How many of each round's rows the fairness arm picked (all of them
        in its own rounds, lambda's share in the others).

    See Also
    --------
    LogisticInfluence : the fairness arm's first-order refit.
    FALSampling : expected unfairness, the same estimate.
    FalconSampling : target subgroups and trial and error.
    skfairal.representation.AncestryResidualizer : the default representation.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.query import FACAGENSampling
    >>> X, y, g = make_biased_classification(500, random_state=0)
    >>> learner = FairActiveClassifier(
    ...     LogisticRegression(),
    ...     FACAGENSampling(n_components=2),
    ...     budget=30,
    ...     batch_size=10,
    ...     initial_size=30,
    ...     random_state=0,
    ... ).fit(X, y, sensitive_features=g)
    >>> strategy = learner.query_strategy_
    >>> len(strategy.arm_history_), set(strategy.arm_history_) <= set(strategy.arms_)
    (3, True)
    """

    # A run's bandit, controller and histories live on the strategy, so a
    # learner clones it at every fit.
    keeps_run_state = True

    _parameter_constraints = {
        "bandit": [StrOptions({"exp3", "ucb1", "thompson"})],
        "controller": [StrOptions({"rl", "dual", "fixed"})],
        "target": [Interval(Real, 0, 1, closed="neither")],
        "metric": [StrOptions({"demographic_parity", "equalized_odds"})],
        "arms": [tuple, list],
        "representation": [HasMethods(["fit", "transform"]), None],
        "n_candidates": [Interval(Integral, 1, None, closed="left"), None],
        "max_fairness_rows": [Interval(Integral, 2, None, closed="left"), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "fairness_set": [tuple, None],
        "max_rate_ratio": [Interval(Real, 1, None, closed="neither"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        bandit: str = "exp3",
        controller: str = "rl",
        target: float = 0.05,
        metric: str = "demographic_parity",
        arms: tuple[str, ...] = ARMS,
        representation=None,
        n_candidates: int | None = 256,
        max_fairness_rows: int | None = 2000,
        n_components: int = 10,
        fairness_set=None,
        max_rate_ratio: float | None = 2.0,
        random_state=None,
    ):
        self.bandit = bandit
        self.controller = controller
        self.target = target
        self.metric = metric
        self.arms = arms
        self.representation = representation
        self.n_candidates = n_candidates
        self.max_fairness_rows = max_fairness_rows
        self.n_components = n_components
        self.fairness_set = fairness_set
        self.max_rate_ratio = max_rate_ratio
        self.random_state = random_state

    # -- validation -----------------------------------------------------------

    def _check_arms(self) -> list[str]:
        arms = list(self.arms)
        unknown = [a for a in arms if a not in ARMS]
        if not arms or unknown or len(set(arms)) != len(arms):
            raise ValueError(
                f"arms must be distinct names among {list(ARMS)}, got {self.arms!r}."
            )
        return arms

    def _validation(self, view):
        """(X_val, y codes, group encoding or None) of the validation set."""
        if self.fairness_set is not None:
            X_val, groups, y_codes = check_fairness_set(self.fairness_set, view.classes)
            if y_codes is None:
                raise ValueError(
                    "FACAGENSampling's reward needs accuracy, so y_val in "
                    "fairness_set; it is None."
                )
            return X_val, y_codes, groups
        return view.X_labeled, view.y_encoded, view.labeled_groups

    # -- a run's state ----------------------------------------------------------

    def _start(self, view, pool_features, arms, seeds) -> None:
        bandit_seed, controller_seed, representation_seed = seeds
        self.arms_ = arms
        self.bandit_ = make_bandit(self.bandit, len(arms), int(bandit_seed))
        self.controller_ = make_controller(
            self.controller, self.target, int(controller_seed)
        )
        self._representation_seed = int(representation_seed)
        self.representation_ = (
            self._fitted_representation(view, pool_features)
            if "causal_consistency" in arms
            else None
        )
        self.arm_history_, self.reward_history_ = [], []
        self.lambda_history_, self.disparity_history_ = [], []
        self.positive_rate_history_, self.rate_band_history_ = [], []
        self.fairness_rows_history_ = []
        self._seed_labels, self._held = None, None
        self._out_of_band = False
        self._previous = None
        self._last_round = None
        self._targets, self._last_targets = [], []

    def _fitted_representation(self, view, pool_features):
        return fit_representation(
            view,
            pool_features,
            self.representation,
            self.n_components,
            self._representation_seed,
        )

    def _follow_feature_width(self, view, pool_features) -> None:
        # A Pipeline base refitted on more labels can widen its output (a
        # one-hot encoder meets new categories): the representation is refitted
        # on the new features, with the run's seed.
        width = np.shape(pool_features())[1]
        if getattr(self.representation_, "n_features_in_", width) != width:
            self.representation_ = self._fitted_representation(view, pool_features)

    # -- the query ----------------------------------------------------------------

    def _query(self, view, X_pool, n_instances, groups, rng):
        if view.n_classes != 2:
            raise ValueError(
                "FACAGENSampling needs a binary problem; the learner has "
                f"{view.n_classes} classes."
            )
        cache = []

        def pool_features():
            # Read at most once a query, and only by the arms that need them.
            if not cache:
                cache.append(view.features(X_pool))
            return cache[0]

        # The run's seeds are drawn at every query, used at the first: a
        # repeated first query then draws the rest of its round alike.
        seeds = rng.randint(_MAX_SEED, size=3)
        if not hasattr(self, "bandit_"):
            arms = self._check_arms()
            if groups is None and "fairness" in arms:
                arms = [a for a in arms if a != "fairness"] or ["informativeness"]
            self._start(view, pool_features, arms, seeds)
        proba = view.predict_proba(X_pool)
        redo = self._new_round(view, proba, groups)

        entropy = entropy_utility(proba)
        # Drawn on a repeat too, so that the round's later draws match.
        name = self.arms_[self.bandit_.select(random_state=rng)]
        if redo is not None:
            name = redo
        # Out of the collapse guard's band the disparity is no guide (a
        # one-class model has none), whatever the arms in play.
        forced = self._out_of_band
        if forced:
            name = "informativeness"
        self.arm_history_.append(name)
        self._last_targets = []
        fair = groups is not None and bool(self._targets) and not forced
        if name == "fairness" and fair:
            utility = self._fairness_utility(view, X_pool, groups, proba, rng)
            targeted = np.isfinite(utility)
            # Rows outside the target groups only fill a batch they cannot,
            # ranked by entropy below every target row.
            utility = np.where(np.isnan(utility), entropy - 2.0, utility)
            self._last_targets = list(self._targets)
            picks = select_top_k(utility, n_instances, random_state=rng)
            n_fair = int(targeted[picks].sum())
        else:
            if name == "causal_consistency":
                self._follow_feature_width(view, pool_features)
                utility = causal_gap(
                    view,
                    pool_features,
                    proba,
                    self.representation_,
                    default=self.representation is None,
                )
            else:
                utility = entropy
            n_fair, fairness = 0, None
            if fair and "fairness" in self.arms_:
                lam = self.lambda_history_[-1]
                n_fair = fairness_share(lam, n_instances, rng)
            if n_fair:
                fairness = self._fairness_utility(
                    view, X_pool, groups, proba, rng, expected=True
                )
            picks, n_fair = split_batch(utility, fairness, n_instances, n_fair, rng)
        self.fairness_rows_history_.append(n_fair)
        # A forced round was not the bandit's draw: it is not credited.
        self._previous = None if forced else (self.arms_.index(name), self._observed)
        return picks

    def _disparity_set(self, val_pred, pool_proba, pool_groups):
        """(predicted codes, true codes or None, groups) the disparity is read on.

        A ``fairness_set`` if given; else, for demographic parity, the pool's
        predictions (no labels needed, and the pool is larger and not fitted
        on); else the labeled rows.
        """
        if (
            self.fairness_set is None
            and self.metric == "demographic_parity"
            and pool_groups is not None
        ):
            return pool_proba.argmax(axis=1), None, pool_groups
        _, y_codes, groups = self._round_validation
        return val_pred, y_codes, groups

    def _new_round(self, view, pool_proba, pool_groups):
        """Observe the validation objective, update lambda, credit the last arm.

        Returns the arm to redo when the query repeats the last one, else None.
        """
        # The labels bought tell rounds apart for a learner whose view is
        # always at round 1 (a modAL learner's).
        round_ = (view.context.round, view.context.n_bought)
        redo = None
        if round_ == self._last_round:
            # No label since the last query: that round is redone, neither
            # rewarded nor shown to the controller again.
            self._previous = None
            redo = self.arm_history_.pop()
            self.reward_history_.pop()
            self.disparity_history_.pop()
            self.positive_rate_history_.pop()
            self.rate_band_history_.pop()
            self.fairness_rows_history_.pop()
            lam = self.lambda_history_.pop()
        self._last_round = round_
        # Validated and predicted once a round: the reward, the disparity and
        # the fairness arm all read it.
        self._round_validation = self._validation(view)
        X_val, y_codes, _ = self._round_validation
        val_pred = view.predict_codes(X_val)
        accuracy = float(np.mean(val_pred == y_codes))
        pred, y_true, groups = self._disparity_set(val_pred, pool_proba, pool_groups)
        rate = float(np.mean(pred == 1))
        # Read on the pool (no labels there) or on labeled rows.
        on_pool = pool_groups if y_true is None else None
        band = rate_band(self._prevalences(view, y_codes, on_pool), self.max_rate_ratio)
        disparity, targets = 0.0, []
        if groups is not None and groups.n_groups >= 2:
            # Falcon's noise rule: a gap within one standard error of the
            # validation estimate (a zero gap on rows the model fits
            # exactly) names no target.
            disparity, targets = falcon_targets(
                pred, y_true, groups.codes, groups.n_groups, self.metric, z=1.0
            )
            targets = guarded_targets(targets, rate, band)
        self._targets = [(y, groups.groups[z]) for y, z in targets]
        if redo is None:
            lam = float(self.controller_.update(disparity))
        if self._previous is not None:
            arm, before = self._previous
            reward = round_reward(before, (accuracy, disparity, rate), lam, band)
            self.bandit_.update(arm, reward)
            self.reward_history_[-1] = reward
        self._observed = (accuracy, disparity, rate)
        self._out_of_band = not band[0] <= rate <= band[1]
        self.reward_history_.append(None)
        self.lambda_history_.append(lam)
        self.disparity_history_.append(disparity)
        self.positive_rate_history_.append(rate)
        self.rate_band_history_.append(band)
        return redo

    def _prevalences(self, view, y_codes, pool_groups) -> list[float]:
        """Estimates of the share of positives where the rate is read.

        The labels of those rows (a ``fairness_set``, or the labeled rows)
        or, when the rate is read on the pool, two estimates biased in
        different ways, post-stratified to the pool's groups: the labels of
        the first query's labeled rows (no arm chose them, but they are few)
        and every label revealed since, the postponed ones too (many, but
        chosen near the decision boundary).
        """
        positive = y_codes == 1
        if pool_groups is None:
            return [float(np.mean(positive))]
        if self._seed_labels is None:
            self._seed_labels = (positive, view.labeled_groups)
        groups, raw = view.labeled_groups, view.labeled_sensitive_features
        held = self._held
        if (
            raw is not None
            and held is not None
            and 0 < len(held[0]) == len(view.y_postponed)
        ):
            positive = np.concatenate([positive, held[0]])
            groups = check_sensitive_features(concat_rows(raw, held[1]))
        return [
            stratified_prevalence(*self._seed_labels, pool_groups),
            stratified_prevalence(positive, groups, pool_groups),
        ]

    def _fairness_utility(
        self, view, X_pool, pool_groups, proba, rng, *, expected: bool = False
    ) -> np.ndarray:
        """Minus the validation disparity after labeling each target row with
        its target label (NaN off the target groups); with ``expected``,
        minus its expectation over the row's label."""
        label_of = np.full(pool_groups.n_groups, -1)
        for label, group in reversed(self._targets):
            code = pool_groups.code_of(group)
            if code >= 0:
                label_of[code] = label
        labels = label_of[pool_groups.codes]
        candidates = np.flatnonzero(labels >= 0)
        utility = np.full(len(labels), np.nan)
        if len(candidates) == 0:
            return utility
        if self.n_candidates is not None and len(candidates) > self.n_candidates:
            # Nested, as FAL's: the refit estimate for the target rows whose
            # target label is least certain only.
            margin = np.abs(proba[candidates, labels[candidates]] - 0.5)
            keep = np.argsort(margin, kind="stable")[: self.n_candidates]
            candidates = np.sort(candidates[keep])
        labels = labels[candidates]
        p_target = proba[candidates, labels]
        if not LogisticInfluence.can_read(view.estimator):
            # No fast refit for this model: the target rows whose target
            # label is most uncertain (Falcon's middle risk level).
            utility[candidates] = -np.abs(p_target - 0.5)
            return utility
        influence = LogisticInfluence(view, owner="FACAGENSampling's fairness arm")
        if self.fairness_set is None and self.metric == "demographic_parity":
            y_fair = None
            X_fair, fair_groups = sample_fairness_rows(
                X_pool, pool_groups, self.max_fairness_rows, rng
            )
        else:
            X_fair, y_fair, fair_groups = self._round_validation
            if self.metric == "demographic_parity":
                y_fair = None
        after = influence.unfairness(
            take_rows(X_pool, candidates),
            X_fair,
            fair_groups,
            y_fair,
            metric=self.metric,
        )
        if expected:
            utility[candidates] = -(after * proba[candidates]).sum(axis=1)
            return utility
        after = after[np.arange(len(candidates)), labels]
        # Hard predictions make ties common: the likelier target label wins.
        utility[candidates] = -after + 1e-6 * p_target
        return utility

    def usable_rows(self, learner, y, *, sensitive_features, n_postponed: int):
        """Which waiting labeled rows to train on now (the learner's hook).

        After a fairness-arm query, new rows of a target group whose label
        is not the target label are postponed; postponed rows are used once
        their (label, group) is a current target. Other arms postpone
        nothing. The held rows' labels and groups are noted: the collapse
        guard counts them among the labels revealed.

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
        if not hasattr(self, "bandit_"):
            return np.ones(len(y), dtype=bool)
        usable = cap_release(
            postponement_mask(
                y,
                sensitive_features,
                n_postponed,
                targets=self._targets,
                last=self._last_targets,
            ),
            n_postponed,
        )
        if sensitive_features is not None:
            # The learner's view has the held rows' labels, not their groups.
            held = np.flatnonzero(~usable)
            self._held = (np.asarray(y)[held] == 1, take_rows(sensitive_features, held))
        return usable
