"""Tests for skfairal.representation."""

import subprocess
import sys

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skfairal.datasets import make_1000genomes_trait
from skfairal.representation import AdversarialEncoder, AncestryResidualizer


@parametrize_with_checks([AncestryResidualizer(n_components=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_residuals_are_orthogonal_to_the_training_components():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 2) @ rng.randn(2, 40) + 0.3 * rng.randn(300, 40)
    model = AncestryResidualizer(n_components=2, random_state=0).fit(X)
    residuals = model.transform(X)
    scores = model.ancestry_scores(X)
    np.testing.assert_allclose(scores.T @ residuals, 0.0, atol=1e-8)


def test_ancestry_drops_to_near_chance_while_the_trait_stays_predictable():
    trait = make_1000genomes_trait(confounding=0.3, random_state=0)
    rng = np.random.RandomState(0)
    columns = np.union1d(
        rng.choice(trait.data.shape[1], 2000, replace=False), trait.causal_snps
    )
    X = trait.data[:, columns].astype(float)
    parts = train_test_split(
        X,
        trait.target,
        trait.super_pop,
        test_size=0.3,
        random_state=0,
        stratify=trait.super_pop,
    )
    X_tr, X_te, y_tr, y_te, pop_tr, pop_te = parts

    def scores(first):
        ancestry = make_pipeline(first, LogisticRegression(C=0.01, max_iter=300))
        accuracy = ancestry.fit(X_tr, pop_tr).score(X_te, pop_te)
        model = make_pipeline(first, LogisticRegression(C=0.01, max_iter=300))
        auc = roc_auc_score(y_te, model.fit(X_tr, y_tr).decision_function(X_te))
        return accuracy, auc

    raw_accuracy, raw_auc = scores(StandardScaler())
    accuracy, auc = scores(AncestryResidualizer(n_components=10, random_state=0))
    chance = np.max(np.unique(pop_te, return_counts=True)[1]) / len(pop_te)
    assert raw_accuracy > 0.95
    assert accuracy < chance + 0.15, (accuracy, chance)
    assert auc > 0.55, auc  # the causal part survives
    assert auc < raw_auc  # the ancestry shortcut is gone


def test_too_many_components_is_an_error():
    with pytest.raises(ValueError, match="n_components=5 must be below"):
        AncestryResidualizer(n_components=5).fit(np.random.RandomState(0).randn(5, 3))


# -- AdversarialEncoder --------------------------------------------------------


def _small_encoder(**params) -> AdversarialEncoder:
    """A few epochs of a tiny net: enough to exercise the API quickly."""
    settings = dict(
        n_components=2,
        hidden_units=8,
        adversary_steps=1,
        max_epochs=3,
        batch_size=32,
        random_state=0,
    )
    return AdversarialEncoder(**{**settings, **params})


def _toy(n=200, seed=0):
    """Four features, the last one mostly the group; y follows the first."""
    rng = np.random.RandomState(seed)
    groups = rng.randint(2, size=n)
    X = np.c_[rng.randn(n, 3), groups + 0.3 * rng.randn(n)]
    return X, (X[:, 0] > 0).astype(int), groups


@parametrize_with_checks(
    [_small_encoder()],
    expected_failed_checks=lambda _: {
        # Passes here, but float32 matrix products may differ in the last bits
        # with the number of rows on other CPUs (rtol=1e-7 is 1-2 ulps).
        "check_methods_subset_invariance": "float32 results vary with batch size"
    },
    xfail_strict=False,
)
def test_adversarial_encoder_is_sklearn_compatible(estimator, check):
    check(estimator)


def test_import_leaves_torch_unloaded_until_the_encoder_is_asked_for():
    code = (
        "import sys, skfairal.representation as r\n"
        "print('torch' in sys.modules, 'AdversarialEncoder' in dir(r))\n"
        "r.AdversarialEncoder\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "True"]


def _genomes_split(n_snps: int | None):
    """The confounded trait, ``n_snps`` random SNPs plus the causal ones
    (all SNPs for None), 30 % of the rows held out, stratified by ancestry."""
    trait = make_1000genomes_trait(confounding=0.3, random_state=0)
    if n_snps is None:
        X = trait.data
    else:
        rng = np.random.RandomState(0)
        columns = np.union1d(
            rng.choice(trait.data.shape[1], n_snps, replace=False),
            trait.causal_snps,
        )
        X = trait.data[:, columns]
    return train_test_split(
        X,
        trait.target,
        trait.super_pop,
        test_size=0.3,
        random_state=0,
        stratify=trait.super_pop,
    )


def _probe(Z_tr, Z_te, parts, C=1.0):
    """Held-out super-population accuracy and trait ROC AUC of a logistic
    regression on the representation (standardised, so that no direction
    escapes it by being small)."""
    _, _, y_tr, y_te, pop_tr, pop_te = parts

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))

    accuracy = model().fit(Z_tr, pop_tr).score(Z_te, pop_te)
    auc = roc_auc_score(y_te, model().fit(Z_tr, y_tr).decision_function(Z_te))
    return accuracy, auc


def _encoded(encoder, parts, *, adversary=True):
    X_tr, X_te, y_tr, _, pop_tr, _ = parts
    groups = pop_tr if adversary else None
    encoder.fit(X_tr, y_tr, sensitive_features=groups)
    return encoder.transform(X_tr), encoder.transform(X_te)


def _chance(parts):
    pop_te = parts[-1]
    return np.max(np.unique(pop_te, return_counts=True)[1]) / len(pop_te)


def test_adversary_takes_ancestry_to_chance_while_the_trait_stays_predictable():
    # 2,000 random SNPs plus the causal ones (2,092), 60 epochs: the encoder's
    # fit takes ~15 s on one core.
    parts = _genomes_split(2000)
    X_tr, X_te = parts[:2]
    chance = _chance(parts)
    raw_accuracy, raw_auc = _probe(X_tr, X_te, parts, C=0.01)
    plain_accuracy, _ = _probe(
        *_encoded(
            AdversarialEncoder(max_epochs=60, random_state=0), parts, adversary=False
        ),
        parts,
    )
    accuracy, auc = _probe(
        *_encoded(AdversarialEncoder(max_epochs=60, random_state=0), parts), parts
    )
    # Measured: super-population accuracy 0.99 from the SNPs, 0.81 from the
    # encoder without its adversary, 0.30 with it (chance 0.26; seeds 0-3 of
    # the encoder: 0.27-0.30); trait AUC 0.86, 0.83 and 0.70 (seeds 0-3:
    # 0.66-0.70).
    assert raw_accuracy > 0.95, raw_accuracy
    assert plain_accuracy > 0.7, plain_accuracy  # the adversary removes it...
    assert accuracy < chance + 0.1, (accuracy, chance)  # ...to near chance
    assert auc > 0.62, auc  # the causal part survives
    assert auc < raw_auc  # the ancestry shortcut is gone


@pytest.mark.slow
def test_adversary_on_the_whole_genotype_matrix():
    # All 22,684 SNPs, default settings: the encoder's fit takes ~45 s on two
    # cores, ~60 s on one.
    parts = _genomes_split(None)
    X_tr, X_te = parts[:2]
    chance = _chance(parts)
    raw_accuracy, raw_auc = _probe(X_tr, X_te, parts, C=0.01)
    accuracy, auc = _probe(*_encoded(AdversarialEncoder(random_state=0), parts), parts)
    # Measured: accuracy 1.00 from the SNPs, 0.34 from the representation
    # (chance 0.26); AUC 0.83 and 0.63.
    assert raw_accuracy > 0.95, raw_accuracy
    assert accuracy < chance + 0.12, (accuracy, chance)
    assert auc > 0.58, auc
    assert auc < raw_auc


def test_same_seed_same_representation():
    X, y, groups = _toy()
    first = _small_encoder().fit_transform(X, y, sensitive_features=groups)
    again = _small_encoder().fit_transform(X, y, sensitive_features=groups)
    other = _small_encoder(random_state=1).fit_transform(
        X, y, sensitive_features=groups
    )
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_without_groups_there_is_no_adversary():
    X, y, _ = _toy()
    encoder = _small_encoder().fit(X, y)
    assert encoder.groups_ is None
    assert encoder.net_.module_.adversary is None
    assert "adversary_loss" not in encoder.net_.history[-1]
    assert encoder.transform(X).shape == (len(X), 2)


def test_groups_classes_and_feature_names():
    X, y, groups = _toy()
    labels = np.where(groups == 1, "b", "a")
    encoder = _small_encoder().fit(
        X, np.where(y == 1, "case", "control"), sensitive_features=labels
    )
    assert encoder.groups_ == ["a", "b"]
    assert encoder.classes_.tolist() == ["case", "control"]
    assert len(encoder.net_.history[:, "adversary_loss"]) == 3
    assert encoder.get_feature_names_out().tolist() == [
        "adversarialencoder0",
        "adversarialencoder1",
    ]


@pytest.mark.parametrize(
    "target",
    [None, "continuous", "two columns"],
    ids=["reconstruction", "regression", "multi-output"],
)
def test_other_heads(target):
    X, _, groups = _toy()
    y = {
        None: None,
        "continuous": X[:, 0] * 3.0 + 1.0,
        "two columns": X[:, :2],
    }[target]
    encoder = _small_encoder().fit(X, y, sensitive_features=groups)
    assert encoder.classes_ is None
    assert encoder.transform(X).shape == (len(X), 2)
    assert np.isfinite(encoder.net_.history[:, "head_loss"]).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sensitive_features": np.arange(9) % 2}, "sensitive_features has 9 rows"),
        (
            {"sensitive_features": np.r_[np.nan, np.arange(199) % 2]},
            "sensitive_features contains missing values",
        ),
        ({"sensitive_features": np.zeros(200)}, "sensitive_features has 1 distinct"),
        ({"y": np.arange(9) % 2}, "y has 9 rows but X has 200"),
        ({"y": np.r_[np.nan, np.ones(199)]}, "Input y contains NaN"),
        ({"y": np.eye(200)[:, :3].astype(int)}, "y must hold class labels or real"),
    ],
)
def test_bad_input_names_the_argument(change, message):
    X, y, groups = _toy()
    kwargs = {"y": y, "sensitive_features": groups, **change}
    with pytest.raises(ValueError, match=message):
        _small_encoder().fit(X, kwargs.pop("y"), **kwargs)


@pytest.mark.parametrize(
    "params",
    [{"n_components": 0}, {"adversary_weight": -1.0}, {"lr": 0.0}, {"device": 3}],
)
def test_bad_parameters_are_named(params):
    X, y, _ = _toy()
    (name,) = params
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        _small_encoder(**params).fit(X, y)


@pytest.mark.parametrize("request_", ["default", "set_fit_request"])
def test_pipeline_routes_groups_with_routing_on(request_):
    X, y, groups = _toy()
    with sklearn.config_context(enable_metadata_routing=True):
        encoder = _small_encoder()
        if request_ == "set_fit_request":
            encoder = encoder.set_fit_request(sensitive_features=True)
        pipe = Pipeline([("encode", encoder), ("clf", LogisticRegression())])
        pipe.fit(X, y, sensitive_features=groups)
    assert pipe[0].groups_ == [0, 1]
    assert pipe.predict(X).shape == (len(X),)


def test_pipeline_routing_on_without_request_keeps_groups_away():
    X, y, groups = _toy()
    with sklearn.config_context(enable_metadata_routing=True):
        encoder = _small_encoder().set_fit_request(sensitive_features=False)
        pipe = Pipeline([("encode", encoder), ("clf", LogisticRegression())])
        with pytest.raises(TypeError, match="sensitive_features"):
            pipe.fit(X, y, sensitive_features=groups)
        pipe.fit(X, y)
    assert pipe[0].groups_ is None


def test_pipeline_routes_groups_with_routing_off():
    X, y, groups = _toy()
    with sklearn.config_context(enable_metadata_routing=False):
        pipe = Pipeline([("encode", _small_encoder()), ("clf", LogisticRegression())])
        pipe.fit(X, y, encode__sensitive_features=groups)
    assert pipe[0].groups_ == [0, 1]
