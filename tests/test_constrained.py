"""Constrained base estimators (fairlearn's mitigators) inside the learner,
and ConstrainedMarginSampling, the strategy that reads them."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult, make_biased_classification
from skfairal.metrics import demographic_parity_difference
from skfairal.query import ConstrainedMarginSampling, available_strategies
from skfairal.query._constrained_margin import stratum_quotas

fairlearn_reductions = pytest.importorskip("fairlearn.reductions")
fairlearn_post = pytest.importorskip("fairlearn.postprocessing")
DemographicParity = fairlearn_reductions.DemographicParity
EqualizedOdds = fairlearn_reductions.EqualizedOdds
ExponentiatedGradient = fairlearn_reductions.ExponentiatedGradient
ThresholdOptimizer = fairlearn_post.ThresholdOptimizer

N_LABELED = 120


def _eg(bound=0.05, moment=DemographicParity):
    return ExponentiatedGradient(
        LogisticRegression(max_iter=1000), moment(difference_bound=bound)
    )


def _to(constraints="demographic_parity"):
    # fairlearn relaxes demographic parity only (tol); equalized odds is exact.
    tol = 0.05 if constraints == "demographic_parity" else None
    return ThresholdOptimizer(
        estimator=LogisticRegression(max_iter=1000),
        constraints=constraints,
        predict_method="predict_proba",
        tol=tol,
    )


@pytest.fixture(scope="module")
def data():
    X, y, g = make_biased_classification(800, random_state=0)
    return X, y, g


def _fit(base, data, strategy="entropy"):
    X, y, g = data
    learner = FairActiveClassifier(base, strategy, random_state=0)
    return learner.fit(X[:N_LABELED], y[:N_LABELED], sensitive_features=g[:N_LABELED])


def test_the_learner_fits_the_constraint_with_the_labeled_groups(data):
    X, y, g = data
    learner = _fit(_eg(), data)
    oracle = _eg().fit(X[:N_LABELED], y[:N_LABELED], sensitive_features=g[:N_LABELED])
    np.testing.assert_allclose(
        learner.predict_proba(X[N_LABELED:]), oracle._pmf_predict(X[N_LABELED:])
    )
    plain = LogisticRegression(max_iter=1000).fit(X[:N_LABELED], y[:N_LABELED])
    np.testing.assert_allclose(
        learner.unconstrained_estimator_.predict_proba(X), plain.predict_proba(X)
    )
    # The constraint works: the test DP of the constrained model is below the
    # plain model's.
    test = slice(N_LABELED, None)
    dp = demographic_parity_difference(
        y[test], learner.predict(X[test]), sensitive_features=g[test]
    )
    dp_plain = demographic_parity_difference(
        y[test], plain.predict(X[test]), sensitive_features=g[test]
    )
    assert dp < dp_plain


def test_a_plain_base_has_no_unconstrained_estimator(data):
    assert _fit(LogisticRegression(), data).unconstrained_estimator_ is None


def test_teach_refits_the_constraint_on_every_labeled_row(data):
    X, y, g = data
    learner = _fit(_eg(), data)
    new = np.arange(N_LABELED, N_LABELED + 30)
    learner.teach(X[new], y[new], sensitive_features=g[new])
    rows = slice(None, N_LABELED + 30)
    oracle = _eg().fit(X[rows], y[rows], sensitive_features=g[rows])
    np.testing.assert_allclose(learner.predict_proba(X), oracle._pmf_predict(X))


def test_predictions_are_seeded_and_reproducible(data):
    X = data[0]
    first = _fit(_eg(), data).predict(X)
    np.testing.assert_array_equal(first, _fit(_eg(), data).predict(X))
    learner = _fit(_eg(), data)
    np.testing.assert_array_equal(learner.predict(X), learner.predict(X))
    # Drawn from the pmf: where it is 0 or 1 the prediction follows it.
    pmf = learner.predict_proba(X)[:, 1]
    sure = (pmf == 0) | (pmf == 1)
    np.testing.assert_array_equal(first[sure], pmf[sure].astype(int))
    with sklearn.config_context(working_memory=0.001):  # many row chunks
        np.testing.assert_array_equal(learner.predict(X), first)


def test_threshold_optimizer_needs_groups_at_prediction(data):
    X, y, g = data
    learner = _fit(_to(), data)
    with pytest.raises(ValueError, match=r"sensitive_features is required.*predicts"):
        learner.predict(X)
    with pytest.raises(ValueError, match="sensitive_features is required"):
        learner.predict_proba(X)
    with pytest.raises(ValueError, match="sensitive_features is required"):
        learner.score(X, y)
    oracle = _to().fit(X[:N_LABELED], y[:N_LABELED], sensitive_features=g[:N_LABELED])
    np.testing.assert_allclose(
        learner.predict_proba(X, sensitive_features=g),
        oracle._pmf_predict(X, sensitive_features=g),
    )
    score = learner.score(X, y, sensitive_features=g)
    assert score == np.mean(learner.predict(X, sensitive_features=g) == y)
    with pytest.raises(ValueError, match="sensitive_features"):
        learner.predict(X, sensitive_features=g[:10])


@pytest.mark.parametrize("base", [_eg(), _to()], ids=["EG", "TO"])
def test_a_constrained_base_needs_groups_at_fit(base, data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"is required.*constrained"):
        FairActiveClassifier(base).fit(X[:50], y[:50])


def test_a_prefit_or_empty_mitigator_is_refused(data):
    X, y, g = data
    prefit = ThresholdOptimizer(
        estimator=LogisticRegression().fit(X, y), prefit=True, tol=0.05
    )
    with pytest.raises(ValueError, match="prefit=True"):
        FairActiveClassifier(prefit).fit(X[:50], y[:50], sensitive_features=g[:50])
    with pytest.raises(ValueError, match="estimator=None"):
        FairActiveClassifier(ThresholdOptimizer()).fit(
            X[:50], y[:50], sensitive_features=g[:50]
        )


def test_a_failed_constrained_teach_leaves_the_learner_unchanged(data):
    X, y, g = data
    learner = _fit(_to(), data)
    before = learner.predict_proba(X, sensitive_features=g)
    n_before = len(learner.y_labeled_)
    # A wrong-length group array fails before anything changes.
    with pytest.raises(ValueError, match="sensitive_features"):
        learner.teach(X[:5], y[:5], sensitive_features=g[:4])
    assert len(learner.y_labeled_) == n_before
    np.testing.assert_array_equal(
        learner.predict_proba(X, sensitive_features=g), before
    )


def test_clone_and_pickle_keep_the_constrained_model(data):
    X, _, g = data
    learner = _fit(_to(), data)
    again = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(
        again.predict(X, sensitive_features=g), learner.predict(X, sensitive_features=g)
    )
    fresh = clone(learner)
    assert not hasattr(fresh, "estimator_")
    assert isinstance(fresh.estimator, ThresholdOptimizer)


@pytest.mark.parametrize("name", available_strategies())
def test_every_strategy_reads_the_unconstrained_model(name, data):
    """The contract: a strategy's picks on a constrained learner are its picks on
    the same rows with the inner estimator as base, unless it reads the
    constrained model (requires_constrained_base)."""
    X, _, g = data
    constrained = _fit(_eg(), data, name)
    picks = constrained.query(X[N_LABELED:], 5, sensitive_features=g[N_LABELED:])
    assert len(np.unique(picks)) == 5
    if getattr(constrained.query_strategy_, "requires_constrained_base", False):
        return
    plain = _fit(LogisticRegression(max_iter=1000), data, name)
    expected = plain.query(X[N_LABELED:], 5, sensitive_features=g[N_LABELED:])
    np.testing.assert_array_equal(picks, expected)


@pytest.fixture(scope="module")
def adult():
    bunch = load_adult(as_frame=True)
    rng = np.random.RandomState(0)
    rows = rng.choice(np.flatnonzero(~bunch.is_test), 600, replace=False)
    X = bunch.data.iloc[rows].reset_index(drop=True)
    y = np.where(bunch.target.iloc[rows].to_numpy() == 1, ">50K", "<=50K")
    sex = pd.Series(bunch.sensitive_features["sex"].iloc[rows].astype(str).to_numpy())
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), bunch.categorical_features),
            ("num", StandardScaler(), bunch.numerical_features),
        ],
        sparse_threshold=0.0,
    )
    return X, y, sex, encode


@pytest.mark.parametrize("mitigator", ["EG", "TO"])
def test_a_pipeline_with_the_mitigator_last_on_a_dataframe(adult, mitigator):
    X, y, sex, encode = adult
    base = _eg(moment=EqualizedOdds) if mitigator == "EG" else _to("equalized_odds")
    pipe = Pipeline([("encode", encode), ("model", base)])
    learner = FairActiveClassifier(pipe, ConstrainedMarginSampling(), random_state=0)
    seed, pool = np.arange(150), np.arange(150, 600)
    learner.fit(X.iloc[seed], y[seed], sensitive_features=sex.iloc[seed])
    for _ in range(2):
        picks = learner.query(X.iloc[pool], 10, sensitive_features=sex.iloc[pool])
        rows = pool[picks]
        learner.teach(X.iloc[rows], y[rows], sensitive_features=sex.iloc[rows])
        pool = np.delete(pool, picks)
    assert len(learner.y_labeled_) == 170
    assert isinstance(learner.unconstrained_estimator_, Pipeline)
    assert learner.unconstrained_estimator_[0] is learner.estimator_[0]
    pred = learner.predict(X, sensitive_features=sex)
    assert set(pred) <= {">50K", "<=50K"}


@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_over_a_constrained_learner(routing, data):
    X, y, g = data
    rows = slice(None, 300)
    learner = FairActiveClassifier(
        _to(), "random", budget=20, batch_size=10, initial_size=60, random_state=0
    )
    search = GridSearchCV(
        learner, {"query_strategy": ["random", "constrained_margin"]}, cv=2
    )
    if routing:
        with sklearn.config_context(enable_metadata_routing=True):
            search.fit(X[rows], y[rows], sensitive_features=g[rows])
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    else:
        # Without routing, the scorer gets no groups, which ThresholdOptimizer
        # needs: the error says so (GridSearchCV re-raises it).
        with pytest.raises(ValueError, match="sensitive_features is required"):
            search.set_params(error_score="raise").fit(
                X[rows], y[rows], sensitive_features=g[rows]
            )
        eg_search = GridSearchCV(
            clone(learner).set_params(estimator=_eg()),
            {"query_strategy": ["random", "constrained_margin"]},
            cv=2,
        ).fit(X[rows], y[rows], sensitive_features=g[rows])
        assert np.isfinite(eg_search.cv_results_["mean_test_score"]).all()


# -- ConstrainedMarginSampling ---------------------------------------------------


def test_constrained_margin_needs_a_constrained_base(data):
    X, _, g = data
    learner = _fit(LogisticRegression(), data)
    with pytest.raises(TypeError, match="needs a constrained base estimator"):
        ConstrainedMarginSampling()(
            learner, X[N_LABELED:], 3, sensitive_features=g[N_LABELED:]
        )


def test_constrained_margin_needs_pool_groups(data):
    X, _, _ = data
    learner = _fit(_eg(), data)
    with pytest.raises(ValueError, match="needs sensitive_features for the pool"):
        ConstrainedMarginSampling()(learner, X[N_LABELED:], 3)


def _margins(learner, pool, groups):
    score = learner.unconstrained_estimator_.predict_proba(pool)[:, 1]
    accept = learner.predict_proba(pool, sensitive_features=groups)[:, 1]
    logit = np.log(score) - np.log1p(-score)
    margin = np.empty(len(pool))
    for group in np.unique(groups):
        rows = groups == group
        threshold = np.quantile(logit[rows], 1 - accept[rows].mean())
        margin[rows] = np.abs(logit[rows] - threshold)
    return margin


def test_constrained_margin_with_one_stratum_picks_nearest_each_threshold(data):
    X, _, g = data
    learner = _fit(_to(), data, ConstrainedMarginSampling(n_strata=1))
    pool, groups = X[N_LABELED:], g[N_LABELED:]
    margin = _margins(learner, pool, groups)
    quota = stratum_quotas(
        (groups == 1).astype(int), (g[:N_LABELED] == 1).astype(int), 2, 10
    )
    picks = learner.query(pool, 10, sensitive_features=groups)
    for code, group in enumerate((0, 1)):
        rows = np.flatnonzero(groups == group)
        nearest = rows[np.argsort(margin[rows])[: quota[code]]]
        np.testing.assert_array_equal(
            np.sort(picks[groups[picks] == group]), np.sort(nearest)
        )
    # Best first across the groups.
    assert np.all(np.diff(margin[picks]) >= 0)


def test_stratum_quotas_move_the_labeled_shares_toward_the_pool():
    pool_cells = np.repeat([0, 1, 2, 3], [400, 300, 200, 100])
    labeled = np.repeat([0, 1], [30, 10])  # cells 2 and 3 unlabeled
    quota = stratum_quotas(pool_cells, labeled, 4, 20)
    assert quota.sum() == 20
    after = np.bincount(labeled, minlength=4) + quota
    before_gap = np.abs(np.bincount(labeled, minlength=4) / 40 - [0.4, 0.3, 0.2, 0.1])
    after_gap = np.abs(after / 60 - [0.4, 0.3, 0.2, 0.1])
    assert after_gap.sum() < before_gap.sum()
    # Each pick fills the largest remaining deficit: 8, 12, 6 end equal.
    np.testing.assert_array_equal(quota, [0, 6, 10, 4])
    # A cell never gets more picks than it has pool rows.
    assert stratum_quotas(np.array([0, 1]), np.array([], dtype=int), 2, 2).tolist() == [
        1,
        1,
    ]


def test_constrained_margin_corrects_a_biased_seed_set(data):
    X, y, g = data
    # Seed: group 1 at a tenth of the labeled rows, a third of the pool.
    seed = np.concatenate([np.flatnonzero(g == 0)[:45], np.flatnonzero(g == 1)[:5]])
    pool = np.setdiff1d(np.arange(len(y)), seed)
    learner = FairActiveClassifier(_eg(), ConstrainedMarginSampling(), random_state=0)
    learner.fit(X[seed], y[seed], sensitive_features=g[seed])
    picks = learner.query(X[pool], 20, sensitive_features=g[pool])
    share_b = np.mean(g[pool] == 1)
    labeled_b = (5 + np.sum(g[pool][picks] == 1)) / 70
    assert abs(labeled_b - share_b) < abs(5 / 50 - share_b)
    assert np.mean(g[pool][picks] == 1) > share_b


def test_constrained_margin_strata_spread_the_picks_over_scores(data):
    X, _, g = data
    pool, groups = X[N_LABELED:], g[N_LABELED:]
    learner = _fit(_eg(), data, ConstrainedMarginSampling(n_strata=5))
    one = _fit(_eg(), data, ConstrainedMarginSampling(n_strata=1))
    score = learner.unconstrained_estimator_.predict_proba(pool)[:, 1]
    spread = np.std(score[learner.query(pool, 20, sensitive_features=groups)])
    narrow = np.std(score[one.query(pool, 20, sensitive_features=groups)])
    assert spread > narrow
    with pytest.raises(ValueError, match="n_strata"):
        ConstrainedMarginSampling(n_strata=0)(
            learner, pool, 3, sensitive_features=groups
        )


def test_a_sparse_input_to_the_mitigator_gets_a_clear_error(data):
    X, y, g = data
    pipe = Pipeline([("sparse", FunctionTransformer(sp.csr_matrix)), ("fair", _eg())])
    learner = FairActiveClassifier(pipe, "entropy")
    with pytest.raises(TypeError, match="sparse_output=False"):
        learner.fit(X[:N_LABELED], y[:N_LABELED], sensitive_features=g[:N_LABELED])
    assert not hasattr(learner, "estimator_")
