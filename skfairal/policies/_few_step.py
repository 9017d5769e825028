"""The linear classifier PANDA's policy is meta-trained against."""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)


class FewStepLogisticRegression(ClassifierMixin, BaseEstimator):
    """Softmax regression trained by a few full-batch gradient steps from zero.

    The inner learner of :class:`PANDAPolicy` as a scikit-learn classifier:
    weights and intercepts start at zero and take ``n_steps`` gradient steps
    of size ``learning_rate`` on the mean cross-entropy, with the features
    scaled by ``1 / sqrt(n_features)`` (so the step size means the same for
    any width). Stopping early is its only regularisation. Sharaf et al.
    fine-tune the final layer of their representation on the selected rows;
    giving every strategy this classifier on ``PANDAPolicy.transform``
    features compares them on the model the policy was trained for.

    Parameters
    ----------
    n_steps : int, default=5
        Gradient steps.
    learning_rate : float, default=2.0
        Their size.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
        Weights on the unscaled features.
    intercept_ : ndarray of shape (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int

    Examples
    --------
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.policies import FewStepLogisticRegression
    >>> X, y, _ = make_biased_classification(300, random_state=0)
    >>> clf = FewStepLogisticRegression().fit(X, y)
    >>> round(clf.score(X, y), 2) > 0.7
    True
    """

    _parameter_constraints = {
        "n_steps": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_steps: int = 5, learning_rate: float = 2.0):
        self.n_steps = n_steps
        self.learning_rate = learning_rate

    def fit(self, X, y, sample_weight=None):
        """Take ``n_steps`` gradient steps from zero on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean cross-entropy.

        Returns
        -------
        self : FewStepLogisticRegression
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        weights = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        if weights.sum() <= 0:
            raise ValueError("sample_weight sums to zero: no row to learn from.")
        weights = weights / weights.sum()
        scale = 1 / np.sqrt(X.shape[1])
        Z = X * scale
        target = np.eye(len(self.classes_))[codes]
        W = np.zeros((len(self.classes_), X.shape[1]))
        b = np.zeros(len(self.classes_))
        for _ in range(self.n_steps):
            residual = (softmax(Z @ W.T + b, axis=1) - target) * weights[:, None]
            W -= self.learning_rate * residual.T @ Z
            b -= self.learning_rate * residual.sum(0)
        self.coef_, self.intercept_ = W * scale, b
        return self

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_.T + self.intercept_

    def decision_function(self, X):
        """Class scores: the logit difference for two classes, else the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        logits = self._logits(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X):
        """Softmax of :meth:`decision_function`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._logits(X), axis=1)

    def predict(self, X):
        """The most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        codes = self._logits(X).argmax(axis=1)
        return self.classes_[codes]
