"""to_modal against modAL's own learners (modAL-python, installed by dev.py).

modAL is imported unconditionally: a missing modAL must fail the suite, not
skip these tests. modAL 0.4.2.1's ``fit``/``teach`` fail on scikit-learn >= 1.8
(``check_X_y(force_all_finite=...)``), so the learners here are built around
an estimator fitted beforehand or with ``X_training`` (which fits the
estimator directly), and only ``query`` is driven.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.query import (
    GroupAwareRandomSampling,
    entropy_sampling,
    entropy_utility,
    get_strategy,
    margin_sampling,
    random_sampling,
    to_modal,
)
from skfairal.utils import select_top_k

try:
    from modAL.models import ActiveLearner, Committee
except ImportError as exc:  # pragma: no cover - the environment is incomplete
    raise ImportError(
        "tests/test_modal.py needs modAL-python, which `python3 dev.py test` "
        "installs: pip install --no-deps modAL-python==0.4.2.1"
    ) from exc


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=80) > 0).astype(int)
    return X[:20], y[:20], X[20:]


@pytest.fixture(scope="module")
def fitted(data):
    X_seed, y_seed, _ = data
    return LogisticRegression().fit(X_seed, y_seed)


class Recorder:
    """A strategy that records its arguments and picks the first rows."""

    def __init__(self):
        self.calls = []

    def __call__(
        self, learner, X_pool, n_instances=1, *, sensitive_features=None, **kwargs
    ):
        self.calls.append(
            {
                "learner": learner,
                "n_instances": n_instances,
                "sensitive_features": sensitive_features,
                **kwargs,
            }
        )
        return np.arange(n_instances)


@pytest.mark.parametrize("n_instances", [1, 2, 5])
@pytest.mark.parametrize(
    ("strategy", "random_state"),
    [("entropy", None), (margin_sampling, None), (random_sampling, 0)],
)
def test_active_learner_query_matches_the_skfairal_strategy(
    data, fitted, strategy, random_state, n_instances
):
    _, _, X_pool = data
    learner = ActiveLearner(
        estimator=fitted,
        query_strategy=to_modal(strategy, random_state=random_state),
    )
    indices, instances = learner.query(X_pool, n_instances=n_instances)
    # An int seed is combined with the number of training rows (none here).
    seed = random_state
    if seed is not None:
        seed = int(np.random.RandomState([seed, 0]).randint(2**31 - 1))
    # A scikit-learn estimator is itself a valid skfairal learner.
    expected = get_strategy(strategy)(fitted, X_pool, n_instances, random_state=seed)
    assert indices.dtype.kind == "i"
    assert indices.shape == (n_instances,)
    assert len(np.unique(indices)) == n_instances
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(instances, X_pool[indices])


def test_n_instances_positionally_and_learner_fitted_by_modal(data):
    X_seed, y_seed, X_pool = data
    learner = ActiveLearner(
        estimator=LogisticRegression(),
        query_strategy=to_modal("entropy"),
        X_training=X_seed,
        y_training=y_seed,
    )
    indices, _ = learner.query(X_pool, 3)
    expected = entropy_sampling(LogisticRegression().fit(X_seed, y_seed), X_pool, 3)
    np.testing.assert_array_equal(indices, expected)


def test_the_strategy_runs_once_per_query(data, fitted):
    # modAL reruns a strategy whose result does not unpack into two values; a
    # RandomState stream would then advance twice per query.
    _, _, X_pool = data
    recorder = Recorder()
    learner = ActiveLearner(estimator=fitted, query_strategy=to_modal(recorder))
    learner.query(X_pool, n_instances=2)
    assert len(recorder.calls) == 1

    stream = ActiveLearner(
        estimator=fitted,
        query_strategy=to_modal("random", random_state=np.random.RandomState(7)),
    )
    reference = np.random.RandomState(7)
    for _ in range(3):
        indices, _ = stream.query(X_pool, n_instances=4)
        expected = random_sampling(fitted, X_pool, 4, random_state=reference)
        np.testing.assert_array_equal(indices, expected)


def test_random_state_is_reproducible(data, fitted):
    _, _, X_pool = data

    def picks(seed):
        learner = ActiveLearner(
            estimator=fitted, query_strategy=to_modal("random", random_state=seed)
        )
        return learner.query(X_pool, n_instances=10)[0]

    np.testing.assert_array_equal(picks(0), picks(0))
    assert not np.array_equal(picks(0), picks(1))


def test_query_arguments_are_forwarded(data, fitted):
    _, _, X_pool = data
    groups = np.arange(len(X_pool)) % 3
    recorder = Recorder()
    learner = ActiveLearner(
        estimator=fitted, query_strategy=to_modal(recorder, random_state=5)
    )
    indices, _ = learner.query(X_pool, n_instances=3, sensitive_features=groups)
    (call,) = recorder.calls
    assert call["n_instances"] == 3
    assert call["sensitive_features"] is groups
    # An int seed reaches the strategy combined with the training rows (none).
    assert call["random_state"] == np.random.RandomState([5, 0]).randint(2**31 - 1)
    np.testing.assert_array_equal(indices, [0, 1, 2])
    # The strategy sees a fitted classifier, not modAL's learner.
    view = call["learner"]
    np.testing.assert_array_equal(view.classes_, [0, 1])
    np.testing.assert_allclose(view.predict_proba(X_pool), fitted.predict_proba(X_pool))
    np.testing.assert_array_equal(view.predict(X_pool), fitted.predict(X_pool))
    assert view.estimator_ is fitted


@pytest.mark.parametrize("kind", ["list", "dataframe"])
def test_instances_follow_the_type_of_the_pool(data, fitted, kind):
    _, _, X_pool = data
    pool = X_pool.tolist() if kind == "list" else pd.DataFrame(X_pool)
    learner = ActiveLearner(estimator=fitted, query_strategy=to_modal("margin"))
    indices, instances = learner.query(pool, n_instances=3)
    np.testing.assert_array_equal(indices, margin_sampling(fitted, X_pool, 3))
    if kind == "list":
        assert instances == [pool[i] for i in indices]
    else:
        pd.testing.assert_frame_equal(instances, pool.iloc[indices])


def test_committee(data):
    X_seed, y_seed, X_pool = data
    members = [
        ActiveLearner(estimator=LogisticRegression().fit(X_seed, y_seed)),
        ActiveLearner(
            estimator=DecisionTreeClassifier(max_depth=2, random_state=0).fit(
                X_seed, y_seed
            )
        ),
    ]
    committee = Committee(learner_list=members, query_strategy=to_modal("entropy"))
    indices, _ = committee.query(X_pool, n_instances=3)
    expected = select_top_k(entropy_utility(committee.predict_proba(X_pool)), 3)
    np.testing.assert_array_equal(indices, expected)


@pytest.fixture(scope="module")
def biased():
    X, y, groups = make_biased_classification(300, random_state=0)
    return X[:60], y[:60], groups[:60], X[60:], groups[60:]


def test_group_aware_with_the_groups_of_both_sides(biased):
    X_seed, y_seed, g_seed, X_pool, g_pool = biased
    learner = ActiveLearner(
        estimator=LogisticRegression(),
        query_strategy=to_modal("group_aware_random", random_state=0),
        X_training=X_seed,
        y_training=y_seed,
    )
    indices, _ = learner.query(
        X_pool,
        n_instances=5,
        sensitive_features=g_pool,
        labeled_sensitive_features=g_seed,
    )
    reference = FairActiveClassifier(LogisticRegression()).fit(
        X_seed, y_seed, sensitive_features=g_seed
    )
    # The seed of a modAL query: the int seed with the number of training rows.
    seed = int(np.random.RandomState([0, len(X_seed)]).randint(2**31 - 1))
    expected = GroupAwareRandomSampling()(
        reference, X_pool, 5, sensitive_features=g_pool, random_state=seed
    )
    np.testing.assert_array_equal(indices, expected)
    assert len(np.unique(g_pool[indices])) == 1


def test_group_aware_without_labeled_groups_says_how_to_pass_them(biased):
    X_seed, y_seed, _, X_pool, g_pool = biased
    learner = ActiveLearner(
        estimator=LogisticRegression(),
        query_strategy=to_modal(GroupAwareRandomSampling(cv=2)),
        X_training=X_seed,
        y_training=y_seed,
    )
    with pytest.raises(ValueError, match="labeled_sensitive_features=") as info:
        learner.query(X_pool, n_instances=2, sensitive_features=g_pool)
    assert "sensitive features of the labeled rows" in str(info.value)


def test_labeled_groups_must_match_the_training_rows(biased):
    X_seed, y_seed, g_seed, X_pool, g_pool = biased
    strategy = to_modal("group_aware_random")
    learner = ActiveLearner(
        estimator=LogisticRegression(),
        query_strategy=strategy,
        X_training=X_seed,
        y_training=y_seed,
    )
    with pytest.raises(ValueError, match="one group label per training row"):
        learner.query(
            X_pool,
            sensitive_features=g_pool,
            labeled_sensitive_features=g_seed[:-1],
        )
    # An estimator fitted outside modAL: the learner has no training rows.
    prefitted = ActiveLearner(
        estimator=LogisticRegression().fit(X_seed, y_seed), query_strategy=strategy
    )
    with pytest.raises(ValueError, match="X_training is None"):
        prefitted.query(
            X_pool, sensitive_features=g_pool, labeled_sensitive_features=g_seed
        )
    with pytest.raises(ValueError, match="labeled_sensitive_features="):
        prefitted.query(X_pool, sensitive_features=g_pool)


def test_unfitted_estimator_raises_not_fitted(data):
    _, _, X_pool = data
    for strategy in ("entropy", "random", "group_aware_random"):
        learner = ActiveLearner(
            estimator=LogisticRegression(), query_strategy=to_modal(strategy)
        )
        with pytest.raises(NotFittedError):
            learner.query(X_pool, n_instances=2)


def test_bad_strategies_and_learners():
    with pytest.raises(ValueError, match="not a known strategy"):
        to_modal("nope")
    clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(TypeError, match="called by a modAL learner"):
        to_modal("entropy")(clf, np.zeros((3, 1)))
    learner = ActiveLearner(
        estimator=clf, query_strategy=to_modal(lambda *args, **kwargs: 3)
    )
    with pytest.raises(ValueError, match="1-D array of integer row indices"):
        learner.query(np.zeros((3, 1)))


def test_pickle_and_repr(data, fitted):
    _, _, X_pool = data
    strategy = to_modal("margin", random_state=0)
    assert repr(strategy) == "to_modal(margin_sampling, random_state=0)"
    restored = pickle.loads(pickle.dumps(strategy))
    indices, _ = restored(ActiveLearner(estimator=fitted), X_pool, 2)
    np.testing.assert_array_equal(indices, margin_sampling(fitted, X_pool, 2))
