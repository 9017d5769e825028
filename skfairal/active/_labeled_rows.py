"""A learner's labeled and postponed rows: checks, and the state after new labels."""

import numpy as np
from sklearn.utils import column_or_1d

from ..utils import (
    check_sensitive_features,
    concat_rows,
    is_missing,
    sensitive_features_array,
    take_rows,
)
from ._constrained import fit_constrained, is_constrained


def missing_mask(y: np.ndarray, missing_label) -> np.ndarray:
    if is_missing(missing_label):
        if y.dtype.kind == "f":
            return np.isnan(y)
        if y.dtype.kind == "O":
            return np.fromiter((is_missing(v) for v in y), dtype=bool, count=len(y))
        return np.zeros(len(y), dtype=bool)
    return y == missing_label


class LabeledRowsMixin:
    """FairActiveClassifier's checks of labels and groups, and its training state.

    Every method computes and returns; none changes the learner, so a failed
    ``teach`` leaves it as it was.
    """

    def _check_y(self, y, n_samples: int, *, name: str = "y") -> np.ndarray:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(y, warn=True)
        if len(y) != n_samples:
            raise ValueError(
                f"{name} has {len(y)} labels but X has {n_samples} rows; "
                "they need the same length."
            )
        if y.dtype.kind == "f" and np.isinf(y).any():
            raise ValueError(f"Input {name} contains infinity.")
        return y

    @staticmethod
    def _check_groups(sensitive_features, n_samples: int, name="sensitive_features"):
        """Validated groups as a positional array: 1-D for one column, else 2-D.

        Whatever the container (a named Series at fit, a list at query), the
        groups line up with the rows by position alone.
        """
        if sensitive_features is None:
            return None
        check_sensitive_features(sensitive_features, n_samples, name=name)
        return sensitive_features_array(sensitive_features, name=name)

    def _encode(self, y_labeled: np.ndarray) -> np.ndarray:
        try:
            unseen = np.setdiff1d(np.unique(y_labeled), self.classes_).tolist()
        except TypeError:
            # Labels of another type than the classes (ints taught to a learner
            # fitted on strings) cannot be sorted together: compare one by one.
            known = set(self.classes_.tolist())
            unseen = [v for v in dict.fromkeys(y_labeled.tolist()) if v not in known]
        if len(unseen):
            raise ValueError(
                f"y contains label(s) {unseen} not seen in fit; the "
                f"learner's classes are {self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y_labeled).astype(np.int64)

    def _fitted_on(self, X_labeled, y_labeled, groups_labeled):
        """A new fitted base estimator and state; self is not touched."""
        y_encoded = self._encode(y_labeled)
        estimator = self._make_estimator(n_classes=len(self.classes_))
        unconstrained = None
        # fit has checked that a constrained base has the groups.
        if is_constrained(estimator):
            estimator, unconstrained = fit_constrained(
                estimator, X_labeled, y_encoded, groups_labeled
            )
        else:
            estimator.fit(X_labeled, y_encoded)
        return {
            "estimator_": estimator,
            "unconstrained_estimator_": unconstrained,
            "X_labeled_": X_labeled,
            "y_labeled_": y_labeled,
            "y_encoded_": y_encoded,
            "sensitive_features_labeled_": groups_labeled,
        }

    def _absorbed(self, X_new, y_new, groups_new):
        """State after newly labeled rows arrive; self is not touched.

        The strategy's ``usable_rows`` hook (Falcon's trial and error; by
        default every row) decides which of the waiting rows (those it
        postponed earlier, then the new ones) join the training set now; the
        others stay postponed. A plain function strategy has no hook.
        """
        X_wait = concat_rows(self.X_postponed_, X_new)
        y_wait = np.concatenate([self.y_postponed_, y_new])
        groups_wait = self._all_groups(self.sensitive_features_postponed_, groups_new)
        hook = getattr(self.query_strategy_, "usable_rows", None)
        if hook is None:
            usable = np.ones(len(y_wait), dtype=bool)
        else:
            usable = np.asarray(
                hook(
                    self,
                    self._encode(y_wait),
                    sensitive_features=groups_wait,
                    n_postponed=len(self.y_postponed_),
                )
            )
        if usable.dtype != bool or usable.shape != y_wait.shape:
            raise RuntimeError(
                f"usable_rows of {self._strategy_name()!r} returned {usable!r}; it "
                f"must return one bool per waiting row ({len(y_wait)})."
            )
        use, hold = np.flatnonzero(usable), np.flatnonzero(~usable)
        state = {
            "X_postponed_": take_rows(X_wait, hold),
            "y_postponed_": y_wait[hold],
            "sensitive_features_postponed_": None
            if groups_wait is None
            else groups_wait[hold],
        }
        if len(use):
            state |= self._fitted_on(
                concat_rows(self.X_labeled_, take_rows(X_wait, use)),
                np.concatenate([self.y_labeled_, y_wait[use]]),
                self._all_groups(
                    self.sensitive_features_labeled_,
                    None if groups_wait is None else groups_wait[use],
                ),
            )
        return state

    @staticmethod
    def _all_groups(groups, groups_new):
        if groups is None:
            return None
        if groups.ndim != groups_new.ndim or groups.shape[1:] != groups_new.shape[1:]:
            raise ValueError(
                "sensitive_features has another number of columns than the "
                f"learner's groups ({groups_new.shape[1:] or 1} vs "
                f"{groups.shape[1:] or 1})."
            )
        all_groups = concat_rows(groups, groups_new)
        # Groups of another type than fit's (strings after ints) are an error.
        check_sensitive_features(all_groups)
        return all_groups

    def _empty_postponed(self, X, y, groups) -> dict:
        none = np.empty(0, dtype=np.intp)
        return {
            "X_postponed_": take_rows(X, none),
            "y_postponed_": y[none],
            "sensitive_features_postponed_": None if groups is None else groups[none],
        }
