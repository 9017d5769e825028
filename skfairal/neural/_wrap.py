"""Torch modules and skorch nets as scikit-learn classifiers (imports torch)."""

import contextlib
import inspect
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetClassifier
from torch import nn

# Filled in from the data when a module class's constructor takes them.
_SHAPE_PARAMS = ("n_features", "n_classes")


def _default_net(module) -> NeuralNetClassifier:
    """The skorch net a bare module is trained in (see wrap_torch_estimator)."""
    return NeuralNetClassifier(
        module,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=30,
        batch_size=64,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    )


def _is_module(obj) -> bool:
    if isinstance(obj, type):
        return issubclass(obj, nn.Module)
    return isinstance(obj, nn.Module)


def _constructor_params(cls) -> set[str]:
    try:
        return set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):  # pragma: no cover - C-level constructors
        return set()


def _non_numeric_columns(X) -> list:
    """Names of the DataFrame columns that are neither numbers nor booleans."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return [
        name
        for name, dtype in X.dtypes.items()
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
    ]


@contextlib.contextmanager
def seeded_torch(random_state):
    """Seed torch's global generators inside, restore them afterwards.

    A seed is drawn from ``random_state`` (None leaves torch as it is), so
    torch code inside gives the same numbers for the same seed without
    changing the caller's global torch state.

    Examples
    --------
    >>> import torch
    >>> from skfairal.neural import seeded_torch
    >>> with seeded_torch(0):
    ...     a = torch.rand(2)
    >>> with seeded_torch(0):
    ...     b = torch.rand(2)
    >>> bool(torch.equal(a, b))
    True
    """
    if random_state is None:
        yield
        return
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    # Listing the CUDA devices (none on a CPU build) restores their state too.
    cuda = torch.cuda.is_available()
    devices = list(range(torch.cuda.device_count())) if cuda else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A torch module trained by skorch, as a plain scikit-learn classifier.

    It fixes what skorch leaves to the caller: ``X`` becomes a C-contiguous
    float32 array (DataFrames and sparse matrices too), ``y`` becomes int64
    class codes, the net's ``classes`` are fixed so ``predict_proba`` always
    has one column per class (even when a batch holds a single class), and
    :meth:`fit` takes no keyword arguments, so metadata such as
    ``sensitive_features`` can never reach ``module.forward``.

    Parameters
    ----------
    net : skorch.NeuralNetClassifier, torch.nn.Module class or instance
        A skorch net is cloned at each fit and keeps all its settings except
        ``classes``; the user's object is never changed. A module (which must
        return **logits**) is trained in the net described in
        :func:`wrap_torch_estimator`. A module class whose constructor takes
        ``n_features`` or ``n_classes`` gets them from the data unless they
        are set (as ``module__n_features`` of a skorch net, say). A module
        *instance* is deep-copied before each fit, so every fit (and every
        clone) starts from the instance's initial weights and the instance
        itself is never trained.
    n_classes : int or None, default=None
        ``None``: the classes are the sorted unique values of ``y`` (any
        labels). An int: ``y`` must hold the codes ``0 .. n_classes - 1`` and
        ``classes_`` is ``arange(n_classes)`` even when some codes are absent
        from ``y``, as when an active learner's first batch has one class.
    random_state : int, RandomState instance or None, default=None
        Seeds torch (initial weights of a module class, shuffling, dropout)
        during fit; torch's global generators are restored afterwards.
        ``None`` uses and advances torch's global state.

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The fitted net.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, when ``X`` has string column names.

    Notes
    -----
    Sparse ``X`` is turned into a dense array (torch modules take dense
    tensors); mind the memory on wide sparse data. Non-numeric features are
    rejected: encode them first (``OneHotEncoder`` in a Pipeline, say).

    Examples
    --------
    >>> from skfairal.datasets import make_biased_classification
    >>> from skfairal.neural import MLPModule, TorchClassifier
    >>> X, y, _ = make_biased_classification(200, random_state=0)
    >>> clf = TorchClassifier(MLPModule, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> clf.score(X, y) > 0.7
    True
    """

    _parameter_constraints = {
        # A skorch net or a torch module; checked in fit.
        "net": "no_validation",
        "n_classes": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, net, *, n_classes=None, random_state=None):
        self.net = net
        self.n_classes = n_classes
        self.random_state = random_state

    # -- checks ---------------------------------------------------------------

    def _template(self) -> NeuralNetClassifier:
        if isinstance(self.net, NeuralNetClassifier):
            return self.net
        if _is_module(self.net):
            return _default_net(self.net)
        raise TypeError(
            f"net must be a skorch NeuralNetClassifier or a torch.nn.Module class "
            f"or instance; got {self.net!r}."
        )

    def _check_X(self, X, *, reset: bool) -> np.ndarray:
        if hasattr(X, "iloc") and hasattr(X, "dtypes"):
            bad = _non_numeric_columns(X)
            if bad:
                raise ValueError(
                    f"{type(self).__name__} needs numeric features, but column(s) "
                    f"{bad} are not numeric; encode them first (with a "
                    "OneHotEncoder in a Pipeline, say)."
                )
        elif getattr(X, "dtype", None) is not None and X.dtype.kind in "USV":
            raise ValueError(
                f"{type(self).__name__} needs numeric features, got an array of "
                f"dtype {X.dtype}; encode them first (with a OneHotEncoder in a "
                "Pipeline, say)."
            )
        try:
            X = validate_data(
                self,
                X,
                reset=reset,
                accept_sparse=("csr", "csc", "coo"),
                dtype=np.float32,
                order="C",
            )
        except ValueError as exc:
            if "could not convert" not in str(exc):
                raise
            raise ValueError(
                f"{type(self).__name__} needs numeric features: {exc}; encode "
                "them first (with a OneHotEncoder in a Pipeline, say)."
            ) from exc
        if sp.issparse(X):
            X = X.toarray()
        return np.ascontiguousarray(X, dtype=np.float32)

    def _encode_y(self, y) -> np.ndarray:
        """Set ``classes_`` and return y as int64 codes into it."""
        y = column_or_1d(y, warn=True)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        if self.n_classes is None:
            check_classification_targets(y)
            self.classes_, codes = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"y has only one class ({self.classes_[0]!r}); a classifier "
                    "needs at least two classes, or set n_classes to fix them."
                )
            return codes.astype(np.int64)
        integral = y.dtype.kind in "iu" or (
            y.dtype.kind == "f" and (y == np.round(y)).all()
        )
        if not integral or (len(y) and (y.min() < 0 or y.max() >= self.n_classes)):
            raise ValueError(
                f"With n_classes={self.n_classes}, y must hold the class codes "
                f"0 .. {self.n_classes - 1}; got values {np.unique(y)[:10].tolist()}."
            )
        self.classes_ = np.arange(self.n_classes)
        return y.astype(np.int64)

    def _new_net(self, n_features: int, n_classes: int) -> NeuralNetClassifier:
        net = clone(self._template())  # deep-copies a module instance
        net.set_params(classes=list(range(n_classes)))
        if isinstance(net.module, type):
            accepted = _constructor_params(net.module)
            given = net.get_params(deep=False)
            fill = {
                f"module__{name}": value
                for name, value in zip(_SHAPE_PARAMS, (n_features, n_classes))
                if name in accepted and f"module__{name}" not in given
            }
            if fill:
                net.set_params(**fill)
        return net

    @staticmethod
    def _check_outputs(net, X, n_classes: int) -> None:
        out = net.evaluation_step((X[:1], None))
        out = out[0] if isinstance(out, tuple) else out
        if out.ndim != 2 or out.shape[1] != n_classes:
            raise ValueError(
                f"The module returns outputs of shape {tuple(out.shape)} for one row; "
                f"it needs one output (logit) per class, shape (1, {n_classes})."
            )

    # -- estimator API --------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train a fresh net on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Numeric features; cast to float32.
        y : array-like of shape (n_samples,)
            Class labels (codes ``0 .. n_classes - 1`` when ``n_classes`` is set).

        Returns
        -------
        self : TorchClassifier
        """
        X = self._check_X(X, reset=True)
        check_consistent_length(X, y)
        codes = self._encode_y(y)
        net = self._new_net(X.shape[1], len(self.classes_))
        with seeded_torch(self.random_state):
            net.initialize()
            self._check_outputs(net, X, len(self.classes_))
            net.fit(X, codes)
        self.net_ = net
        return self

    def predict_proba(self, X):
        """Class probabilities, one column per class of ``classes_``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return self.net_.predict_proba(X).astype(np.float64)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags


def wrap_torch_estimator(estimator, *, n_classes=None, random_state=None):
    """Turn a torch module or a skorch net into a scikit-learn classifier.

    A ``torch.nn.Module`` (class or instance) is put in
    ``skorch.NeuralNetClassifier(module, criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam, lr=0.01, max_epochs=30, batch_size=64,
    iterator_train__shuffle=True, train_split=None, verbose=0)``, so the
    module must return **logits**, one per class (``predict_proba`` applies
    the softmax). To choose other settings, or tune them (``lr``,
    ``max_epochs``, ``module__hidden``...), pass your own
    ``NeuralNetClassifier``: it is cloned and keeps every setting except
    ``classes``. Mind skorch's defaults there: ``NLLLoss`` expects a module
    that returns probabilities, and ``train_split`` holds out a fifth of the
    (possibly tiny) labeled set.

    Parameters
    ----------
    estimator : torch.nn.Module class or instance, or skorch.NeuralNetClassifier
        What to wrap.
    n_classes : int or None, default=None
        See :class:`TorchClassifier`: with an int, ``y`` must be class codes
        and the classes are fixed to ``0 .. n_classes - 1``.
    random_state : int, RandomState instance or None, default=None
        Seeds torch during fit.

    Returns
    -------
    TorchClassifier
        Unfitted; its ``net`` is the skorch net that each fit clones.

    Examples
    --------
    >>> from skfairal.neural import MLPModule, wrap_torch_estimator
    >>> clf = wrap_torch_estimator(MLPModule, n_classes=2)
    >>> clf.net.criterion
    <class 'torch.nn.modules.loss.CrossEntropyLoss'>
    >>> clf.get_params()["net__lr"]
    0.01
    """
    if isinstance(estimator, NeuralNetClassifier):
        net = clone(estimator)
    elif _is_module(estimator):
        net = _default_net(estimator)
    else:
        raise TypeError(
            "wrap_torch_estimator takes a torch.nn.Module class or instance, or a "
            f"skorch NeuralNetClassifier instance; got {estimator!r}. Other skorch "
            "nets (NeuralNetBinaryClassifier, NeuralNet) are not supported: use a "
            "NeuralNetClassifier whose module returns one logit per class."
        )
    return TorchClassifier(net, n_classes=n_classes, random_state=random_state)
