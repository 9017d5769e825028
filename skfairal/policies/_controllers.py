"""Controllers of a fairness weight lambda: fixed, dual ascent, policy gradient."""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state


def _check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}.")
    return float(value)


class _Controller:
    """Shared state: the current lambda and what each update saw."""

    def __init__(self, target: float, initial: float):
        self.target = _check_positive(target, "target")
        self.lambda_ = _check_positive(initial, "initial", allow_zero=True)
        self.lambda_history_ = [self.lambda_]
        self.disparity_history_ = []

    def _observe(self, disparity) -> float:
        if isinstance(disparity, bool) or not isinstance(disparity, Real):
            raise ValueError(f"disparity must be a number, got {disparity!r}.")
        if not 0 <= disparity <= 1 or not np.isfinite(disparity):
            raise ValueError(f"disparity must be in [0, 1], got {disparity}.")
        self.disparity_history_.append(float(disparity))
        return float(disparity) - self.target

    def _set(self, value: float) -> float:
        self.lambda_ = float(value)
        self.lambda_history_.append(self.lambda_)
        return self.lambda_


class FixedLambda(_Controller):
    """A constant fairness weight: the baseline the adaptive controllers must beat.

    Parameters
    ----------
    value : float >= 0, default=1.0
        The weight.
    target : float > 0, default=0.05
        Target disparity (only recorded).

    Examples
    --------
    >>> from skfairal.policies import FixedLambda
    >>> FixedLambda(2.0).update(0.3)
    2.0
    """

    def __init__(self, value: float = 1.0, target: float = 0.05):
        super().__init__(target, value)

    def update(self, disparity: float) -> float:
        """Record ``disparity``; lambda stays."""
        self._observe(disparity)
        return self._set(self.lambda_)


class DualAscentController(_Controller):
    r"""Lagrangian dual ascent on the constraint ``disparity <= target``.

    :math:`\lambda \leftarrow \max(0, \lambda + \eta\,(\Delta - \rho))`: the
    multiplier grows while the constraint is violated and shrinks with
    slack, the projected subgradient step on the dual of
    ``min loss s.t. Delta <= rho``.

    Parameters
    ----------
    target : float > 0, default=0.05
        ``rho``, the largest disparity wanted.
    step : float > 0, default=10.0
        ``eta``, the dual step size.
    initial : float >= 0, default=0.0
        Starting lambda.

    Examples
    --------
    >>> from skfairal.policies import DualAscentController
    >>> controller = DualAscentController(target=0.05, step=10.0)
    >>> round(controller.update(0.15), 3)  # violated by 0.1
    1.0
    >>> round(controller.update(0.0), 3)  # slack of 0.05
    0.5
    """

    def __init__(self, target: float = 0.05, step: float = 10.0, initial: float = 0.0):
        super().__init__(target, initial)
        self.step = _check_positive(step, "step")

    def update(self, disparity: float) -> float:
        """Take one dual step after observing ``disparity``."""
        violation = self._observe(disparity)
        return self._set(max(0.0, self.lambda_ + self.step * violation))


class PolicyGradientController(_Controller):
    r"""A reinforcement-learning agent that lowers, keeps or raises lambda.

    The state is the relative violation :math:`v = (\Delta - \rho) / \rho`;
    the policy is a softmax over the three actions with logits
    :math:`w_a \cdot (v, 1)`; an action multiplies lambda by ``1 / factor``,
    1 or ``factor``. After each action, the next observed disparity gives
    the reward :math:`r = -\max(v', 0) - \text{slack\_cost} \cdot
    \max(-v', 0)` (violations cost more than slack, and slack costs a little
    so that lambda comes down when it can), and REINFORCE with a running
    baseline updates the weights. The weights start from the sensible prior
    (raise when violated, lower with slack, ``prior`` its strength) that the
    agent then tunes to how the disparity actually responds.

    Parameters
    ----------
    target : float > 0, default=0.05
        ``rho``.
    factor : float > 1, default=1.5
        Multiplicative change of a raise or a lower.
    learning_rate : float > 0, default=0.1
        REINFORCE step size.
    slack_cost : float >= 0, default=0.1
        Cost of a unit of relative slack against one of violation.
    prior : float >= 0, default=2.0
        Strength of the initial preference for the sensible action.
    initial : float > 0, default=1.0
        Starting lambda.
    maximum : float > 0, default=1000.0
        Lambda is kept in ``[initial / maximum, maximum]``: when the target
        is out of reach, raising forever would only overflow the weight
        (above a few hundred, ``accuracy - lambda * disparity`` is the
        disparity alone anyway).
    random_state : int, RandomState instance or None, default=None
        Seed of the action draws.

    Attributes
    ----------
    weights_ : ndarray of shape (3, 2)
        Policy weights for (lower, keep, raise) on (v, 1).
    action_history_ : list of int
        0 lower, 1 keep, 2 raise.

    Examples
    --------
    >>> from skfairal.policies import PolicyGradientController
    >>> agent = PolicyGradientController(target=0.05, random_state=0)
    >>> for _ in range(20):
    ...     lam = agent.update(0.3)  # far above the target
    >>> lam > 1.0
    True
    """

    def __init__(
        self,
        target: float = 0.05,
        factor: float = 1.5,
        learning_rate: float = 0.1,
        slack_cost: float = 0.1,
        prior: float = 2.0,
        initial: float = 1.0,
        maximum: float = 1000.0,
        random_state=None,
    ):
        super().__init__(target, initial)
        self.maximum = _check_positive(maximum, "maximum")
        if self.maximum < self.lambda_:
            raise ValueError(f"maximum={maximum} must be >= initial={initial}.")
        if self.lambda_ == 0:
            raise ValueError("initial must be > 0: a multiplicative update stays at 0.")
        self.factor = _check_positive(factor, "factor")
        if self.factor <= 1:
            raise ValueError(f"factor must be > 1, got {factor}.")
        self.learning_rate = _check_positive(learning_rate, "learning_rate")
        self.slack_cost = _check_positive(slack_cost, "slack_cost", allow_zero=True)
        self.prior = _check_positive(prior, "prior", allow_zero=True)
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.weights_ = np.array([[-self.prior, 0.0], [0.0, 0.0], [self.prior, 0.0]])
        self.action_history_ = []
        self._pending = None
        self._baseline = 0.0

    def _probabilities(self, state: np.ndarray) -> np.ndarray:
        logits = self.weights_ @ state
        logits -= logits.max()
        return np.exp(logits) / np.exp(logits).sum()

    def update(self, disparity: float) -> float:
        """Reward the last action with ``disparity``, then act again."""
        v = self._observe(disparity) / self.target
        if self._pending is not None:
            state, action, probabilities = self._pending
            reward = -max(v, 0.0) - self.slack_cost * max(-v, 0.0)
            advantage = reward - self._baseline
            self._baseline += 0.1 * (reward - self._baseline)
            gradient = -probabilities[:, None] * state[None, :]
            gradient[action] += state
            self.weights_ += self.learning_rate * advantage * gradient
        state = np.array([np.clip(v, -5.0, 5.0), 1.0])
        probabilities = self._probabilities(state)
        action = int(self._rng.choice(3, p=probabilities))
        self._pending = (state, action, probabilities)
        self.action_history_.append(action)
        low = self.lambda_history_[0] / self.maximum
        lam = self.lambda_ * self.factor ** (action - 1)
        return self._set(float(np.clip(lam, low, self.maximum)))
