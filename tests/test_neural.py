"""Torch modules and skorch nets inside scikit-learn and FairActiveClassifier."""

import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skorch
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator
from skorch import NeuralNetClassifier
from torch import nn

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.neural import (
    MLPModule,
    TorchClassifier,
    is_torch_estimator,
    wrap_torch_estimator,
)


class StrictModule(nn.Module):
    """forward takes X only (a keyword would be a TypeError) and insists on float32."""

    def __init__(self, n_features=5, n_classes=2):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, X):
        if X.dtype != torch.float32:
            raise TypeError(f"expected float32 input, got {X.dtype}")
        return self.linear(X)


@pytest.fixture(scope="module")
def data():
    X, y, groups = make_biased_classification(160, random_state=0)
    return X, y, groups


def small_net(**kwargs):
    params = dict(
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.05,
        max_epochs=5,
        train_split=None,
        verbose=0,
        module__hidden=(8,),
    )
    return NeuralNetClassifier(MLPModule, **{**params, **kwargs})


def labels(y):
    return np.where(y == 1, "yes", "no").astype(object)


# -- the wrapper on its own ----------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["float64", "int", "dataframe", "sparse", "fortran", "list"]
)
def test_wrapper_takes_any_numeric_X(data, kind):
    X, y, _ = data
    X = {
        "float64": X,
        "int": np.round(X * 3).astype(np.int64),
        "dataframe": pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]),
        "sparse": sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0)),
        "fortran": np.asfortranarray(X),
        "list": X.tolist(),
    }[kind]
    clf = TorchClassifier(StrictModule, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (160, 2)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert set(clf.predict(X)) <= {0, 1}
    assert clf.score(X, y) > 0.6  # it learned something, so proba is no garbage
    if kind == "dataframe":
        assert list(clf.feature_names_in_) == list(X.columns)


def test_wrapper_label_encodes_any_labels_without_n_classes(data):
    X, y, _ = data
    clf = TorchClassifier(StrictModule, random_state=0).fit(X, labels(y))
    assert clf.classes_.tolist() == ["no", "yes"]
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.net_.classes == [0, 1]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.float64])
def test_class_codes_of_any_integer_or_float_dtype(data, dtype):
    X, y, _ = data
    clf = wrap_torch_estimator(StrictModule, n_classes=2, random_state=0)
    clf.fit(X, y.astype(dtype))
    assert clf.predict(X).dtype.kind == "i"
    assert clf.score(X, y) > 0.6


def test_single_class_batch_keeps_every_class_column(data):
    X, _, _ = data
    clf = wrap_torch_estimator(MLPModule, n_classes=3, random_state=0)
    clf.fit(X[:12], np.zeros(12, dtype=np.int64))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert proba.shape == (160, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert (clf.predict(X) == 0).all()  # all it has seen


def test_module_gets_n_features_and_n_classes_from_the_data(data):
    X, y, _ = data
    clf = TorchClassifier(MLPModule, n_classes=4).fit(X[:, :3], y)
    first = clf.net_.module_.layers[0]
    last = clf.net_.module_.layers[-1]
    assert (first.in_features, last.out_features) == (3, 4)
    # A value set by the user wins.
    net = small_net(module__n_classes=3)
    clf = TorchClassifier(net, n_classes=3).fit(X, y)
    assert clf.net_.module_.layers[-1].out_features == 3


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": list("xyxy")}), r"\['b'\]"),
        (np.array([["a", "b"]] * 4), "dtype <U1"),
        (np.array([[1.0, "b"]] * 4, dtype=object), "could not convert"),
    ],
)
def test_non_numeric_X_is_rejected(X, match):
    with pytest.raises(ValueError, match=f"needs numeric features.*{match}"):
        TorchClassifier(StrictModule).fit(X, [0, 1, 0, 1])


def test_bad_y_and_bad_modules_fail_clearly(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"class codes 0 \.\. 1"):
        TorchClassifier(StrictModule, n_classes=2).fit(X, y + 1)
    with pytest.raises(ValueError, match="class codes"):
        TorchClassifier(StrictModule, n_classes=2).fit(X, labels(y))
    with pytest.raises(ValueError, match="only one class"):
        TorchClassifier(StrictModule).fit(X, np.zeros(len(X)))
    # Three logits for two classes: caught before training.
    with pytest.raises(ValueError, match=r"one output \(logit\) per class"):
        TorchClassifier(StrictModule(n_classes=3), n_classes=2).fit(X, y)
    with pytest.raises(TypeError, match=r"NeuralNetClassifier or a torch\.nn\.Module"):
        TorchClassifier(LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match="NeuralNetBinaryClassifier"):
        wrap_torch_estimator(skorch.NeuralNetBinaryClassifier(StrictModule))


def test_fit_takes_no_metadata(data):
    X, y, groups = data
    clf = TorchClassifier(StrictModule)
    with pytest.raises(TypeError, match="sensitive_features"):
        clf.fit(X, y, sensitive_features=groups)


def test_users_net_and_module_instance_are_never_trained(data):
    X, y, _ = data
    net = small_net(classes=None)
    clf = wrap_torch_estimator(net, n_classes=2).fit(X, y)
    assert not hasattr(net, "module_")
    assert net.classes is None
    assert clf.net_ is not net
    assert clf.net is not net

    module = StrictModule()
    before = module.linear.weight.detach().clone()
    first = TorchClassifier(module, random_state=0).fit(X, y)
    second = clone(first).fit(X[::-1], y[::-1])
    torch.testing.assert_close(module.linear.weight, before)
    assert first.net_.module_ is not module
    assert first.net_.module_ is not second.net_.module_
    # Each fit starts from the instance's weights; the two runs end apart.
    assert not torch.equal(first.net_.module_.linear.weight, before)
    assert not torch.equal(
        first.net_.module_.linear.weight, second.net_.module_.linear.weight
    )


def test_random_state_reproduces_and_restores_torch_rng(data):
    X, y, _ = data

    def fitted(random_state):
        net = small_net(module__dropout=0.5)
        return TorchClassifier(net, random_state=random_state).fit(X, y)

    state = torch.get_rng_state()
    first = fitted(3)
    # fit drew from a generator of its own (predict's DataLoader does draw).
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(first.predict_proba(X), fitted(3).predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), fitted(4).predict_proba(X))


def test_wrapped_net_parameters_are_tunable_and_cloned(data):
    clf = wrap_torch_estimator(small_net(), n_classes=2)
    assert clf.get_params()["net__lr"] == 0.05
    clf.set_params(net__max_epochs=2, net__module__hidden=(4,))
    copy = clone(clf)
    assert copy.net is not clf.net
    assert copy.get_params()["net__module__hidden"] == (4,)
    X, y, _ = data
    copy.fit(X, y)
    assert len(copy.net_.history) == 2
    assert copy.net_.module_.layers[0].out_features == 4


def _check_net():
    # Trains well enough on the checks' small problems in a few epochs.
    return NeuralNetClassifier(
        MLPModule,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.05,
        max_epochs=20,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
        module__hidden=(16,),
    )


def _check_id(param) -> str:
    _, check = getattr(param, "values", param)  # a pytest.param when marked
    func = getattr(check, "func", check)
    kwargs = ",".join(f"{k}={v}" for k, v in getattr(check, "keywords", {}).items())
    return f"{func.__name__}({kwargs})" if kwargs else func.__name__


_CHECKS = list(
    estimator_checks_generator(
        TorchClassifier(_check_net(), random_state=0),
        expected_failed_checks={
            # Passes here, but float32 matrix products may differ in the last
            # bits with the batch size on other CPUs (rtol=1e-7 is 1-2 ulps).
            "check_methods_subset_invariance": "float32 results vary with batch size"
        },
        mark="xfail",
        xfail_strict=False,
    )
)


# Every other scikit-learn estimator check passes (skorch alone fails 36).
@pytest.mark.parametrize(
    ("estimator", "check"), _CHECKS, ids=[_check_id(p) for p in _CHECKS]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_is_torch_estimator():
    assert is_torch_estimator(MLPModule)
    assert is_torch_estimator(StrictModule())
    assert is_torch_estimator(small_net())
    for other in (LogisticRegression(), LogisticRegression, None, "MLPModule", 3):
        assert not is_torch_estimator(other)


def test_importing_the_subpackage_does_not_load_torch():
    code = (
        "import sys, skfairal.neural\n"
        "from skfairal.neural import is_torch_estimator\n"
        "print(sorted(m for m in ('torch', 'skorch') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# -- inside FairActiveClassifier ------------------------------------------------


@pytest.mark.parametrize("kind", ["class", "instance", "skorch"])
def test_active_learning_with_a_torch_base(data, kind):
    X, y, groups = data
    estimator = {
        "class": StrictModule,
        "instance": StrictModule(),
        "skorch": small_net(),
    }[kind]
    y_partial = labels(y)
    y_partial[20:] = np.nan  # 20 labeled rows, "no"/"yes" strings
    learner = FairActiveClassifier(estimator, "entropy", random_state=0)
    learner.fit(X, y_partial, sensitive_features=groups)
    assert isinstance(learner.estimator_, TorchClassifier)
    assert learner.estimator_.net_.classes == [0, 1]
    assert learner.classes_.tolist() == ["no", "yes"]

    pool = np.arange(20, 160)
    picks = learner.query(X[pool], n_instances=5, sensitive_features=groups[pool])
    chosen = pool[picks]
    learner.teach(X[chosen], labels(y)[chosen], sensitive_features=groups[chosen])
    assert len(learner.y_labeled_) == 25

    assert set(learner.predict(X)) <= {"no", "yes"}
    proba = learner.predict_proba(X)
    assert proba.shape == (160, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # The user's estimator is left as given.
    if kind == "skorch":
        assert not hasattr(estimator, "module_")


def test_sensitive_features_never_reach_forward(data):
    # StrictModule.forward(self, X) would raise a TypeError on any keyword;
    # the group-aware strategy also refits clones of the wrapped estimator.
    X, y, groups = data
    learner = FairActiveClassifier(
        StrictModule,
        "group_aware_random",
        budget=10,
        batch_size=5,
        initial_size=20,
        random_state=0,
    )
    learner.fit(X, labels(y), sensitive_features=groups)
    assert [h["n_labeled"] for h in learner.history_] == [20, 25, 30]
    learner.teach(X[:3], labels(y)[:3], sensitive_features=groups[:3])
    assert len(learner.y_labeled_) == 33


def test_grid_search_tunes_a_net_parameter_in_a_pipeline(data):
    X, y, groups = data
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "learner",
                FairActiveClassifier(
                    small_net(max_epochs=3),
                    budget=10,
                    batch_size=5,
                    random_state=0,
                ),
            ),
        ]
    )
    search = GridSearchCV(pipe, {"learner__estimator__lr": [0.001, 0.05]}, cv=2)
    search.fit(X, labels(y), learner__sensitive_features=groups)
    assert search.best_params_["learner__estimator__lr"] in (0.001, 0.05)
    learner = search.best_estimator_.named_steps["learner"]
    assert learner.estimator_.net_.lr == search.best_params_["learner__estimator__lr"]
    assert set(search.predict(X)) <= {"no", "yes"}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_fitted_learner_round_trips(data, tmp_path, how):
    X, y, groups = data
    learner = FairActiveClassifier(
        small_net(), "margin", budget=10, batch_size=5, random_state=0
    )
    learner.fit(X, labels(y), sensitive_features=groups)
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(learner))
    else:
        joblib.dump(learner, tmp_path / "learner.joblib")
        loaded = joblib.load(tmp_path / "learner.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), learner.predict_proba(X))
    np.testing.assert_array_equal(
        loaded.query(X, 5, sensitive_features=groups),
        learner.query(X, 5, sensitive_features=groups),
    )
    np.testing.assert_array_equal(loaded.predict(X), learner.predict(X))
