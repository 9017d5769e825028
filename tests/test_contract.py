"""The learner <-> strategy contract: feature space, one loop, one seed rule."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult, make_biased_classification
from skfairal.query import (
    BaseQueryStrategy,
    FalconSampling,
    FALSampling,
    LearnerView,
    QueryContext,
    available_strategies,
    get_strategy,
    random_sampling,
)
from skfairal.utils import select_top_k

N_ROWS, N_SEED, BATCH, ROUNDS = 160, 50, 4, 3


@pytest.fixture(scope="module")
def adult():
    """A few Adult rows as a user has them: a DataFrame with string categoricals."""
    bunch = load_adult(as_frame=True)
    rng = np.random.RandomState(0)
    rows = rng.choice(np.flatnonzero(~bunch.is_test), N_ROWS, replace=False)
    X = bunch.data.iloc[rows].reset_index(drop=True)
    y = bunch.target.iloc[rows].to_numpy()
    sex = bunch.sensitive_features["sex"].iloc[rows].astype(str).to_numpy()
    # A seed set holding both classes and both sexes.
    cells = [
        rng.choice(np.flatnonzero((y == c) & (sex == s)), 2, replace=False)
        for c in np.unique(y)
        for s in ("Female", "Male")
    ]
    rest = np.setdiff1d(np.arange(N_ROWS), np.concatenate(cells))
    seed = np.concatenate([*cells, rng.choice(rest, N_SEED - 8, replace=False)])
    return X, y, sex, seed, bunch.categorical_features, bunch.numerical_features


def _encoder(categorical, numerical):
    return ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("num", StandardScaler(), numerical),
        ],
        sparse_threshold=0.0,
    )


def _model_for(name):
    """LogisticRegression, under a fairlearn constraint for a strategy that reads
    the constrained model."""
    model = LogisticRegression()
    if getattr(get_strategy(name), "requires_constrained_base", False):
        from fairlearn.reductions import DemographicParity, ExponentiatedGradient

        model = ExponentiatedGradient(model, DemographicParity(difference_bound=0.05))
    return model


def _run_loop(learner, X, y, groups, seed):
    take = (lambda A, i: A.iloc[i]) if hasattr(X, "iloc") else (lambda A, i: A[i])
    learner.fit(take(X, seed), y[seed], sensitive_features=groups[seed])
    pool = np.setdiff1d(np.arange(len(y)), seed)
    bought = []
    for _ in range(ROUNDS):
        picks = learner.query(take(X, pool), BATCH, sensitive_features=groups[pool])
        assert picks.dtype.kind == "i"
        assert picks.shape == (BATCH,)
        assert len(np.unique(picks)) == BATCH
        assert picks.min() >= 0
        assert picks.max() < len(pool)
        rows = pool[picks]
        learner.teach(take(X, rows), y[rows], sensitive_features=groups[rows])
        pool = np.delete(pool, picks)
        bought.extend(rows.tolist())
    return bought


@pytest.mark.parametrize("encoding", ["pipeline_frame", "onehot_numpy"])
@pytest.mark.parametrize("name", available_strategies())
def test_every_strategy_runs_on_adult_as_a_user_has_it(adult, name, encoding):
    X, y, sex, seed, categorical, numerical = adult
    model = _model_for(name)
    if encoding == "pipeline_frame":
        estimator = Pipeline(
            [("encode", _encoder(categorical, numerical)), ("model", model)]
        )
        data = X
    else:
        estimator = model
        data = _encoder(categorical, numerical).fit_transform(X)
    learner = FairActiveClassifier(estimator, name, random_state=0)
    bought = _run_loop(learner, data, y, sex, seed)
    assert len(set(bought)) == ROUNDS * BATCH
    assert len(learner.y_labeled_) + len(learner.y_postponed_) == len(seed) + len(
        bought
    )


def test_strategies_read_the_pipelines_feature_space(adult):
    X, y, sex, seed, categorical, numerical = adult
    pipe = Pipeline(
        [("encode", _encoder(categorical, numerical)), ("model", LogisticRegression())]
    )
    learner = FairActiveClassifier(pipe, random_state=0)
    learner.fit(X.iloc[seed], y[seed], sensitive_features=sex[seed])
    view = learner.strategy_view()
    expected = learner.estimator_[:-1].transform(X)
    np.testing.assert_allclose(view.features(X), expected)
    np.testing.assert_allclose(view.labeled_features, expected[seed])
    assert view.final_estimator is learner.estimator_[-1]
    with pytest.raises(ValueError, match="encoding in a Pipeline"):
        LearnerView(learner.estimator_[-1].fit(expected, y)).features(X)


def test_fal_fast_names_the_step_it_cannot_read(adult):
    X, y, sex, seed, categorical, numerical = adult
    pipe = Pipeline(
        [
            ("encode", _encoder(categorical, numerical)),
            ("model", HistGradientBoostingClassifier(max_iter=5)),
        ]
    )
    learner = FairActiveClassifier(pipe, FALSampling(method="fast"), random_state=0)
    learner.fit(X.iloc[seed], y[seed], sensitive_features=sex[seed])
    pool = np.setdiff1d(np.arange(len(y)), seed)
    with pytest.raises(ValueError, match=r"FALSampling.*LogisticRegression.*Hist"):
        learner.query(X.iloc[pool], 2, sensitive_features=sex[pool])


# -- one simulation loop ---------------------------------------------------------


@pytest.mark.parametrize(
    "strategy", ["entropy", "random", lambda: FalconSampling(warm_up=5)]
)
def test_simulation_is_the_interactive_loop(strategy):
    """fit(budget) and a query/teach loop from the same seed set pick the same rows."""
    X, y, g = make_biased_classification(400, random_state=0)
    seed = np.flatnonzero(g == 0)[:20].tolist() + np.flatnonzero(g == 1)[:4].tolist()
    make = strategy if callable(strategy) else (lambda: strategy)
    sim = FairActiveClassifier(
        LogisticRegression(),
        make(),
        budget=30,
        batch_size=10,
        initial_indices=seed,
        random_state=3,
    ).fit(X, y, sensitive_features=g)
    loop = FairActiveClassifier(LogisticRegression(), make(), random_state=3)
    loop.fit(X[seed], y[seed], sensitive_features=g[seed])
    pool = np.setdiff1d(np.arange(len(y)), seed)
    for record in sim.history_[1:]:
        picks = loop.query(X[pool], 10, sensitive_features=g[pool])
        np.testing.assert_array_equal(pool[picks], record["indices"])
        rows = pool[picks]
        loop.teach(X[rows], y[rows], sensitive_features=g[rows])
        pool = np.delete(pool, picks)
    np.testing.assert_array_equal(loop.y_labeled_, sim.y_labeled_)


def test_initial_indices_array_mask_and_callable():
    X, y, g = make_biased_classification(300, random_state=1)
    women = np.flatnonzero(g == 1)[:3]
    men = np.flatnonzero(g == 0)[:27]
    seed = np.concatenate([men, women])

    def draw(y_, groups, rng):
        assert len(y_) == len(groups) == 300
        assert isinstance(rng, np.random.RandomState)
        return seed

    mask = np.zeros(300, dtype=bool)
    mask[seed] = True
    firsts = []
    for given in (seed, mask, draw):
        learner = FairActiveClassifier(
            budget=10, batch_size=5, initial_indices=given, random_state=0
        ).fit(X, y, sensitive_features=g)
        assert set(learner.history_[0]["indices"].tolist()) == set(seed.tolist())
        firsts.append(learner.history_[1]["indices"])
    np.testing.assert_array_equal(firsts[0], firsts[2])


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ([0, 0, 5], "more than once"),
        ([0, 10_000], "must index the 300 rows"),
        ([], "non-empty"),
        (np.zeros(300, dtype=bool), "non-empty"),
        ([0.5, 1.5], "integer row"),
        (lambda y, g, rng: np.flatnonzero(y == 0)[:5], r"no row of class\(es\) \[1\]"),
    ],
)
def test_bad_initial_indices_raise(given, match):
    X, y, g = make_biased_classification(300, random_state=1)
    learner = FairActiveClassifier(budget=5, initial_indices=given)
    with pytest.raises(ValueError, match=match):
        learner.fit(X, y, sensitive_features=g)


def test_on_round_sees_every_round_after_its_refit():
    X, y, g = make_biased_classification(300, random_state=1)
    seen = []

    def on_round(learner, record):
        seen.append((record["round"], len(learner.y_labeled_), learner.score(X, y)))

    learner = FairActiveClassifier(
        budget=25, batch_size=10, initial_size=20, on_round=on_round, random_state=0
    ).fit(X, y, sensitive_features=g)
    assert [(r, n) for r, n, _ in seen] == [(0, 20), (1, 30), (2, 40), (3, 45)]
    assert all(h["query_seconds"] >= 0 for h in learner.history_[1:])


# -- one seed rule -----------------------------------------------------------------


@pytest.mark.parametrize("name", available_strategies())
def test_same_seed_same_picks_and_a_repeated_query_repeats(name):
    X, y, g = make_biased_classification(400, random_state=0)
    seed = np.arange(60)

    def picks(random_state):
        learner = FairActiveClassifier(
            _model_for(name), name, random_state=random_state
        )
        learner.fit(X[seed], y[seed], sensitive_features=g[seed])
        first = learner.query(X[60:], 5, sensitive_features=g[60:])
        again = learner.query(X[60:], 5, sensitive_features=g[60:])
        np.testing.assert_array_equal(first, again)
        return first

    np.testing.assert_array_equal(picks(7), picks(7))


def test_the_context_counts_rounds_and_the_simulation_plan():
    contexts = []

    class Spy(BaseQueryStrategy):
        def _query(self, view, X_pool, n_instances, groups, rng):
            contexts.append(view.context)
            return select_top_k(np.zeros(len(X_pool)), n_instances, random_state=rng)

    X, y, _ = make_biased_classification(200, random_state=0)
    learner = FairActiveClassifier(
        query_strategy=Spy(), budget=25, batch_size=10, initial_size=20
    ).fit(X, y)
    assert contexts == [
        QueryContext(round=1, n_labeled=20, n_rounds=3, batch_size=10),
        QueryContext(round=2, n_labeled=30, n_rounds=3, batch_size=10),
        QueryContext(round=3, n_labeled=40, n_rounds=3, batch_size=10),
    ]
    learner.query(X[:50], 2)
    assert contexts[-1] == QueryContext(round=4, n_labeled=45)
    assert not contexts[-1].in_simulation


# -- reliability defects -------------------------------------------------------------


def test_query_of_none_names_x_pool():
    X, y, _ = make_biased_classification(100, random_state=0)
    learner = FairActiveClassifier().fit(X, y)
    with pytest.raises(ValueError, match="X_pool is None"):
        learner.query(None, 1)


@pytest.mark.parametrize("name", available_strategies())
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_every_strategy_rejects_a_pool_with_nan_or_inf(name, bad):
    X, y, g = make_biased_classification(200, random_state=0)
    learner = FairActiveClassifier(_model_for(name), name, random_state=0)
    learner.fit(X[:60], y[:60], sensitive_features=g[:60])
    pool = X[60:].copy()
    pool[7, 2] = bad
    kind = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(
        ValueError, match=rf"X_pool contains {kind} \(row 7, column 2\)"
    ):
        learner.query(pool, 3, sensitive_features=g[60:])


def test_a_pipeline_imputer_may_fill_the_pools_nan():
    from sklearn.impute import SimpleImputer

    X, y, g = make_biased_classification(200, random_state=0)
    pipe = Pipeline([("impute", SimpleImputer()), ("model", LogisticRegression())])
    learner = FairActiveClassifier(pipe, "random", random_state=0)
    learner.fit(X[:60], y[:60], sensitive_features=g[:60])
    pool = X[60:].copy()
    pool[7, 2] = np.nan
    assert len(learner.query(pool, 3, sensitive_features=g[60:])) == 3
    learner.teach(pool[:5], y[60:65], sensitive_features=g[60:65])
    assert len(learner.y_labeled_) == 65


def test_a_postponed_nan_row_is_rejected_before_it_poisons_the_learner():
    """Falcon postpones rows; a NaN row once postponed broke every later teach."""
    X, y, g = make_biased_classification(400, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression(), FalconSampling(warm_up=0), random_state=0
    ).fit(X[:80], y[:80], sensitive_features=g[:80])
    pool = np.arange(80, 400)
    picks = pool[learner.query(X[pool], 10, sensitive_features=g[pool])]
    bad = X[picks].copy()
    bad[:, 0] = np.nan
    n_labeled, n_postponed = len(learner.y_labeled_), len(learner.y_postponed_)
    with pytest.raises(ValueError, match="X contains NaN"):
        learner.teach(bad, y[picks], sensitive_features=g[picks])
    assert (len(learner.y_labeled_), len(learner.y_postponed_)) == (
        n_labeled,
        n_postponed,
    )
    learner.teach(X[picks], y[picks], sensitive_features=g[picks])
    assert np.isfinite(np.asarray(learner.X_postponed_, dtype=float)).all()


def test_groups_align_by_position_whatever_their_container():
    X, y, g = make_biased_classification(200, random_state=0)
    named = pd.Series(np.where(g == 1, "F", "M"), name="sex", index=np.arange(200) + 7)
    learner = FairActiveClassifier(
        LogisticRegression(), "group_aware_random", random_state=0
    ).fit(X[:60], y[:60], sensitive_features=named.iloc[:60])
    assert isinstance(learner.sensitive_features_labeled_, np.ndarray)
    picks = learner.query(X[60:], 5, sensitive_features=list(named.iloc[60:]))
    assert len(np.unique(named.iloc[60:].to_numpy()[picks])) == 1
    learner.teach(
        X[60:65], y[60:65], sensitive_features=pd.Series(named.iloc[60:65].to_numpy())
    )
    np.testing.assert_array_equal(
        learner.sensitive_features_labeled_, named.iloc[:65].to_numpy()
    )


def test_a_plain_function_strategy_still_works():
    X, y, g = make_biased_classification(200, random_state=0)
    learner = FairActiveClassifier(
        query_strategy=random_sampling, budget=10, batch_size=5, random_state=0
    ).fit(X, y, sensitive_features=g)
    assert len(learner.y_labeled_) == 20


@pytest.mark.parametrize(
    "strategy",
    ["facagen", "d_fa2l", lambda: FALSampling(method="fast", n_candidates=16)],
)
def test_feature_reading_strategies_take_a_sparse_feature_space(adult, strategy):
    X, y, sex, seed, categorical, numerical = adult
    encode = _encoder(categorical, numerical).set_params(sparse_threshold=1.0)
    assert scipy.sparse.issparse(encode.fit_transform(X))
    pipe = Pipeline([("encode", encode), ("model", LogisticRegression())])
    learner = FairActiveClassifier(
        pipe, strategy() if callable(strategy) else strategy, random_state=0
    )
    bought = _run_loop(learner, X, y, sex, seed)
    assert len(set(bought)) == ROUNDS * BATCH
