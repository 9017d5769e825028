"""Tests for PANDA: the policy (skfairal.policies.PANDAPolicy), its classifier
and its query-strategy face (skfairal.query.PANDASampling)."""

import ast
import copy
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skfairal
from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult, make_biased_classification
from skfairal.metrics import demographic_parity_difference
from skfairal.policies import FewStepLogisticRegression, PANDAPolicy
from skfairal.query import PANDASampling, entropy_utility, get_strategy

FAST = {"budget": 20, "n_meta_iter": 8, "pretrain_epochs": 2, "meta_pool_size": 128}
# Meta-training in well under a second, for the strategy's plumbing.
TINY = {
    "budget": 10, "n_meta_iter": 3, "pretrain_epochs": 1, "meta_pool_size": 32,
    "d_model": 8, "n_heads": 2, "n_layers": 1,
}  # fmt: skip


@pytest.fixture(scope="module")
def small():
    X, y, g = make_biased_classification(700, random_state=0)
    policy = PANDAPolicy(random_state=0, **FAST).fit(
        X[:400], y[:400], sensitive_features=g[:400]
    )
    return policy, X, y, g


@parametrize_with_checks([FewStepLogisticRegression()])
def test_few_step_classifier_is_sklearn_compatible(estimator, check):
    check(estimator)


def test_few_step_classifier_is_the_unrolled_inner_learner():
    X, y, _ = make_biased_classification(200, random_state=1)
    clf = FewStepLogisticRegression(n_steps=3, learning_rate=1.5).fit(X, y)
    # The same steps in torch, as PANDA's inner loop takes them.
    Z = torch.tensor(X / np.sqrt(X.shape[1]))
    w = torch.zeros(2, X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(Z @ w.T + b, torch.tensor(y))
        gw, gb = torch.autograd.grad(loss, (w, b))
        w = (w - 1.5 * gw).detach().requires_grad_()
        b = (b - 1.5 * gb).detach().requires_grad_()
    expected = torch.softmax(Z @ w.T + b, dim=1).detach().numpy()
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-10)


def test_fit_select_transform(small):
    policy, X, _, _ = small
    picks = policy.select(X[400:])
    assert len(picks) == 20
    assert len(np.unique(picks)) == 20
    assert policy.transform(X[:5]).shape == (5, policy.d_model)
    assert len(policy.history_) == FAST["n_meta_iter"]
    assert {"loss", "disparity", "satisfied", "seconds"} <= set(policy.history_[0])


def test_the_pool_is_scored_as_one_set_in_bounded_batches(small, monkeypatch):
    policy, X, _, _ = small
    from skfairal.policies import _panda

    whole = policy.decision_function(X)
    # Rows through the row-wise parts 64 at a time, after each layer's
    # summary of the whole pool: the same scores.
    monkeypatch.setattr(_panda, "_ROW_BATCH", 64)
    np.testing.assert_allclose(policy.decision_function(X), whole, atol=1e-5)
    # A row's score depends on the rest of the pool, through the summary.
    assert not np.allclose(policy.decision_function(X[:50]), whole[:50], atol=1e-3)


def test_selection_does_not_depend_on_the_pool_order(small):
    policy, X, _, _ = small
    pool = X[400:]
    order = np.random.RandomState(3).permutation(len(pool))
    picks = policy.select(pool, 15, random_state=1)
    shuffled = policy.select(pool[order], 15, random_state=1)
    np.testing.assert_array_equal(np.sort(order[shuffled]), np.sort(picks))


def test_identical_seeds_identical_policies():
    X, y, g = make_biased_classification(300, random_state=2)

    def fit(seed):
        return PANDAPolicy(random_state=seed, **FAST).fit(X, y, sensitive_features=g)

    one, two, other = fit(0), fit(0), fit(1)
    assert [h["loss"] for h in one.history_] == [h["loss"] for h in two.history_]
    np.testing.assert_array_equal(
        one.select(X, random_state=0), two.select(X, random_state=0)
    )
    assert not np.array_equal(one.decision_function(X), other.decision_function(X))


def test_save_and_load_reads_weights_only(small, tmp_path):
    policy, X, _, _ = small
    path = tmp_path / "panda.pt"
    policy.save(path)
    torch.load(path, weights_only=True)  # plain tensors and values only
    again = PANDAPolicy.load(path)
    params = policy.get_params()
    assert again.get_params() == params | {"random_state": None}
    np.testing.assert_allclose(again.decision_function(X), policy.decision_function(X))
    np.testing.assert_array_equal(
        again.select(X, random_state=4), policy.select(X, random_state=4)
    )


@pytest.mark.parametrize("damage", ["truncated", "random_bytes", "another_file"])
def test_loading_a_file_that_is_not_a_saved_policy_says_so(small, tmp_path, damage):
    policy, _, _, _ = small
    path = tmp_path / "panda.pt"
    policy.save(path)
    content = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(content[: len(content) // 2])
    elif damage == "random_bytes":
        path.write_bytes(np.random.RandomState(0).bytes(len(content)))
    else:
        torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match=r"panda\.pt' is not a saved PANDAPolicy"):
        PANDAPolicy.load(path)
    with pytest.raises(FileNotFoundError):
        PANDAPolicy.load(tmp_path / "missing.pt")


def test_select_falls_back_to_the_policy_seed(small):
    policy, X, _, _ = small
    seeded = copy.deepcopy(policy).set_params(random_state=5)
    np.testing.assert_array_equal(seeded.select(X), seeded.select(X, random_state=5))
    np.testing.assert_array_equal(seeded.select(X), seeded.select(X))


def test_sparse_rows_give_the_dense_rows_picks(small, monkeypatch):
    policy, X, _, _ = small
    from skfairal.policies import _panda

    # Batches of 64 rows: the sparse pool is densified a batch at a time.
    monkeypatch.setattr(_panda, "_ROW_BATCH", 64)
    X_sparse = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    dense = X_sparse.toarray()
    np.testing.assert_allclose(policy.transform(X_sparse), policy.transform(dense))
    np.testing.assert_array_equal(
        policy.select(X_sparse, random_state=0), policy.select(dense, random_state=0)
    )
    fitted = PANDAPolicy(random_state=0, **TINY)
    from_sparse = clone(fitted).fit(
        X_sparse, np.arange(700) % 2, sensitive_features=X[:, 0] > 0
    )
    from_dense = clone(fitted).fit(
        dense, np.arange(700) % 2, sensitive_features=X[:, 0] > 0
    )
    np.testing.assert_allclose(
        from_sparse.decision_function(dense), from_dense.decision_function(dense)
    )


def test_as_a_strategy_a_fitted_policy_needs_no_groups_at_query_time(small):
    policy, X, y, _ = small
    strategy = PANDASampling(policy)
    learner = FairActiveClassifier(LogisticRegression(), strategy, random_state=0)
    learner.fit(X[400:450], y[400:450])  # no groups at all: the policy is trained
    # The learner works on a clone of the strategy; a fitted policy is shared.
    assert learner.query_strategy_ is not strategy
    assert learner.query_strategy_.policy is policy
    picks = learner.query(X[450:], 10)  # no sensitive_features
    assert learner.query_strategy_.policy_ is policy
    assert len(np.unique(picks)) == 10
    assert clone(strategy).policy is policy
    assert not hasattr(clone(PANDASampling(PANDAPolicy())).policy, "policy_")


def test_by_name_it_meta_trains_on_the_labeled_rows():
    X, y, g = make_biased_classification(300, random_state=0)
    strategy = get_strategy("panda")
    assert isinstance(strategy, PANDASampling)
    strategy.set_params(policy=PANDAPolicy(**FAST))
    learner = FairActiveClassifier(LogisticRegression(), strategy, random_state=0)
    learner.fit(X[:100], y[:100], sensitive_features=g[:100])
    picks = learner.query(X[100:], 5)  # the pool's groups are not needed
    assert len(picks) == 5
    trained = learner.query_strategy_.policy_
    assert trained.n_features_in_ == X.shape[1]
    assert trained.get_params()["threshold"] == strategy.policy.threshold
    assert not hasattr(strategy.policy, "policy_")  # the given one stays unfitted
    # The policy of the run is kept: a second query does not meta-train again.
    learner.query(X[100:], 5)
    assert learner.query_strategy_.policy_ is trained


def test_meta_training_needs_the_labeled_groups():
    X, y, _ = make_biased_classification(100, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression(), PANDASampling(PANDAPolicy(**TINY))
    ).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="needs the sensitive features of the labeled"):
        learner.query(X[50:], 5)


def test_too_few_labeled_rows_say_what_to_do():
    X, y, g = make_biased_classification(100, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression(), PANDASampling(PANDAPolicy(**TINY))
    ).fit(X[:10], y[:10], sensitive_features=g[:10])
    with pytest.raises(ValueError, match=r"10 labeled rows.*Label more rows"):
        learner.query(X[10:], 5)


def test_a_fitted_policy_of_another_feature_space_is_an_error(small):
    policy, X, y, _ = small
    learner = FairActiveClassifier(LogisticRegression(), PANDASampling(policy))
    learner.fit(X[:50, :3], y[:50])
    with pytest.raises(ValueError, match=r"takes 5 features.*feature space has 3"):
        learner.query(X[50:, :3], 5)


def _panda_learner(seed, **params):
    strategy = PANDASampling(PANDAPolicy(**TINY))
    return FairActiveClassifier(
        LogisticRegression(), strategy, random_state=seed, **params
    )


def test_same_seed_same_picks_and_a_repeated_query_returns_the_same_rows():
    X, y, g = make_biased_classification(400, random_state=4)
    runs = []
    for seed in (0, 0, 1):
        learner = _panda_learner(seed).fit(X[:100], y[:100], sensitive_features=g[:100])
        first = learner.query(X[100:], 10)
        # Repeated before teach: the same round, the same rows (the policy
        # meta-trained at the first call is kept, the selection seed too).
        np.testing.assert_array_equal(learner.query(X[100:], 10), first)
        runs.append(first)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    # A simulation, through fit: identical seeds, identical rounds.
    histories = [
        _panda_learner(0, budget=20, batch_size=10, initial_size=40)
        .fit(X, y, sensitive_features=g)
        .history_
        for _ in range(2)
    ]
    for one, two in zip(*histories):
        np.testing.assert_array_equal(one["indices"], two["indices"])


def test_query_strategy_panda_on_adult_with_a_pipeline_and_a_dataframe():
    # Raw Adult rows, strings and all: the policy meta-trains and selects in
    # the Pipeline's feature space (one-hot, sparse), never on the raw pool.
    adult = load_adult(as_frame=True)
    rows = np.random.RandomState(0).permutation(len(adult.target))[:300]
    X = adult.data.iloc[rows].reset_index(drop=True)
    y = adult.target.to_numpy()[rows]
    sex = adult.sensitive_features["sex"].to_numpy(dtype=str)[rows]
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), adult.categorical_features),
            ("num", StandardScaler(), adult.numerical_features),
        ]
    )
    model = Pipeline([("encode", encode), ("clf", LogisticRegression(max_iter=500))])
    learner = FairActiveClassifier(
        model, "panda", budget=20, batch_size=10, initial_size=60, random_state=0
    )
    # The name's strategy with tiny meta-training settings, as GridSearchCV
    # would set them.
    learner.set_params(query_strategy=PANDASampling(PANDAPolicy(**TINY)))
    learner.fit(X, y, sensitive_features=sex)
    assert [h["n_labeled"] for h in learner.history_] == [60, 70, 80]
    trained = learner.query_strategy_.policy_
    assert sp.issparse(learner.base_features(X.iloc[:5]))
    assert trained.n_features_in_ > len(adult.numerical_features)
    # The interactive loop, with the pool's groups left out.
    learner = FairActiveClassifier(model, PANDASampling(PANDAPolicy(**TINY)))
    learner.fit(X.iloc[:100], y[:100], sensitive_features=sex[:100])
    picks = learner.query(X.iloc[100:], 5)
    assert len(np.unique(picks)) == 5
    width = learner.query_strategy_.policy_.n_features_in_
    # Rows of an occupation the seed set lacks: the refitted encoder widens
    # the feature space, and the policy is meta-trained again on it.
    unseen = ~X["occupation"].isin(X["occupation"].iloc[:100].unique())
    new = np.flatnonzero(unseen.to_numpy())[:3]
    learner.teach(X.iloc[new], y[new], sensitive_features=sex[new])
    wider = learner.base_features(X.iloc[:1]).shape[1]
    assert wider > width
    learner.query(X.iloc[100:], 5)
    assert learner.query_strategy_.policy_.n_features_in_ == wider


def test_the_name_panda_works_on_adult_with_its_default_policy():
    adult = load_adult(as_frame=True)
    rows = np.random.RandomState(1).permutation(len(adult.target))[:200]
    X = adult.data.iloc[rows].reset_index(drop=True)
    y = adult.target.to_numpy()[rows]
    sex = adult.sensitive_features["sex"].to_numpy(dtype=str)[rows]
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), adult.categorical_features)],
        remainder=StandardScaler(),
    )
    model = Pipeline([("encode", encode), ("clf", LogisticRegression(max_iter=500))])
    learner = FairActiveClassifier(model, "panda", random_state=0)
    learner.fit(X.iloc[:60], y[:60], sensitive_features=sex[:60])
    assert len(np.unique(learner.query(X.iloc[60:], 10))) == 10


def test_policies_is_a_leaf_of_the_package():
    # policies imports nothing of skfairal but utils (DESIGN.md, section 3).
    folder = Path(skfairal.__file__).parent / "policies"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                assert (node.module or "").startswith("utils"), path.name
            elif isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("skfairal"), path.name
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
                assert not any(n.startswith("skfairal") for n in names), path.name


@pytest.mark.parametrize(
    ("kwargs", "fit_args", "match"),
    [
        ({}, {"one_group": True}, "at least 2"),
        ({}, {"no_groups": True}, "needs sensitive_features"),
        ({}, {"three_classes": True}, "binary labels"),
        ({"d_model": 30}, {}, "multiple of n_heads"),
        ({"threshold": 2.0}, {}, "'threshold' parameter"),
    ],
)
def test_bad_fit_input(kwargs, fit_args, match):
    X, y, g = make_biased_classification(100, random_state=0)
    if fit_args.get("one_group"):
        g = np.zeros_like(g)
    if fit_args.get("three_classes"):
        y = y + (X[:, 0] > 1)
    groups = None if fit_args.get("no_groups") else g
    with pytest.raises(ValueError, match=match):
        PANDAPolicy(**{**FAST, **kwargs}).fit(X, y, sensitive_features=groups)


def test_budget_larger_than_the_pool_is_an_error(small):
    policy, X, _, _ = small
    with pytest.raises(ValueError, match="budget=20 is larger than the pool"):
        policy.select(X[:10])
    with pytest.raises(ValueError, match="X has 3 features"):
        policy.select(X[:, :3])


def test_meta_training_lowers_the_disparity_and_the_policy_selects_fairer_rows():
    # A biased problem (base rates 0.5 vs 0.2): scikit-learn's
    # LogisticRegression fitted on PANDA's picks is fairer than on entropy
    # sampling's, as meta-trained (the default, implicit inner classifier).
    X, y, g = make_biased_classification(6000, random_state=1)
    D, pool, test = np.arange(2000), np.arange(2000, 4000), np.arange(4000, 6000)
    policy = PANDAPolicy(budget=100, random_state=1).fit(
        X[D], y[D], sensitive_features=g[D]
    )
    start = np.mean([h["disparity"] for h in policy.history_[:10]])
    end = np.mean([h["disparity"] for h in policy.history_[-40:]])
    # Measured: 0.18 to 0.13.
    assert end < 0.8 * start, (start, end)

    rng = np.random.RandomState(1)
    seed_rows = rng.choice(pool, 20, replace=False)
    rest = np.setdiff1d(pool, seed_rows)

    def fitted(rows):
        return policy.make_classifier().fit(X[rows], y[rows])

    def gap(rows):
        pred = fitted(np.concatenate([seed_rows, rows])).predict(X[test])
        return demographic_parity_difference(y[test], pred, sensitive_features=g[test])

    proba = fitted(seed_rows).predict_proba(X[rest])
    entropy = gap(rest[np.argsort(-entropy_utility(proba))[:100]])
    # PANDA's picks are a draw: the mean of five; random's too.
    panda = np.mean(
        [gap(rest[policy.select(X[rest], random_state=s)]) for s in range(5)]
    )
    draws = np.random.RandomState(2)
    random = np.mean([gap(draws.choice(rest, 100, replace=False)) for _ in range(5)])
    # Measured: 0.207 against 0.221 (entropy) and 0.221 (random): fairer, by
    # a small margin on this problem (on Adult, benchmarks/panda_adult.py:
    # 0.109 against 0.179 and 0.180).
    assert panda < min(entropy, random), (panda, entropy, random)


@pytest.mark.parametrize(
    ("constraint", "metric"),
    [
        ("demographic_parity", "demographic_parity_difference"),
        ("error_rate_balance", "error_rate_balance_difference"),
    ],
)
def test_disparity_surrogates_agree_with_the_metrics(constraint, metric):
    from skfairal import metrics
    from skfairal.policies._panda_modules import (
        hard_group_disparity,
        soft_group_disparity,
    )

    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 300)
    pred = rng.randint(0, 2, 300)
    groups = rng.randint(0, 3, 300)
    expected = getattr(metrics, metric)(y, pred, sensitive_features=groups)
    assert hard_group_disparity(pred, y, groups, constraint) == pytest.approx(expected)
    # On hard (0/1) probabilities the differentiable surrogate is the metric.
    soft = soft_group_disparity(
        torch.tensor(pred, dtype=torch.float64),
        torch.tensor(y),
        torch.tensor(groups),
        3,
        constraint,
    )
    assert float(soft) == pytest.approx(expected)


def test_error_rate_balance_constraint_is_trained_and_recorded():
    X, y, g = make_biased_classification(300, random_state=3)
    policy = PANDAPolicy(constraint="error_rate_balance", random_state=0, **FAST)
    policy.fit(X, y, sensitive_features=g)
    assert all(0 <= h["disparity"] <= 1 for h in policy.history_)
    assert len(policy.select(X)) == FAST["budget"]


@pytest.mark.slow
def test_on_adult_the_training_task_disparity_meets_the_constraint():
    # The paper's claim, on the paper's data: the inner classifier trained on
    # the policy's picks keeps its validation disparity at rho = 0.04.
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skfairal.datasets import load_adult

    bunch = load_adult(as_frame=True)
    X = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), bunch.categorical_features),
        (StandardScaler(), bunch.numerical_features),
        sparse_threshold=0.0,
    ).fit_transform(bunch.data)
    y = bunch.target.to_numpy()
    sex = bunch.sensitive_features["sex"].astype(str).to_numpy()
    half = np.random.RandomState(0).permutation(len(y))[: len(y) // 2]
    policy = PANDAPolicy(budget=400, threshold=0.04, random_state=0).fit(
        X[half], y[half], sensitive_features=sex[half]
    )
    # With the converged inner classifier it stays near rho rather than
    # within it: 0.041 here, 0.049 over benchmarks/panda_adult.py's 5 seeds.
    late = [h["disparity"] for h in policy.history_[-40:]]
    assert np.mean(late) <= 0.06, np.mean(late)
