"""Tests for skfairal.representation."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skfairal.datasets import make_1000genomes_trait
from skfairal.representation import AncestryResidualizer


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
