"""Tests for the multi-armed bandits (skfairal.policies)."""

import numpy as np
import pytest

from skfairal.policies import Exp3Bandit, ThompsonBandit, UCB1Bandit

BANDITS = {
    "exp3": lambda seed: Exp3Bandit(3, gamma=0.1, random_state=seed),
    "ucb1": lambda seed: UCB1Bandit(3, random_state=seed),
    "thompson": lambda seed: ThompsonBandit(3, random_state=seed),
}


def _play(bandit, means, n_rounds, seed):
    """Bernoulli rewards with the given means; the sequence of arms pulled."""
    # Not the bandit's seed: the same stream would tie rewards to the draws.
    rng = np.random.RandomState(seed + 1000)
    arms = []
    for _ in range(n_rounds):
        arm = bandit.select()
        bandit.update(arm, float(rng.random_sample() < means[arm]))
        arms.append(arm)
    return np.array(arms)


@pytest.mark.parametrize("name", list(BANDITS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_concentrates_on_the_best_arm_of_a_stationary_bandit(name, seed):
    means = [0.3, 0.5, 0.7]
    arms = _play(BANDITS[name](seed), means, 3000, seed)
    late = arms[-1000:]
    assert np.bincount(late, minlength=3).argmax() == 2
    # EXP3 keeps gamma / K = 3 % on each arm by design; the others converge.
    assert np.mean(late == 2) > 0.75


@pytest.mark.parametrize("name", list(BANDITS))
def test_same_seed_same_choices(name):
    one = _play(BANDITS[name](5), [0.2, 0.4, 0.6], 300, 5)
    two = _play(BANDITS[name](5), [0.2, 0.4, 0.6], 300, 5)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("name", list(BANDITS))
def test_counts_and_mean_rewards(name):
    bandit = BANDITS[name](0)
    bandit.update(1, 0.25)
    bandit.update(1, 0.75)
    np.testing.assert_array_equal(bandit.counts_, [0, 2, 0])
    assert bandit.mean_rewards_[1] == 0.5
    assert np.isnan(bandit.mean_rewards_[0])


def test_exp3_probabilities_keep_the_exploration_floor():
    bandit = Exp3Bandit(4, gamma=0.2, random_state=0)
    for _ in range(500):
        bandit.update(0, 1.0)
    p = bandit.probabilities()
    assert p.sum() == pytest.approx(1.0)
    assert p.min() >= 0.2 / 4 - 1e-12
    assert p.argmax() == 0


def test_exp3_long_runs_stay_finite():
    bandit = Exp3Bandit(2, gamma=0.01, random_state=0)
    for _ in range(20000):
        bandit.update(1, 1.0, probability=1e-3)
    assert np.all(np.isfinite(bandit.probabilities()))
    assert bandit.select() in (0, 1)


def test_exp3_update_uses_the_given_probability():
    a = Exp3Bandit(3, gamma=0.3, random_state=0)
    b = Exp3Bandit(3, gamma=0.3, random_state=0)
    a.update(2, 0.5, probability=0.5)
    b.update(2, 0.5, probability=0.25)
    # Half the probability, twice the importance-weighted reward.
    assert b.log_weights_[2] == pytest.approx(2 * a.log_weights_[2])


def test_ucb1_tries_every_arm_first():
    bandit = UCB1Bandit(4, random_state=0)
    first = []
    for _ in range(4):
        arm = bandit.select()
        bandit.update(arm, 1.0)
        first.append(arm)
    assert sorted(first) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Exp3Bandit(0), "n_arms"),
        (lambda: UCB1Bandit(2.5), "n_arms"),
        (lambda: ThompsonBandit(True), "n_arms"),
        (lambda: Exp3Bandit(2, gamma=0.0), "gamma"),
        (lambda: UCB1Bandit(2, c=-1), "c must"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", list(BANDITS))
@pytest.mark.parametrize(
    ("arm", "reward", "match"),
    [
        (3, 0.5, "arm must be in"),
        (-1, 0.5, "arm must be in"),
        (1.0, 0.5, "arm must be an integer"),
        (0, 1.5, "reward must be in"),
        (0, float("nan"), "reward must be in"),
        (0, "1", "reward must be a number"),
    ],
)
def test_bad_update_names_the_argument(name, arm, reward, match):
    bandit = BANDITS[name](0)
    with pytest.raises(ValueError, match=match):
        bandit.update(arm, reward)
    np.testing.assert_array_equal(bandit.counts_, 0)


@pytest.mark.parametrize("name", list(BANDITS))
def test_select_draws_from_a_given_generator(name):
    # A caller that seeds each round passes its generator: the same seed and
    # state give the same arm, and the bandit's own stream is left untouched.
    bandit = BANDITS[name](0)
    for arm, reward in ((0, 1.0), (1, 0.0), (2, 0.5), (0, 1.0)):
        bandit.update(arm, reward)
    untouched = BANDITS[name](0)
    for arm, reward in ((0, 1.0), (1, 0.0), (2, 0.5), (0, 1.0)):
        untouched.update(arm, reward)
    draws = [bandit.select(random_state=np.random.RandomState(s)) for s in range(40)]
    again = [bandit.select(random_state=np.random.RandomState(s)) for s in range(40)]
    assert draws == again
    assert len(set(draws)) > 1 or name == "ucb1"
    assert [bandit.select() for _ in range(50)] == [
        untouched.select() for _ in range(50)
    ]
