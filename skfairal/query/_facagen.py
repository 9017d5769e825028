"""FACA-GEN: a bandit over informativeness, fairness and causal consistency."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..utils import check_sensitive_features, map_row_chunks, select_top_k
from ..utils._rows import concat_rows
from ._base import check_fairness_set, check_query_args, pool_proba
from ._fal import FALSampling, sample_fairness_rows
from ._falcon import _code_of, falcon_targets, postponement_mask
from ._uncertainty import entropy_utility

ARMS = ("informativeness", "fairness", "causal_consistency")


def _folded_linear_model(representation, model, X):
    """``model`` composed with an affine ``representation``, or None.

    When the representation is affine (``affine_map``: transform(X) = X @ A
    + c) and the model a ``LogisticRegression`` on its output, the pair is a
    logistic regression on X itself: scoring a pool with it costs one
    ``predict_proba`` instead of a transform of the pool (which cost 12.8x
    one ``predict_proba`` at 1e5 rows, ``benchmarks/scale.py``). None otherwise
    (then the caller transforms the pool in chunks).
    """
    if not (
        hasattr(representation, "affine_map")
        and isinstance(model, LogisticRegression)
        and isinstance(X, np.ndarray)
        and X.dtype.kind == "f"
    ):
        return None
    A, c = representation.affine_map()
    folded = copy.copy(model)
    folded.coef_ = model.coef_ @ A.T
    folded.intercept_ = model.intercept_ + model.coef_ @ c
    folded.n_features_in_ = A.shape[0]
    return folded


def _make_bandit(name: str, n_arms: int, rng):
    from ..policies import Exp3Bandit, ThompsonBandit, UCB1Bandit

    if name == "exp3":
        return Exp3Bandit(n_arms, gamma=0.5, random_state=rng)
    if name == "ucb1":
        return UCB1Bandit(n_arms, random_state=rng)
    return ThompsonBandit(n_arms, random_state=rng)


def _make_controller(name: str, target: float, rng):
    from ..policies import DualAscentController, FixedLambda, PolicyGradientController

    if name == "rl":
        return PolicyGradientController(target=target, random_state=rng)
    if name == "dual":
        return DualAscentController(target=target, initial=1.0)
    return FixedLambda(1.0, target=target)


class FACAGENSampling(BaseEstimator):
    """FACA-GEN: a bandit picks, each round, which criterion chooses the batch.

    After Hawabaz, *Fairness-Aware Causal Active Learning for Genomics AI*.
    The paper names its three components and little else; every choice below
    is ours and stated. Three arms score the pool:

    - ``"informativeness"``: entropy of the learner's prediction;
    - ``"fairness"``: the expected disparity reduction, from FAL's fast
      first-order refit (:class:`FALSampling`, ``method="fast"``), made
      one-sided with trial and error. The target subgroups are those whose
      labels move the validation disparity toward parity
      (:func:`falcon_targets`: positives of the least-selected group,
      negatives of the most-selected, for demographic parity). Among the
      target groups' pool rows, the arm picks those whose labeling *with the
      target label* would lower the disparity most; a row whose revealed
      label is another is postponed (kept in the learner's ``X_postponed_``)
      until its (label, group) becomes a target, as in
      :class:`FalconSampling`. With a learner that is not a logistic
      regression (no fast refit), it picks the target rows whose target
      label is most uncertain;
    - ``"causal_consistency"``: how much the prediction for a row rests on
      the confounded part of the features: the largest change of a class
      probability between the learner and a clone of its model fitted on the
      deconfounded ``representation`` of the labeled rows. With the default
      residualiser and a ``LogisticRegression``, the clone is folded into a
      logistic regression on the raw features
      (:meth:`~skfairal.representation.AncestryResidualizer.affine_map`), so
      the pool is never transformed: about 3-4x one ``predict_proba`` at
      1e5 rows (``benchmarks/scale.py``; the first query also fits the
      representation, about 50-100x once per run).

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

    The first query fixes the run: the arms in play (``"fairness"`` drops
    out when the pool has no ``sensitive_features``), the bandit, the
    controller and the fitted representation, which by default is an
    :class:`~skfairal.representation.AncestryResidualizer` fitted on the
    labeled and pool rows: the confounder axes are estimated from X itself.

    Parameters
    ----------
    bandit : {"exp3", "ucb1", "thompson"}, default="exp3"
        The bandit over the arms.
    controller : {"rl", "dual", "fixed"}, default="rl"
        The controller of the fairness weight lambda.
    target : float in (0, 1), default=0.05
        The disparity the controller aims at.
    metric : {"demographic_parity", "equalized_odds"}, \
            default="demographic_parity"
        The disparity on the validation set. Equalized odds needs labels
        there, which the learner's labeled rows (the default validation
        set) have.
    arms : tuple of str, default=("informativeness", "fairness", \
            "causal_consistency")
        The arms in play; one arm is an ablation.
    representation : transformer or None, default=None
        The deconfounded representation of the causal-consistency arm,
        cloned and fitted (without labels) on the labeled and pool rows of
        the first query. None means ``AncestryResidualizer(n_components)``.
    n_candidates : int or None, default=256
        The fairness arm's refit estimate is computed for this many target
        rows, those whose target label is least certain (None: all of them);
        it bounds the arm's cost on large pools.
    max_fairness_rows : int or None, default=2000
        Without a ``fairness_set``, the fairness arm estimates each
        candidate's demographic parity on at most this many pool rows (a
        seeded sample; None: all), so a query costs time linear in the pool.
    n_components : int, default=10
        Principal components the default representation removes (capped at
        ``min(n_rows, n_features) - 1``).
    fairness_set : tuple or None, default=None
        ``(X_val, y_val, sensitive_features_val)``, a labeled validation
        set; None uses the learner's labeled rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the bandit and the controller when the first query passes
        none.

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
        The arm of each round.
    reward_history_ : list of float or None
        The reward credited to each round's arm (None until the next query).
    lambda_history_ : list of float
        Lambda after each round's controller update.
    disparity_history_ : list of float
        The validation disparity seen at each round.

    See Also
    --------
    FALSampling : expected unfairness, the fairness arm's estimate.
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
    ...     FACAGENSampling(n_components=2, random_state=0),
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
    _keeps_run_state = True

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

    def _validation(self, learner):
        """(X_val, y codes, group encoding or None) of the validation set."""
        classes = np.asarray(learner.classes_)
        if self.fairness_set is not None:
            X_val, groups, y_codes = check_fairness_set(self.fairness_set, classes)
            if y_codes is None:
                raise ValueError(
                    "FACA-GEN's reward needs accuracy, so y_val in fairness_set; "
                    "it is None."
                )
            return X_val, y_codes, groups
        y_codes = np.asarray(learner.y_encoded_)
        groups = getattr(learner, "sensitive_features_labeled_", None)
        if groups is not None:
            groups = check_sensitive_features(groups, len(y_codes))
        return learner.X_labeled_, y_codes, groups

    # -- a run's state ----------------------------------------------------------

    def _start(self, learner, X_pool, arms, random_state) -> None:
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        self.arms_ = arms
        self.bandit_ = _make_bandit(self.bandit, len(arms), rng)
        self.controller_ = _make_controller(self.controller, self.target, rng)
        self.representation_ = (
            self._fit_representation(learner, X_pool)
            if "causal_consistency" in arms
            else None
        )
        self.arm_history_, self.reward_history_ = [], []
        self.lambda_history_, self.disparity_history_ = [], []
        self._seed = int(rng.randint(2**31 - 1))
        self._redo_arm = None
        self._previous = None
        self._last_round = None
        self._targets, self._last_targets = [], []

    def _fit_representation(self, learner, X_pool):
        X_all = concat_rows(learner.X_labeled_, X_pool)
        if self.representation is not None:
            return clone(self.representation).fit(X_all)
        from ..representation import AncestryResidualizer

        cap = min(np.shape(X_all)) - 1
        if cap < 1:
            raise ValueError(
                "The causal-consistency arm needs at least 2 rows and 2 features "
                f"to find confounder axes; got {np.shape(X_all)}."
            )
        n_components = min(self.n_components, cap)
        return AncestryResidualizer(n_components, random_state=0).fit(X_all)

    # -- the query ----------------------------------------------------------------

    def __call__(
        self,
        learner,
        X_pool,
        n_instances: int = 1,
        *,
        sensitive_features=None,
        random_state=None,
    ) -> np.ndarray:
        """Query ``n_instances`` pool rows with the arm the bandit draws.

        Parameters
        ----------
        learner : FairActiveClassifier
            Fitted on a binary problem.
        X_pool : array-like of shape (n_pool, n_features)
            Unlabeled rows to choose from.
        n_instances : int, default=1
            How many rows to return.
        sensitive_features : array-like of shape (n_pool,) or (n_pool, n_columns)
            The pool's groups; the fairness arm needs them.
        random_state : int, RandomState instance or None, default=None
            Seed of the first call; later calls continue its generator. A
            repeated query (no label taught since the last) redoes the round
            and returns the same rows.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Row indices into ``X_pool``, best first.
        """
        self._validate_params()
        n_pool = check_query_args(learner, X_pool, n_instances)
        if len(learner.classes_) != 2:
            raise ValueError(
                f"FACA-GEN needs a binary problem; the learner has "
                f"{len(learner.classes_)} classes."
            )
        pool_groups = None
        if sensitive_features is not None:
            pool_groups = check_sensitive_features(sensitive_features, n_pool)
        if not hasattr(self, "bandit_"):
            arms = self._check_arms()
            if pool_groups is None and "fairness" in arms:
                arms = [a for a in arms if a != "fairness"] or ["informativeness"]
            self._start(learner, X_pool, arms, random_state)
        proba = pool_proba(learner, X_pool)
        self._new_round(learner, proba, pool_groups)

        entropy = entropy_utility(proba)
        if self._redo_arm is not None:
            # A repeated query redoes its round: same arm, same tie-breaks.
            name, self._redo_arm = self._redo_arm, None
        else:
            name = self.arms_[self.bandit_.select()]
        self.arm_history_.append(name)
        self._last_targets = []
        if name == "fairness" and pool_groups is not None and self._targets:
            utility = self._fairness_utility(learner, X_pool, pool_groups, proba)
            # Rows outside the target groups only fill a batch they cannot,
            # ranked by entropy below every target row.
            utility = np.where(np.isnan(utility), entropy - 2.0, utility)
            self._last_targets = list(self._targets)
        elif name == "causal_consistency":
            utility = self._causal_gap(learner, X_pool, proba)
        else:
            utility = entropy
        self._previous = (self.arms_.index(name), self._observed)
        rng = np.random.RandomState([self._seed, self._last_round])
        return select_top_k(utility, n_instances, random_state=rng)

    def _disparity_set(self, val_pred, pool_proba_, pool_groups):
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
            return pool_proba_.argmax(axis=1), None, pool_groups
        _, y_codes, groups = self._round_validation
        return val_pred, y_codes, groups

    def _new_round(self, learner, pool_proba_, pool_groups) -> None:
        """Observe the validation objective, update lambda, credit the last arm."""
        bought = len(learner.y_labeled_) + len(getattr(learner, "y_postponed_", ()))
        repeat = bought == self._last_round
        if repeat:
            # No label since the last query: that round is redone, neither
            # rewarded nor shown to the controller again.
            self._previous = None
            self._redo_arm = self.arm_history_.pop()
            self.reward_history_.pop()
            self.disparity_history_.pop()
            lam = self.lambda_history_.pop()
        self._last_round = bought
        # Validated and predicted once a round: the reward, the disparity and
        # the fairness arm all read it.
        self._round_validation = self._validation(learner)
        X_val, y_codes, _ = self._round_validation
        val_pred = np.searchsorted(learner.classes_, np.asarray(learner.predict(X_val)))
        accuracy = float(np.mean(val_pred == y_codes))
        pred, y_true, groups = self._disparity_set(val_pred, pool_proba_, pool_groups)
        disparity, targets = 0.0, []
        if groups is not None and groups.n_groups >= 2:
            disparity, targets = falcon_targets(
                pred, y_true, groups.codes, groups.n_groups, self.metric
            )
        self._targets = [(y, groups.groups[z]) for y, z in targets]
        if not repeat:
            lam = float(self.controller_.update(disparity))
        if self._previous is not None:
            arm, (accuracy_before, disparity_before) = self._previous
            change = (accuracy - lam * disparity) - (
                accuracy_before - lam * disparity_before
            )
            reward = 1.0 if change > 1e-12 else 0.0 if change < -1e-12 else 0.5
            self.bandit_.update(arm, reward)
            self.reward_history_[-1] = reward
        self._observed = (accuracy, disparity)
        self.reward_history_.append(None)
        self.lambda_history_.append(lam)
        self.disparity_history_.append(disparity)

    def _fairness_utility(self, learner, X_pool, pool_groups, proba) -> np.ndarray:
        """Minus the validation disparity after labeling each target row with
        its target label (NaN off the target groups)."""
        label_of = np.full(pool_groups.n_groups, -1)
        for label, group in reversed(self._targets):
            code = _code_of(pool_groups.groups, group)
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
        fal = FALSampling(method="fast", metric=self.metric)
        try:
            fal._logistic_parts(learner.estimator_)
        except ValueError:
            # No fast refit for this model: the target rows whose target
            # label is most uncertain (Falcon's middle risk level).
            utility[candidates] = -np.abs(p_target - 0.5)
            return utility
        if self.fairness_set is None and self.metric == "demographic_parity":
            y_fair = None
            X_fair, codes = sample_fairness_rows(
                X_pool,
                pool_groups.codes,
                self.max_fairness_rows,
                np.random.RandomState([self._seed, self._last_round, 1]),
            )
        else:
            X_fair, y_fair, groups = self._round_validation
            codes = groups.codes
            if self.metric == "demographic_parity":
                y_fair = None
        after = fal._fast_unfairness(
            learner, X_pool, candidates, X_fair, codes, y_fair
        )[np.arange(len(candidates)), labels]
        # Hard predictions make ties common: the likelier target label wins.
        utility[candidates] = -after + 1e-6 * p_target
        return utility

    def _causal_gap(self, learner, X_pool, proba) -> np.ndarray:
        deconfounded = clone(learner.estimator_).fit(
            self.representation_.transform(learner.X_labeled_), learner.y_encoded_
        )
        folded = _folded_linear_model(self.representation_, deconfounded, X_pool)
        if folded is not None:
            return np.abs(proba - folded.predict_proba(X_pool)).max(axis=1)

        def deconfounded_proba(X):
            return deconfounded.predict_proba(self.representation_.transform(X))

        # In the learner's chunks: the representation's copies of a large pool
        # stay small (a row costs its features twice: input and transform).
        parts = map_row_chunks(
            deconfounded_proba,
            X_pool,
            row_bytes=16 * getattr(learner, "n_features_in_", 1),
            n_jobs=getattr(learner, "n_jobs", None),
        )
        return np.abs(proba - np.concatenate(parts)).max(axis=1)

    def usable_rows(self, learner, y, *, sensitive_features, n_postponed: int):
        """Which waiting labeled rows to train on now (the learner's hook).

        After a fairness-arm query, new rows of a target group whose label
        is not the target label are postponed; postponed rows are used once
        their (label, group) is a current target. Other arms postpone
        nothing.

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
        return postponement_mask(
            y,
            sensitive_features,
            n_postponed,
            targets=self._targets,
            last=self._last_targets,
        )
