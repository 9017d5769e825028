"""FairActiveClassifier's predictions: chunked scoring, constrained models."""

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ..utils import indexable_rows, map_row_chunks, take_rows
from ._constrained import (
    constrained_pmf,
    draw_predictions,
    is_constrained,
    needs_groups_at_predict,
)


def _estimator_has(attr):
    def check(self):
        estimator = (
            self.estimator_ if hasattr(self, "estimator_") else self._make_estimator()
        )
        # A constrained model's probabilities are its randomized classifier's.
        if attr == "predict_proba" and is_constrained(estimator):
            return True
        return hasattr(estimator, attr)

    return check


class PredictionMixin:
    """Prediction methods of FairActiveClassifier, computed in row chunks.

    A constrained base (see ``unconstrained_estimator_``) predicts through
    its randomized classifier's pmf, with groups where it needs them.
    """

    def _check_predict_X(self, X):
        check_is_fitted(self)
        X = indexable_rows(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        return X

    def _row_bytes(self) -> int:
        # Bytes a row takes to score: its float64 features and one value per
        # class. The one estimate behind the chunk length; rows whose features
        # cannot be counted (raw text) count as one feature.
        return 8 * (getattr(self, "n_features_in_", 1) + len(self.classes_))

    def _score_rows(self, method: str, X):
        """``estimator_.<method>(X)``, computed chunk by chunk (see ``n_jobs``)."""
        parts = map_row_chunks(
            getattr(self.estimator_, method),
            X,
            row_bytes=self._row_bytes(),
            n_jobs=self.n_jobs,
        )
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([np.asarray(part) for part in parts])

    def _prediction_groups(self, sensitive_features, n_rows: int):
        """Validated groups of rows to predict; an error if the model needs them."""
        if sensitive_features is None:
            if needs_groups_at_predict(self.estimator_):
                raise ValueError(
                    f"sensitive_features is required: the base estimator "
                    f"{type(self.estimator_).__name__} predicts from the groups of "
                    "the rows; pass sensitive_features to predict, predict_proba "
                    "and score."
                )
            return None
        return self._check_groups(sensitive_features, n_rows)

    def _constrained_pmf(self, X, groups) -> np.ndarray:
        """The constrained model's pmf of X, chunk by chunk (see ``n_jobs``)."""

        def pmf(rows):
            return constrained_pmf(
                self.estimator_,
                take_rows(X, rows),
                None if groups is None else groups[rows],
            )

        parts = map_row_chunks(
            pmf,
            np.arange(_num_samples(X)),
            row_bytes=self._row_bytes(),
            n_jobs=self.n_jobs,
        )
        return np.concatenate(parts)

    def predict(self, X, *, sensitive_features=None):
        """Predicted class labels.

        For a constrained base, the randomized classifier's predictions, drawn
        with ``seed_``: the same rows in the same order get the same labels.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Groups of the rows; required by a constrained base that predicts
            from them (ThresholdOptimizer), unused by any other.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._check_predict_X(X)
        groups = self._prediction_groups(sensitive_features, _num_samples(X))
        if self.unconstrained_estimator_ is not None:
            codes = draw_predictions(self._constrained_pmf(X, groups), self.seed_)
        else:
            codes = self._score_rows("predict", X)
        return self.classes_[np.asarray(codes, dtype=np.intp)]

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X, *, sensitive_features=None):
        """Class probabilities, columns in the order of ``classes_``.

        For a constrained base, the probability that its randomized
        classifier predicts each class.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Groups of the rows; required by a constrained base that predicts
            from them (ThresholdOptimizer), unused by any other.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._check_predict_X(X)
        groups = self._prediction_groups(sensitive_features, _num_samples(X))
        if self.unconstrained_estimator_ is not None:
            return self._constrained_pmf(X, groups)
        return self._score_rows("predict_proba", X)

    def score(self, X, y, sample_weight=None, *, sensitive_features=None) -> float:
        """Accuracy of :meth:`predict` on X.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Groups of the rows, for a constrained base that predicts from them.

        Returns
        -------
        score : float
        """
        from sklearn.metrics import accuracy_score

        y_pred = self.predict(X, sensitive_features=sensitive_features)
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        X = self._check_predict_X(X)
        return self._score_rows("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The base estimator's decision function.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        X = self._check_predict_X(X)
        return self._score_rows("decision_function", X)
