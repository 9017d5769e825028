"""Tests for the fairness-weight controllers (skfairal.policies)."""

import numpy as np
import pytest

from skfairal.policies import (
    DualAscentController,
    FixedLambda,
    PolicyGradientController,
)


def _environment(lam: float) -> float:
    """A disparity that falls as the fairness weight grows: 0.05 at lam ~ 1.8."""
    return float(0.3 * np.exp(-lam))


def _run(controller, steps=200, environment=_environment):
    lam = controller.lambda_
    for _ in range(steps):
        lam = controller.update(environment(lam))
    return controller


@pytest.mark.parametrize(
    "controller",
    [
        DualAscentController(target=0.05, step=10.0),
        PolicyGradientController(target=0.05, random_state=0),
    ],
    ids=["dual_ascent", "policy_gradient"],
)
def test_raises_lambda_while_violated_and_settles_near_the_target(controller):
    _run(controller, steps=300)
    lams = np.array(controller.lambda_history_)
    disparities = np.array(controller.disparity_history_)
    # While the constraint is violated, lambda goes up on average.
    violated = disparities > 0.05
    steps = np.diff(lams)
    assert steps[violated].mean() > 0
    late = disparities[-50:]
    if isinstance(controller, DualAscentController):
        # The multiplier settles where the constraint is tight.
        assert abs(np.mean(late) - 0.05) < 0.02, np.mean(late)
    else:
        # Steps of x1.5 cannot hit 0.05 exactly: the agent keeps the
        # constraint most of the time without driving lambda up for nothing.
        assert np.mean(late > 0.05) < 0.3, np.mean(late > 0.05)
        assert np.mean(late) > 0.005
        assert max(controller.lambda_history_[-50:]) < 10


@pytest.mark.parametrize(
    "controller",
    [
        DualAscentController(target=0.2, step=10.0, initial=5.0),
        PolicyGradientController(target=0.2, initial=5.0, random_state=0),
    ],
    ids=["dual_ascent", "policy_gradient"],
)
def test_lowers_lambda_when_there_is_slack(controller):
    # At lam = 5 the disparity is 0.002, far below the target 0.2: slack.
    for _ in range(30):
        controller.update(_environment(controller.lambda_))
    assert controller.lambda_ < 5.0


def test_policy_gradient_learns_a_reversed_response():
    # An environment where raising lambda *raises* the disparity (a badly
    # specified weight): the prior pushes the wrong way, learning corrects it.
    def reversed_environment(lam):
        return float(np.clip(0.01 * lam, 0, 1))

    agent = PolicyGradientController(
        target=0.05, prior=0.5, learning_rate=0.5, initial=20.0, random_state=1
    )
    _run(agent, steps=400, environment=reversed_environment)
    late = np.array(agent.disparity_history_[-100:])
    early = np.array(agent.disparity_history_[:100])
    assert np.mean(np.abs(late - 0.05)) < np.mean(np.abs(early - 0.05))


def test_fixed_lambda_never_moves():
    controller = _run(FixedLambda(1.5), steps=20)
    assert set(controller.lambda_history_) == {1.5}


def test_dual_ascent_step_by_hand():
    controller = DualAscentController(target=0.1, step=2.0, initial=1.0)
    assert controller.update(0.3) == pytest.approx(1.4)
    assert controller.update(0.0) == pytest.approx(1.2)
    assert controller.update(0.0) == pytest.approx(1.0)
    controller = DualAscentController(target=0.1, step=100.0, initial=1.0)
    assert controller.update(0.0) == 0.0  # projected onto lambda >= 0


def test_identical_seeds_identical_actions():
    one = _run(PolicyGradientController(random_state=3), steps=50)
    two = _run(PolicyGradientController(random_state=3), steps=50)
    assert one.action_history_ == two.action_history_


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DualAscentController(target=0.0), "target must be > 0"),
        (lambda: DualAscentController(step=-1.0), "step must be > 0"),
        (lambda: PolicyGradientController(factor=1.0), "factor must be > 1"),
        (lambda: PolicyGradientController(initial=0.0), "initial must be > 0"),
        (lambda: FixedLambda(-1.0), "initial must be >= 0"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_disparity():
    controller = DualAscentController()
    with pytest.raises(ValueError, match=r"disparity must be in \[0, 1\]"):
        controller.update(1.5)
    with pytest.raises(ValueError, match="disparity must be a number"):
        controller.update("high")
