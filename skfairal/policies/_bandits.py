"""Multi-armed bandits with rewards in [0, 1]: EXP3, UCB1, Thompson sampling."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state


def _check_n_arms(n_arms) -> int:
    if isinstance(n_arms, bool) or not isinstance(n_arms, Integral) or n_arms < 1:
        raise ValueError(f"n_arms must be a positive integer, got {n_arms!r}.")
    return int(n_arms)


class _Bandit:
    """Shared bookkeeping: counts, reward sums, argument checks."""

    def __init__(self, n_arms: int, random_state=None):
        self.n_arms = _check_n_arms(n_arms)
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.counts_ = np.zeros(self.n_arms, dtype=np.int64)
        self.reward_sums_ = np.zeros(self.n_arms)

    def _check_update(self, arm, reward) -> tuple[int, float]:
        if isinstance(arm, bool) or not isinstance(arm, Integral):
            raise ValueError(f"arm must be an integer, got {arm!r}.")
        if not 0 <= arm < self.n_arms:
            raise ValueError(f"arm must be in [0, {self.n_arms - 1}], got {arm}.")
        if isinstance(reward, bool) or not isinstance(reward, Real):
            raise ValueError(f"reward must be a number in [0, 1], got {reward!r}.")
        if not 0.0 <= reward <= 1.0:
            raise ValueError(
                f"reward must be in [0, 1], got {reward}; rescale rewards first "
                "(the regret guarantees assume bounded rewards)."
            )
        return int(arm), float(reward)

    def _draws(self, random_state):
        """The generator of one draw: the caller's, or the bandit's own."""
        # A caller that seeds each round (a query strategy given a learner's
        # round seed) passes its generator, so a repeated round draws alike.
        if random_state is None:
            return self._rng
        return check_random_state(random_state)

    def _record(self, arm: int, reward: float) -> None:
        self.counts_[arm] += 1
        self.reward_sums_[arm] += reward

    @property
    def mean_rewards_(self) -> np.ndarray:
        """Mean observed reward per arm (NaN for an arm never pulled)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts_ > 0, self.reward_sums_ / self.counts_, np.nan)


class Exp3Bandit(_Bandit):
    r"""EXP3: exponential weights for adversarial bandits (Auer et al., 2002).

    With weights :math:`w_i`, arm :math:`i` is drawn with probability
    :math:`p_i = (1 - \gamma) w_i / \sum_j w_j + \gamma / K`; after reward
    :math:`r` of the drawn arm, its importance-weighted estimate
    :math:`\hat r = r / p_i` updates :math:`w_i \leftarrow w_i
    \exp(\gamma \hat r / K)`. Nothing is assumed about how rewards are
    generated, which suits rewards that drift as a model is retrained (the
    choice of Falcon, Tae et al. 2024). Weights are kept as logarithms, so
    long runs do not overflow.

    Parameters
    ----------
    n_arms : int
        Number of arms ``K``.
    gamma : float in (0, 1], default=0.1
        Exploration rate: the share of probability spread uniformly.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Attributes
    ----------
    counts_ : ndarray of shape (n_arms,)
        Pulls per arm.
    reward_sums_ : ndarray of shape (n_arms,)
        Observed reward per arm, summed.

    Examples
    --------
    >>> from skfairal.policies import Exp3Bandit
    >>> bandit = Exp3Bandit(3, gamma=0.2, random_state=0)
    >>> arm = bandit.select()
    >>> bandit.update(arm, 1.0)
    >>> bandit.probabilities().round(3).sum()
    np.float64(1.0)
    """

    def __init__(self, n_arms: int, gamma: float = 0.1, random_state=None):
        super().__init__(n_arms, random_state)
        if isinstance(gamma, bool) or not isinstance(gamma, Real) or not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}.")
        self.gamma = float(gamma)
        self.log_weights_ = np.zeros(self.n_arms)

    def probabilities(self) -> np.ndarray:
        """The current probability of drawing each arm."""
        weights = np.exp(self.log_weights_ - self.log_weights_.max())
        return (1 - self.gamma) * weights / weights.sum() + self.gamma / self.n_arms

    def select(self, random_state=None) -> int:
        """Draw an arm.

        Parameters
        ----------
        random_state : int, RandomState instance or None, default=None
            Source of this draw (a caller's per-round generator); None draws
            from the bandit's own.
        """
        rng = self._draws(random_state)
        return int(rng.choice(self.n_arms, p=self.probabilities()))

    def update(
        self,
        arm: int,
        reward: float,
        probability: float | None = None,
        *,
        propagated: bool = False,
    ) -> None:
        """Record ``reward`` in [0, 1] for ``arm``.

        ``probability`` is the probability with which the drawn arm was
        drawn; by default ``arm``'s current one, right when nothing changed
        since ``select``. ``propagated=True`` credits an arm that was not
        drawn (Falcon passes half of a reward to the neighbouring arms) with
        the drawn arm's ``probability``: its weight moves, but ``counts_`` and
        ``reward_sums_`` keep counting draws only.
        """
        arm, reward = self._check_update(arm, reward)
        if propagated and probability is None:
            raise ValueError("a propagated reward needs the drawn arm's probability.")
        p = self.probabilities()[arm] if probability is None else float(probability)
        if not 0 < p <= 1:
            raise ValueError(f"probability must be in (0, 1], got {probability!r}.")
        if not propagated:
            self._record(arm, reward)
        self.log_weights_[arm] += self.gamma * (reward / p) / self.n_arms


class UCB1Bandit(_Bandit):
    r"""UCB1: optimism under uncertainty for stochastic bandits (Auer et al., 2002).

    Every arm is pulled once; then the arm maximising
    :math:`\bar r_i + c \sqrt{2 \ln t / n_i}` is chosen (``t`` pulls so far,
    :math:`n_i` of arm ``i``; ties broken at random). ``c = 1`` is the
    original index.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    c : float >= 0, default=1.0
        Width of the confidence bonus.
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking.

    Examples
    --------
    >>> from skfairal.policies import UCB1Bandit
    >>> bandit = UCB1Bandit(2, random_state=0)
    >>> first = bandit.select()
    >>> bandit.update(first, 0.5)
    >>> bandit.select() != first  # the other arm has not been tried yet
    True
    """

    def __init__(self, n_arms: int, c: float = 1.0, random_state=None):
        super().__init__(n_arms, random_state)
        if isinstance(c, bool) or not isinstance(c, Real) or c < 0:
            raise ValueError(f"c must be a number >= 0, got {c!r}.")
        self.c = float(c)

    def select(self, random_state=None) -> int:
        """The arm with the largest upper confidence bound.

        Parameters
        ----------
        random_state : int, RandomState instance or None, default=None
            Source of the tie-breaking draw; None draws from the bandit's own.
        """
        rng = self._draws(random_state)
        untried = np.flatnonzero(self.counts_ == 0)
        if len(untried):
            return int(rng.choice(untried))
        bonus = self.c * np.sqrt(2 * np.log(self.counts_.sum()) / self.counts_)
        index = self.reward_sums_ / self.counts_ + bonus
        return int(rng.choice(np.flatnonzero(index == index.max())))

    def update(self, arm: int, reward: float) -> None:
        """Record ``reward`` in [0, 1] for ``arm``."""
        self._record(*self._check_update(arm, reward))


class ThompsonBandit(_Bandit):
    r"""Thompson sampling with Beta posteriors (Agrawal and Goyal, 2012).

    Each arm has a :math:`\mathrm{Beta}(a_i, b_i)` posterior over its mean
    reward, from a :math:`\mathrm{Beta}(1, 1)` prior; an arm is chosen by
    drawing one sample per posterior and taking the largest. A reward
    :math:`r \in [0, 1]` is turned into a Bernoulli outcome with success
    probability :math:`r` (the Bernoulli trick), which keeps the posterior
    conjugate and the regret bound of the Bernoulli case.

    Parameters
    ----------
    n_arms : int
        Number of arms.
    random_state : int, RandomState instance or None, default=None
        Seed of the posterior draws and of the Bernoulli trick.

    Examples
    --------
    >>> from skfairal.policies import ThompsonBandit
    >>> bandit = ThompsonBandit(3, random_state=0)
    >>> for _ in range(200):
    ...     arm = bandit.select()
    ...     bandit.update(arm, [0.1, 0.2, 0.9][arm])
    >>> int(bandit.counts_.argmax())
    2
    """

    def __init__(self, n_arms: int, random_state=None):
        super().__init__(n_arms, random_state)
        self.alpha_ = np.ones(self.n_arms)
        self.beta_ = np.ones(self.n_arms)

    def select(self, random_state=None) -> int:
        """The arm whose posterior draw is largest.

        Parameters
        ----------
        random_state : int, RandomState instance or None, default=None
            Source of the posterior draws; None draws from the bandit's own.
        """
        rng = self._draws(random_state)
        return int(np.argmax(rng.beta(self.alpha_, self.beta_)))

    def update(self, arm: int, reward: float) -> None:
        """Record ``reward`` in [0, 1] for ``arm``."""
        arm, reward = self._check_update(arm, reward)
        self._record(arm, reward)
        success = self._rng.random_sample() < reward
        self.alpha_[arm] += success
        self.beta_[arm] += 1 - success
