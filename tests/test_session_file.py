"""Tests for saving and loading a LabelingSession: exact resume, safety, atomicity."""

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler, normalize
from test_session import _session, adult_frame, adult_learner

from skfairal import FairActiveClassifier
from skfairal.active import LabelingSession, SessionFileError
from skfairal.policies import PANDAPolicy
from skfairal.query import FACAGENSampling, FalconSampling, PANDASampling

# Every strategy that keeps the state of a run, and a stateless one.
STRATEGIES = {
    "entropy": "entropy",
    "falcon": FalconSampling(),
    "facagen": FACAGENSampling(),
    "panda": PANDASampling(PANDAPolicy(n_meta_iter=2, pretrain_epochs=1, d_model=16)),
}


def _adult_session(strategy, n=1500):
    frame, truth = adult_frame(n)
    pool, rest = frame.iloc[: n - 500], frame.iloc[n - 500 :]
    validation = rest.drop(columns="person").assign(
        label=truth.iloc[n - 500 :].to_numpy()
    )
    session = LabelingSession(
        adult_learner(strategy), pool, classes=["<=50K", ">50K"],
        sensitive_features="sex", id_column="person", validation=validation,
        random_state=0,
    )  # fmt: skip
    return session, truth


def _rounds(session, truth, n_rounds, size=20):
    for _ in range(n_rounds):
        batch = session.next_batch(size)
        session.add_labels(truth[batch[session.id_name]])


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_resumed_session_picks_what_the_uninterrupted_one_picks(name, tmp_path):
    session, truth = _adult_session(STRATEGIES[name])
    _rounds(session, truth, 3)
    # A batch out for labeling when the session is saved.
    session.next_batch(10)
    path = tmp_path / "s.skfal"
    session.save(path)
    resumed = LabelingSession.load(path)
    assert repr(resumed) == repr(session)
    pd.testing.assert_frame_equal(resumed.pool, session.pool)
    assert list(resumed.out_ids) == list(session.out_ids)
    for _ in range(2):
        ours, theirs = session.next_batch(15), resumed.next_batch(15)
        assert ours["person"].tolist() == theirs["person"].tolist()
        session.add_labels(truth[ours["person"]])
        resumed.add_labels(truth[theirs["person"]])
    pd.testing.assert_frame_equal(
        resumed.progress().drop(columns="time"), session.progress().drop(columns="time")
    )
    np.testing.assert_array_equal(
        resumed.learner_.estimator_[-1].coef_, session.learner_.estimator_[-1].coef_
    )


def test_falcon_postponed_rows_and_bandits_survive(tmp_path):
    session, truth = _adult_session(FalconSampling())
    _rounds(session, truth, 4)
    learner = session.learner_
    session.save(tmp_path / "s.skfal")
    resumed = LabelingSession.load(tmp_path / "s.skfal").learner_
    pd.testing.assert_frame_equal(resumed.X_postponed_, learner.X_postponed_)
    pd.testing.assert_frame_equal(resumed.X_labeled_, learner.X_labeled_)
    strategy, again = learner.query_strategy_, resumed.query_strategy_
    assert set(again.bandits_) == set(strategy.bandits_)
    assert again.targets_ == strategy.targets_


def test_an_unfitted_session_resumes_its_random_batches(tmp_path):
    session, _ = _session()
    session.next_batch(5)
    session.save(tmp_path / "s.skfal")
    resumed = LabelingSession.load(tmp_path / "s.skfal")
    assert resumed.learner_ is None
    assert list(resumed.next_batch(7).index) == list(session.next_batch(7).index)


# -- what cannot be saved, and what will not load -------------------------------------


def _torch_learners():
    torch = pytest.importorskip("torch")
    from skorch import NeuralNetClassifier

    from skfairal.neural import MLPModule, TorchClassifier

    net = NeuralNetClassifier(
        MLPModule, max_epochs=5, lr=0.05, optimizer=torch.optim.SGD,
        train_split=None, verbose=0,
    )  # fmt: skip
    return {
        "module class": MLPModule,
        "skorch net in a pipeline": make_pipeline(
            StandardScaler(), TorchClassifier(net, random_state=0)
        ),
    }


@pytest.mark.parametrize("name", ["module class", "skorch net in a pipeline"])
def test_a_torch_learner_resumes_from_its_weights(name, tmp_path):
    session, truth = _session("falcon")
    session.learner = FairActiveClassifier(
        _torch_learners()[name], "falcon", random_state=0
    )
    _rounds_by_index(session, truth, 3)
    session.save(tmp_path / "s.skfal")
    resumed = LabelingSession.load(tmp_path / "s.skfal")
    X = session.pool[session.features]
    np.testing.assert_array_equal(
        resumed.learner_.predict_proba(X), session.learner_.predict_proba(X)
    )
    for _ in range(2):
        ours, theirs = session.next_batch(10), resumed.next_batch(10)
        assert list(ours.index) == list(theirs.index)
        session.add_labels(truth[ours.index])
        resumed.add_labels(truth[theirs.index])


def test_facagen_with_an_adversarial_encoder_resumes(tmp_path):
    pytest.importorskip("torch")
    from skfairal.representation import AdversarialEncoder

    session, truth = _session()
    encoder = AdversarialEncoder(n_components=2, max_epochs=3, random_state=0)
    strategy = FACAGENSampling(
        arms=("causal_consistency", "informativeness"), representation=encoder
    )
    session.learner = FairActiveClassifier(query_strategy=strategy, random_state=0)
    _rounds_by_index(session, truth, 4)
    session.save(tmp_path / "s.skfal")
    resumed = LabelingSession.load(tmp_path / "s.skfal")
    X = session.pool[session.features].to_numpy()
    ours = session.learner_.query_strategy_.representation_
    theirs = resumed.learner_.query_strategy_.representation_
    np.testing.assert_allclose(theirs.transform(X), ours.transform(X))
    for _ in range(2):
        ours, theirs = session.next_batch(10), resumed.next_batch(10)
        assert list(ours.index) == list(theirs.index)
        session.add_labels(truth[ours.index])
        resumed.add_labels(truth[theirs.index])


def test_tampered_weights_are_refused(tmp_path):
    import pickle

    session, truth = _session()
    session.learner = FairActiveClassifier(
        _torch_learners()["module class"], random_state=0
    )
    _rounds_by_index(session, truth, 1)
    path = tmp_path / "s.skfal"
    session.save(path)
    with zipfile.ZipFile(path) as archive:
        (weights,) = [n for n in archive.namelist() if n.endswith(".weights.pt")]
    _rewrite(path, weights, lambda _: pickle.dumps(os.system, protocol=2))
    with pytest.raises(SessionFileError, match="stored weights cannot be put back"):
        LabelingSession.load(path)


def test_a_torch_module_instance_is_refused_at_save(tmp_path):
    torch = pytest.importorskip("torch")
    session, _ = _session()
    session.learner = FairActiveClassifier(torch.nn.Linear(5, 2), random_state=0)
    path = tmp_path / "s.skfal"
    with pytest.raises(
        SessionFileError, match=r"learner\.estimator is a torch.*Pass the module class"
    ):
        session.save(path)
    assert list(tmp_path.iterdir()) == []


def _rounds_by_index(session, truth, n_rounds, size=20):
    for _ in range(n_rounds):
        batch = session.next_batch(size)
        session.add_labels(truth[batch.index])


def test_a_lambda_in_the_learner_is_refused_at_save(tmp_path):
    session, _ = _session()
    session.learner = FairActiveClassifier(on_round=lambda learner, record: None)
    with pytest.raises(
        SessionFileError, match=r"learner\.on_round is .*<lambda>, a lambda"
    ):
        session.save(tmp_path / "s.skfal")
    assert list(tmp_path.iterdir()) == []


def test_a_pool_column_of_python_objects_is_refused_at_save(tmp_path):
    session, _ = _session()
    session.pool = session.pool.assign(odd=[{"k": 1}] * len(session.pool))
    with pytest.raises(SessionFileError, match=r"column 'odd' holds values of types"):
        session.save(tmp_path / "s.skfal")


def _rewrite(path, member, edit):
    """Change one member, with the manifest's checksum made to match."""
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[member] = edit(members[member])
    manifest = json.loads(members["manifest.json"])
    manifest["sha256"][member] = hashlib.sha256(members[member]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _edit_skops_schema(data, edit):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["schema.json"] = edit(members["schema.json"].decode()).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def saved(tmp_path):
    session, truth = _session("falcon")
    batch = session.next_batch(30)
    session.add_labels(truth[batch.index])
    path = tmp_path / "s.skfal"
    session.save(path)
    return path


def test_a_file_naming_a_dangerous_type_is_refused(saved):
    def evil(schema):
        tree = json.loads(schema)

        def swap(node):
            if isinstance(node, dict):
                if node.get("__class__") == "LogisticRegression":
                    node["__class__"], node["__module__"] = "system", "os"
                for value in node.values():
                    swap(value)
            elif isinstance(node, list):
                for value in node:
                    swap(value)

        swap(tree)
        return json.dumps(tree)

    _rewrite(saved, "objects/learner_.skops", lambda d: _edit_skops_schema(d, evil))
    with pytest.raises(
        SessionFileError, match=r"names types that are not trusted: \['os\.system'\]"
    ):
        LabelingSession.load(saved)


def test_scikit_learn_functions_are_not_trusted_by_default(tmp_path):
    session, _truth = _session()
    session.learner = FairActiveClassifier(
        make_pipeline(FunctionTransformer(normalize), LogisticRegression()),
        random_state=0,
    )
    session.save(tmp_path / "s.skfal")
    name = "sklearn.preprocessing._data.normalize"
    with pytest.raises(SessionFileError, match=rf"not trusted: \['{name}'\]"):
        LabelingSession.load(tmp_path / "s.skfal")
    again = LabelingSession.load(tmp_path / "s.skfal", trusted=[name])
    assert again.learner.estimator[0].func is normalize


class OwnClassifier(ClassifierMixin, BaseEstimator):
    """A user's own estimator, outside the trusted modules."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def test_a_users_own_class_loads_once_trusted(tmp_path):
    session, truth = _session()
    session.learner = FairActiveClassifier(OwnClassifier(), random_state=0)
    batch = session.next_batch(30)
    session.add_labels(truth[batch.index])
    session.save(tmp_path / "s.skfal")
    name = f"{OwnClassifier.__module__}.OwnClassifier"
    with pytest.raises(SessionFileError, match=rf"\['{name}'\]"):
        LabelingSession.load(tmp_path / "s.skfal")
    again = LabelingSession.load(tmp_path / "s.skfal", trusted=[OwnClassifier])
    assert list(again.next_batch(5).index) == list(session.next_batch(5).index)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda b: b[: len(b) // 2], "not a zip archive, or cut short"),
        (lambda b: b[:100] + bytes(200) + b[300:], "cannot be read|do not match"),
        (lambda b: b"", "not a zip archive"),
    ],
)
def test_a_damaged_file_is_refused(saved, damage, match):
    saved.write_bytes(damage(saved.read_bytes()))
    with pytest.raises(SessionFileError, match=match):
        LabelingSession.load(saved)


def test_a_pickle_is_not_a_session_file(tmp_path):
    import pickle

    path = tmp_path / "s.skfal"
    path.write_bytes(pickle.dumps({"state": 1}))
    with pytest.raises(SessionFileError, match="not a zip archive"):
        LabelingSession.load(path)


def test_a_changed_member_fails_its_checksum(saved):
    with zipfile.ZipFile(saved) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["frames/pool.npz"] = members["frames/pool.npz"][:-10] + b"0" * 10
    with zipfile.ZipFile(saved, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(SessionFileError, match=r"\['frames/pool\.npz'\] do not match"):
        LabelingSession.load(saved)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m | {"version": 99}, "format version 99"),
        (lambda m: m | {"format": "other"}, "does not say format"),
        (lambda m: {**m, "state": {**m["state"], "labeled": [10**6]}}, "inconsistent"),
        (
            lambda m: {
                **m,
                "state": {k: v for k, v in m["state"].items() if k != "out"},
            },
            "incomplete",
        ),
    ],
)
def test_a_tampered_manifest_is_refused(saved, edit, match):
    with zipfile.ZipFile(saved) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["manifest.json"] = json.dumps(
        edit(json.loads(members["manifest.json"]))
    ).encode()
    with zipfile.ZipFile(saved, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(SessionFileError, match=match):
        LabelingSession.load(saved)


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        LabelingSession.load(tmp_path / "none.skfal")


# -- atomic writes ----------------------------------------------------------------


def test_a_failure_while_writing_leaves_the_previous_file(saved, monkeypatch):
    before = saved.read_bytes()
    session = LabelingSession.load(saved)
    session.next_batch(5)

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        session.save(saved)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    assert len(LabelingSession.load(saved).out_ids) == 0


_SAVE_FOREVER = """
import sys
from skfairal.active import LabelingSession
session = LabelingSession.load(sys.argv[1])
print("ready", flush=True)
while True:
    session.next_batch(1)
    session.save(sys.argv[1])
"""


def test_a_process_killed_while_saving_leaves_a_readable_file(saved):
    """Kill a process that saves again and again: the file is always whole."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SAVE_FOREVER, str(saved)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        time.sleep(2.5)  # a save takes a few tenths of a second
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    session = LabelingSession.load(saved)
    # It got through some saves: rows are out, one per save.
    assert len(session.out_ids) >= 1
    # The next save removes what the killed one left.
    session.save(saved)
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
