"""What a query strategy may read of the learner: a view and the round's context."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_array

from ..utils import check_sensitive_features, map_row_chunks, take_rows


@dataclass(frozen=True)
class QueryContext:
    """Where a query stands in its active-learning run.

    A :class:`~skfairal.FairActiveClassifier` passes it to its strategy
    through :class:`LearnerView`, so a strategy never reads the learner's
    hyper-parameters or counts its rows itself.

    Attributes
    ----------
    round : int
        The round this query opens: 1 for the first query after ``fit``.
        A repeated query (no ``teach`` in between) has the same round.
    n_labeled : int
        Rows the model is trained on.
    n_postponed : int
        Labeled rows the strategy holds back (trial and error).
    n_rounds : int or None
        Rounds of the simulation in progress (``fit`` with ``budget > 0``);
        None outside a simulation.
    batch_size : int or None
        Rows per round of that simulation; None outside one.
    verbose : int
        The learner's ``verbose``: a slow strategy shows its progress when
        it is above 0.

    Examples
    --------
    >>> from skfairal.query import QueryContext
    >>> context = QueryContext(round=2, n_labeled=30, n_postponed=5)
    >>> context.n_bought, context.in_simulation
    (35, False)
    """

    round: int = 1
    n_labeled: int = 0
    n_postponed: int = 0
    n_rounds: int | None = None
    batch_size: int | None = None
    verbose: int = 0

    @property
    def n_bought(self) -> int:
        """Labels bought so far: trained on or postponed."""
        return self.n_labeled + self.n_postponed

    @property
    def in_simulation(self) -> bool:
        """Whether the query is a round of ``fit``'s simulation."""
        return self.n_rounds is not None


def final_estimator(estimator):
    """The last step of a Pipeline, or the estimator itself.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfairal.query import final_estimator
    >>> final_estimator(make_pipeline(StandardScaler(), LogisticRegression()))
    LogisticRegression()
    """
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def feature_space(estimator, X, *, n_jobs=None, n_features: int = 1):
    """X as the final step of a fitted ``estimator`` sees it.

    For a :class:`~sklearn.pipeline.Pipeline`, the rows transformed by every
    step but the last (the transform fitted on the labeled rows); for any
    other estimator, X validated as numbers. Rows are transformed in the
    chunks of :func:`skfairal.utils.map_row_chunks` (bounded memory, parallel
    with ``n_jobs``). A sparse transform stays sparse (CSR).

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
    X : array-like, sparse matrix or DataFrame
        Rows in the format the estimator takes.
    n_jobs : int or None, default=None
        Parallel jobs over the chunks.
    n_features : int, default=1
        Features of X, for the chunk length.

    Returns
    -------
    features : ndarray or sparse matrix of shape (n_samples, n_features_out)
        Floats.

    Raises
    ------
    ValueError
        When X of a non-Pipeline estimator is not numeric: the encoding
        belongs in a Pipeline before the model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfairal.query import feature_space
    >>> X = np.array([[0.0], [2.0], [4.0]])
    >>> model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, [0, 0, 1])
    >>> feature_space(model, X).ravel().round(3)
    array([-1.225,  0.   ,  1.225])
    """
    if isinstance(estimator, Pipeline):
        preprocess = estimator[:-1]
        transform = preprocess.transform
    else:

        def transform(rows):
            try:
                return check_array(
                    rows,
                    accept_sparse="csr",
                    dtype=(np.float64, np.float32),
                    ensure_all_finite=False,
                )
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"the base estimator {type(estimator).__name__} takes X as "
                    f"given, and a strategy that reads features needs numbers: "
                    f"{exc} Put the encoding in a Pipeline before the model, "
                    "Pipeline([ColumnTransformer(...), model])."
                ) from exc

    parts = map_row_chunks(
        transform, X, row_bytes=16.0 * max(n_features, 1), n_jobs=n_jobs
    )
    if len(parts) == 1:
        out = parts[0]
    elif any(sp.issparse(p) for p in parts):
        out = sp.vstack([sp.csr_matrix(p) for p in parts], format="csr")
    else:
        out = np.concatenate([np.asarray(p) for p in parts])
    if sp.issparse(out):
        return out.tocsr().astype(np.float64, copy=False)
    return np.asarray(out, dtype=np.float64)


def check_finite_rows(X, *, allow_nan: bool = False, name: str = "X_pool"):
    """Raise if the numbers of X hold infinity, or NaN when not allowed.

    Numeric arrays and sparse matrices are checked whole; a DataFrame's
    numeric columns are checked (text and categorical columns are the
    preprocessing's to handle, missing values included); anything else is
    left to the base estimator.

    Returns
    -------
    nan_rows : ndarray of int
        The rows holding a NaN (only when ``allow_nan``; sparse matrices and
        unchecked inputs give none).

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.query._view import check_finite_rows
    >>> check_finite_rows(np.array([[1.0, np.nan]]), allow_nan=True)
    array([0])
    >>> check_finite_rows(np.array([[1.0, np.nan]]))
    Traceback (most recent call last):
    ...
    ValueError: X_pool contains NaN (row 0, column 1); ...
    """
    none = np.empty(0, dtype=np.intp)
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        import pandas as pd

        columns = [
            j
            for j in range(X.shape[1])
            if pd.api.types.is_numeric_dtype(X.iloc[:, j])
            and not pd.api.types.is_bool_dtype(X.iloc[:, j])
        ]
        if not columns:
            return none
        values = np.column_stack(
            [X.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan) for j in columns]
        )
        names = [X.columns[j] for j in columns]
        return _check_numbers(values, allow_nan, name, names)
    if sp.issparse(X):
        if X.dtype.kind in "fc":
            _check_numbers(X.data[None, :], allow_nan, name, None, sparse=True)
        return none
    if isinstance(X, np.ndarray) and X.dtype.kind in "fc" and X.ndim == 2:
        return _check_numbers(X, allow_nan, name, None)
    return none


def _check_numbers(values, allow_nan, name, columns, *, sparse=False):
    finite = np.isfinite(values)
    if finite.all():
        return np.empty(0, dtype=np.intp)
    for kind, bad in (("infinity", np.isinf(values)), ("NaN", np.isnan(values))):
        if kind == "NaN" and allow_nan:
            return np.flatnonzero(bad.any(axis=1))
        if not bad.any():
            continue
        if sparse:
            where = "a stored value"
        else:
            row, col = np.argwhere(bad)[0]
            label = col if columns is None else repr(columns[col])
            where = f"row {row}, column {label}"
        hint = (
            "drop or impute those rows (a Pipeline with SimpleImputer), or use a "
            "base estimator that accepts missing values."
            if kind == "NaN"
            else "drop or clip those rows."
        )
        raise ValueError(f"{name} contains {kind} ({where}); {hint}")
    return np.empty(0, dtype=np.intp)


def _dense_features(features) -> np.ndarray:
    """Features as a dense float64 array (a sparse transform densified)."""
    if sp.issparse(features):
        return features.toarray()
    return np.asarray(features, dtype=np.float64)


def _allows_nan(estimator) -> bool:
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except (TypeError, AttributeError):
        return False


class LearnerView:
    """The read-only interface between a learner and its query strategy.

    A strategy reads the learner only through this view (see
    :class:`BaseQueryStrategy`): its fitted estimator, probabilities,
    labeled rows (raw and in the base estimator's feature space), encoded
    labels, groups, postponed rows and the round's :class:`QueryContext`.
    Any learner that has the fitted attributes of a
    :class:`~skfairal.FairActiveClassifier` works (``classes_``,
    ``predict_proba``, ``estimator_``, ``X_labeled_``, ``y_encoded_``,
    ``sensitive_features_labeled_``); a plain fitted classifier is its own
    estimator and has no labeled rows. A missing attribute raises an error
    that names the strategy which asked for it.

    Parameters
    ----------
    learner : fitted classifier
        A FairActiveClassifier, a modAL learner's view or any fitted
        classifier.
    context : QueryContext or None, default=None
        None outside a learner's own query: derived from the learner's rows.
    strategy_name : str, default="the query strategy"
        Named in errors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal import FairActiveClassifier
    >>> from skfairal.query import LearnerView
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> learner = FairActiveClassifier(LogisticRegression()).fit(X, [0, 0, 1, 1])
    >>> view = learner.strategy_view()
    >>> view.y_encoded, view.context.round
    (array([0, 0, 1, 1]), 1)
    >>> LearnerView(learner.estimator_).classes
    array([0, 1])
    """

    def __init__(self, learner, context=None, *, strategy_name="the query strategy"):
        self._learner = learner
        self.strategy_name = strategy_name
        if context is None:
            n_labeled = len(getattr(learner, "y_encoded_", ()))
            n_postponed = len(getattr(learner, "y_postponed_", ()))
            context = QueryContext(
                round=max(len(getattr(learner, "history_", ())), 1),
                n_labeled=n_labeled,
                n_postponed=n_postponed,
                verbose=int(getattr(learner, "verbose", 0) or 0),
            )
        self.context = context

    def _require(self, attr: str, what: str):
        try:
            return getattr(self._learner, attr)
        except AttributeError:
            raise TypeError(
                f"{self.strategy_name} needs {what} (learner.{attr}), which "
                f"{type(self._learner).__name__} does not have; pass a fitted "
                "FairActiveClassifier."
            ) from None

    # -- the model --------------------------------------------------------------

    @property
    def classes(self) -> np.ndarray:
        """The learner's class labels; strategies work with their codes."""
        return np.asarray(self._require("classes_", "the class labels"))

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def is_constrained(self) -> bool:
        """Whether the learner's base is a constrained model (fairlearn's mitigators).

        Then :attr:`estimator`, :meth:`predict_proba`, :meth:`predict_codes`
        and :meth:`features` read its inner estimator fitted plain on the
        labeled rows (the learner's ``unconstrained_estimator_``), and
        :meth:`constrained_predict_proba` the constrained model itself.
        """
        return getattr(self._learner, "unconstrained_estimator_", None) is not None

    @property
    def estimator(self):
        """The fitted base estimator (a Pipeline stays a Pipeline).

        For a constrained base, its inner estimator fitted without the
        constraint (see :attr:`is_constrained`).
        """
        if self.is_constrained:
            return self._learner.unconstrained_estimator_
        if hasattr(self._learner, "estimator_"):
            return self._learner.estimator_
        if hasattr(self._learner, "X_labeled_"):
            return self._require("estimator_", "the fitted base estimator")
        return self._learner

    @property
    def final_estimator(self):
        """The last step of the base estimator: the model on the features."""
        return final_estimator(self.estimator)

    @property
    def allows_nan(self) -> bool:
        """Whether the base estimator takes missing values in X."""
        return _allows_nan(self.estimator)

    def check_rows(self, X, *, name: str = "X_pool") -> None:
        """Raise unless the base estimator's last step can take X's numbers.

        Infinity is always an error. NaN is one unless the last step takes
        missing values; for a Pipeline, only the rows holding a NaN are
        transformed to see whether its preprocessing fills them.
        """
        estimator = self.estimator
        if not isinstance(estimator, Pipeline):
            check_finite_rows(X, allow_nan=self.allows_nan, name=name)
            return
        nan_rows = check_finite_rows(X, allow_nan=True, name=name)
        if len(nan_rows):
            check_finite_rows(
                feature_space(estimator, take_rows(X, nan_rows)),
                allow_nan=_allows_nan(estimator[-1]),
                name=f"{name} (as the Pipeline's last step sees it)",
            )

    @property
    def n_jobs(self):
        """The learner's ``n_jobs`` for row chunks (None if it has none)."""
        return getattr(self._learner, "n_jobs", None)

    def _row_bytes(self) -> float:
        n_features = getattr(self._learner, "n_features_in_", 1)
        return 8.0 * (n_features + self.n_classes)

    def _unconstrained(self, method: str, X) -> np.ndarray:
        parts = map_row_chunks(
            getattr(self.estimator, method),
            X,
            row_bytes=self._row_bytes(),
            n_jobs=self.n_jobs,
        )
        return np.concatenate([np.asarray(part) for part in parts])

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of X, checked to be finite and 2-D.

        For a constrained base, those of its unconstrained inner estimator
        (see :attr:`is_constrained`).
        """
        if self.is_constrained:
            proba = np.asarray(self._unconstrained("predict_proba", X), dtype=float)
            return self._checked_proba(proba)
        if not hasattr(self._learner, "predict_proba"):
            raise TypeError(
                f"{type(self._learner).__name__} has no predict_proba, which "
                f"{self.strategy_name} needs; use a base estimator with "
                "predict_proba (for SVC: probability=True)."
            )
        proba = np.asarray(self._learner.predict_proba(X), dtype=np.float64)
        return self._checked_proba(proba)

    @staticmethod
    def _checked_proba(proba: np.ndarray) -> np.ndarray:
        if proba.ndim != 2 or not np.all(np.isfinite(proba)):
            raise ValueError(
                "predict_proba returned non-finite or non-2-D values; the base "
                "estimator's probabilities cannot be scored."
            )
        return proba

    def constrained_predict_proba(self, X, sensitive_features=None) -> np.ndarray:
        """The constrained model's P(prediction = class) of X.

        Parameters
        ----------
        X : array-like
            Rows to score.
        sensitive_features : array-like or None
            Their groups, required when the constrained model predicts from
            them (ThresholdOptimizer).

        Raises
        ------
        TypeError
            When the learner's base is not a constrained model.
        """
        if not self.is_constrained:
            raise TypeError(
                f"{self.strategy_name} needs a constrained base estimator (a "
                "fairlearn ExponentiatedGradient or ThresholdOptimizer, alone or "
                "as a Pipeline's last step), but the learner's base is "
                f"{type(self.estimator).__name__}."
            )
        proba = self._learner.predict_proba(X, sensitive_features=sensitive_features)
        return self._checked_proba(np.asarray(proba, dtype=np.float64))

    def predict_codes(self, X) -> np.ndarray:
        """Predicted class codes (indices into ``classes``) of X.

        For a constrained base, its unconstrained inner estimator's (its
        classes are already the codes: it is fitted on ``y_encoded``).
        """
        if self.is_constrained:
            return np.asarray(self._unconstrained("predict", X)).astype(np.intp)
        return np.searchsorted(self.classes, np.asarray(self._learner.predict(X)))

    def features(self, X):
        """X in the base estimator's feature space (see :func:`feature_space`)."""
        if hasattr(self._learner, "base_features"):
            return self._learner.base_features(X)
        return feature_space(
            self.estimator,
            X,
            n_jobs=self.n_jobs,
            n_features=getattr(self._learner, "n_features_in_", 1),
        )

    # -- the labeled rows ---------------------------------------------------------

    @property
    def X_labeled(self):
        """The labeled rows the model is trained on, as the user gave them."""
        return self._require("X_labeled_", "the labeled rows")

    @cached_property
    def labeled_features(self):
        """``features(X_labeled)``, computed once per view."""
        return self.features(self.X_labeled)

    @property
    def y_encoded(self) -> np.ndarray:
        """Labels of the labeled rows as class codes."""
        return np.asarray(self._require("y_encoded_", "the encoded labels"))

    @property
    def labeled_sensitive_features(self):
        """Groups of the labeled rows as given (None when fit had none)."""
        # Read first: a modAL learner's view notes that they were asked for.
        groups = getattr(self._learner, "sensitive_features_labeled_", None)
        if groups is None or not hasattr(self._learner, "X_labeled_"):
            return None
        return groups

    @cached_property
    def labeled_groups(self):
        """:class:`~skfairal.utils.GroupEncoding` of the labeled rows, or None."""
        groups = self.labeled_sensitive_features
        if groups is None:
            return None
        return check_sensitive_features(groups, len(self.y_encoded))

    def require_labeled_groups(self, what: str = "") -> object:
        """The labeled rows' groups, or an error saying how to give them."""
        if self.labeled_groups is None:
            raise ValueError(
                f"{self.strategy_name} needs the sensitive features of the labeled "
                "rows" + (f" {what}" if what else "") + ": pass sensitive_features "
                "to the learner's fit and teach."
            )
        return self.labeled_groups

    @property
    def X_postponed(self):
        """Labeled rows the strategy holds back from training."""
        return getattr(self._learner, "X_postponed_", None)

    @property
    def y_postponed(self) -> np.ndarray:
        """Their labels."""
        return np.asarray(getattr(self._learner, "y_postponed_", ()))
