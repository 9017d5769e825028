"""FACA-GEN's causal-consistency arm: the deconfounded representation and the gap.

Functions of a learner's view, so that :class:`FACAGENSampling` keeps only
the run's state and the choice of rows.
"""

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from ..utils import concat_rows, map_row_chunks
from ._view import _dense_features


def _folded_linear_model(representation, model, X):
    """``model`` composed with an affine ``representation``, or None.

    When the representation is affine (``affine_map``: transform(X) = X @ A
    + c) and the model a ``LogisticRegression`` on its output, the pair is a
    logistic regression on X itself: scoring a pool with it costs one
    ``predict_proba`` instead of a transform of the pool, the causal arm's
    largest cost. None otherwise (then the caller transforms in chunks).
    """
    numeric = sp.issparse(X) or (isinstance(X, np.ndarray) and X.dtype.kind == "f")
    if not (
        hasattr(representation, "affine_map")
        and isinstance(model, LogisticRegression)
        and numeric
    ):
        return None
    A, c = representation.affine_map()
    folded = copy.copy(model)
    folded.coef_ = model.coef_ @ A.T
    folded.intercept_ = model.intercept_ + model.coef_ @ c
    folded.n_features_in_ = A.shape[0]
    return folded


def causal_error(view, what: str, exc: Exception) -> ValueError:
    """The error of features the arm cannot read: the step and the fixes."""
    step = type(view.final_estimator).__name__
    return ValueError(
        f"FACAGENSampling's causal_consistency arm {what} the features its "
        f"learner's last step ({step}) sees, and cannot: {exc} Give the "
        "learner a Pipeline whose steps before the last output a dense "
        "numeric matrix without missing values (ColumnTransformer(..., "
        "sparse_threshold=0) with a SimpleImputer), a representation that "
        "takes these features, or leave the arm out: arms=('informativeness', "
        "'fairness')."
    )


def fit_representation(view, pool_features, representation, n_components, seed):
    """A clone of ``representation`` (None: an ``AncestryResidualizer`` of
    ``n_components``, seeded with ``seed``) fitted on the labeled and pool
    rows' features."""
    try:
        X_all = concat_rows(view.labeled_features, pool_features())
    except (TypeError, ValueError) as exc:
        raise causal_error(view, "reads", exc) from exc
    if representation is not None:
        representation = clone(representation)
    else:
        from ..representation import AncestryResidualizer

        # The residualiser centres every feature: its work is dense anyway.
        X_all = _dense_features(X_all)
        cap = min(np.shape(X_all)) - 1
        if cap < 1:
            raise ValueError(
                "FACAGENSampling's causal_consistency arm needs at least 2 "
                "rows and 2 features to find confounder axes; the learner's "
                f"features are {np.shape(X_all)}."
            )
        representation = AncestryResidualizer(min(n_components, cap), random_state=seed)
    try:
        return representation.fit(X_all)
    except (TypeError, ValueError) as exc:
        raise causal_error(view, "fits its representation on", exc) from exc


def causal_gap(view, pool_features, proba, representation, *, default: bool):
    """Per pool row, the largest change of a class probability between the
    learner and its last step refitted on the deconfounded labeled rows.

    ``default`` says the representation is the default residualiser, which
    takes dense features only.
    """
    try:
        features = pool_features()
        Z_labeled = representation.transform(
            _dense_features(view.labeled_features) if default else view.labeled_features
        )
    except (TypeError, ValueError) as exc:
        raise causal_error(view, "reads", exc) from exc
    deconfounded = clone(view.final_estimator).fit(Z_labeled, view.y_encoded)
    folded = _folded_linear_model(representation, deconfounded, features)
    if folded is not None:
        return np.abs(proba - folded.predict_proba(features)).max(axis=1)

    def deconfounded_proba(F):
        return deconfounded.predict_proba(
            representation.transform(_dense_features(F) if default else F)
        )

    # In the learner's chunks: the representation's copies of a large pool
    # stay small (a row costs its features twice: input and transform).
    parts = map_row_chunks(
        deconfounded_proba,
        features,
        row_bytes=16 * max(features.shape[1], 1),
        n_jobs=view.n_jobs,
    )
    return np.abs(proba - np.concatenate(parts)).max(axis=1)
