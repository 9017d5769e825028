"""Chunked, parallel scoring: skfairal.utils.chunk_slices, map_row_chunks and
FairActiveClassifier(n_jobs=...), serial, on threads, on loky processes and on
a real dask cluster.

Expected values come from the base estimator called on the whole X, from
counting rows by hand, or from the serial run; a parallel result must equal
the serial one exactly, not only closely.
"""

import re

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.query import FACAGENSampling, FALSampling
from skfairal.utils import chunk_slices, map_row_chunks

# make_biased_classification's 5 features and 2 classes: the learner estimates
# 8 * (5 + 2) bytes to score a row.
ROW_BYTES = 8 * (5 + 2)


def _rows_per_chunk(n):
    """A working_memory (MiB) that holds ``n`` rows of ROW_BYTES bytes."""
    return n * ROW_BYTES / 2**20


def _fitted(n_jobs=None, estimator=None, strategy="entropy", n=1200, n_labeled=60):
    X, y, g = make_biased_classification(n, random_state=0)
    learner = FairActiveClassifier(
        LogisticRegression() if estimator is None else estimator,
        strategy,
        n_jobs=n_jobs,
        random_state=0,
    )
    learner.fit(X[:n_labeled], y[:n_labeled], sensitive_features=g[:n_labeled])
    return learner, X[n_labeled:], g[n_labeled:]


# --------------------------------------------------------------------------
# 1. chunk_slices
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_rows", [1, 2, 7, 64, 65, 1000])
@pytest.mark.parametrize("per_chunk", [1, 3, 64, 10**6])
def test_chunks_cover_every_row_once_in_order(n_rows, per_chunk):
    with sklearn.config_context(working_memory=per_chunk * 8 / 2**20):
        slices = chunk_slices(n_rows, row_bytes=8)
    covered = np.concatenate([np.arange(n_rows)[s] for s in slices])
    np.testing.assert_array_equal(covered, np.arange(n_rows))
    assert all(s.step is None for s in slices)
    lengths = [s.stop - s.start for s in slices]
    # Equal chunks of min(per_chunk, n_rows) rows, the last one possibly shorter.
    assert set(lengths[:-1]) <= {min(per_chunk, n_rows)}
    assert 1 <= lengths[-1] <= min(per_chunk, n_rows)
    assert len(slices) == -(-n_rows // min(per_chunk, n_rows))


def test_no_rows_no_chunks():
    assert chunk_slices(0, row_bytes=8) == []


def test_chunk_length_follows_working_memory_and_its_cap():
    # 1 MiB at 1,024 bytes a row: 1,024 rows a chunk.
    with sklearn.config_context(working_memory=1):
        assert chunk_slices(3000, row_bytes=1024) == [
            slice(0, 1024),
            slice(1024, 2048),
            slice(2048, 3000),
        ]
    # The default 1 GiB would hold millions of 8-byte rows: capped at 2**16.
    slices = chunk_slices(200_000, row_bytes=8)
    assert [s.stop - s.start for s in slices] == [65536, 65536, 65536, 3392]


def test_a_row_larger_than_working_memory_is_a_chunk_of_its_own():
    with sklearn.config_context(working_memory=1):
        assert chunk_slices(3, row_bytes=2**30) == [
            slice(0, 1),
            slice(1, 2),
            slice(2, 3),
        ]


def test_chunks_do_not_depend_on_jobs_or_backend():
    with sklearn.config_context(working_memory=_rows_per_chunk(100)):
        serial = chunk_slices(1000, ROW_BYTES)
        for backend, n_jobs in [("threading", 2), ("loky", 2), ("loky", -1)]:
            with joblib.parallel_config(backend=backend, n_jobs=n_jobs):
                assert chunk_slices(1000, ROW_BYTES) == serial
    assert len(serial) == 10


@pytest.mark.parametrize(
    ("n_rows", "row_bytes", "message"),
    [
        (-1, 8, "n_rows must be an integer >= 0"),
        (2.0, 8, "n_rows must be an integer >= 0"),
        (True, 8, "n_rows must be an integer >= 0"),
        (10, 0, "row_bytes must be a finite number > 0"),
        (10, -8, "row_bytes must be a finite number > 0"),
        (10, np.inf, "row_bytes must be a finite number > 0"),
        (10, np.nan, "row_bytes must be a finite number > 0"),
        (10, "8", "row_bytes must be a finite number > 0"),
    ],
)
def test_chunk_slices_rejects_bad_input(n_rows, row_bytes, message):
    with pytest.raises(ValueError, match=message):
        chunk_slices(n_rows, row_bytes)


# --------------------------------------------------------------------------
# 2. map_row_chunks
# --------------------------------------------------------------------------


def _shapes(rows):
    return np.shape(rows)[0], type(rows).__name__


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a,
        sp.csr_matrix,
        pd.DataFrame,
        lambda a: pd.Series(a[:, 0]),
        lambda a: a[:, 0].tolist(),
    ],
    ids=["ndarray", "csr", "DataFrame", "Series", "list"],
)
def test_map_row_chunks_hands_func_rows_of_the_same_kind(make):
    X = make(np.arange(20.0).reshape(10, 2))
    with sklearn.config_context(working_memory=32 / 2**20):  # 4 rows a chunk
        parts = map_row_chunks(_shapes, X, row_bytes=8, n_jobs=1)
    kind = type(X).__name__
    assert parts == [(4, kind), (4, kind), (2, kind)]


def test_x_of_one_chunk_or_of_no_rows_goes_to_func_whole():
    X = np.arange(10.0).reshape(5, 2)
    (same,) = map_row_chunks(lambda rows: rows, X, row_bytes=8, n_jobs=2)
    assert same is X
    empty = np.empty((0, 2))
    (result,) = map_row_chunks(lambda rows: rows, empty, row_bytes=8, n_jobs=2)
    assert result is empty
    # Something without rows goes whole to func, whose error says what is wrong.
    (result,) = map_row_chunks(repr, 3.0, row_bytes=8)
    assert result == "3.0"


# --------------------------------------------------------------------------
# 3. FairActiveClassifier scores chunk by chunk
# --------------------------------------------------------------------------


class _RecordingLR(LogisticRegression):
    """Logistic regression that records how many rows each predict_proba got."""

    def predict_proba(self, X):
        self.calls_ = [*getattr(self, "calls_", []), X.shape[0]]
        return super().predict_proba(X)


def test_each_chunk_is_one_call_of_the_base_estimator():
    learner, X_pool, _ = _fitted(n_jobs=1, estimator=_RecordingLR())
    with sklearn.config_context(working_memory=_rows_per_chunk(500)):
        learner.predict_proba(X_pool)
    assert learner.estimator_.calls_ == [500, 500, 140]
    learner.estimator_.calls_ = []
    learner.predict_proba(X_pool)  # 1,140 rows: one chunk at the default setting
    assert learner.estimator_.calls_ == [1140]


METHODS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]


def _on_whole_x(learner, method, X):
    """What the learner's ``method`` should return: the base estimator's on X."""
    expected = getattr(learner.estimator_, method)(X)
    return learner.classes_[expected] if method == "predict" else expected


@pytest.mark.parametrize("method", METHODS)
def test_chunked_scores_are_the_base_estimators_on_the_whole_x(method):
    learner, X_pool, _ = _fitted()
    expected = _on_whole_x(learner, method, X_pool)
    results = {}
    with sklearn.config_context(working_memory=_rows_per_chunk(100)):  # 12 chunks
        for n_jobs in [None, 1, 2, -1]:
            results[n_jobs] = getattr(learner.set_params(n_jobs=n_jobs), method)(X_pool)
    for result in results.values():
        assert result.shape == expected.shape
        assert result.dtype == expected.dtype
        np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-14)
        # The chunks are the same whatever the jobs: so are the numbers.
        np.testing.assert_array_equal(result, results[1])


def test_loky_processes_give_the_serial_numbers():
    # One test for the four methods: starting loky's worker processes is
    # the cost here, paid once.
    learner, X_pool, _ = _fitted()
    with sklearn.config_context(working_memory=_rows_per_chunk(100)):
        for method in METHODS:
            serial = getattr(learner.set_params(n_jobs=1), method)(X_pool)
            with joblib.parallel_config(backend="loky"):
                on_loky = getattr(learner.set_params(n_jobs=2), method)(X_pool)
            np.testing.assert_array_equal(on_loky, serial)
            np.testing.assert_allclose(
                on_loky, _on_whole_x(learner, method, X_pool), rtol=1e-12, atol=1e-14
            )


def test_decision_function_of_a_base_without_proba_is_chunked_too():
    learner, X_pool, _ = _fitted(n_jobs=2, estimator=LinearSVC())
    with sklearn.config_context(working_memory=_rows_per_chunk(300)):
        scores = learner.decision_function(X_pool)
        labels = learner.predict(X_pool)
    np.testing.assert_allclose(scores, learner.estimator_.decision_function(X_pool))
    np.testing.assert_array_equal(labels, learner.estimator_.predict(X_pool))


def test_chunked_scoring_keeps_the_input_checks():
    learner, X_pool, _ = _fitted(n_jobs=2)
    with sklearn.config_context(working_memory=_rows_per_chunk(100)):
        with pytest.raises(ValueError, match="X has 4 features"):
            learner.predict_proba(X_pool[:, :4])
        with pytest.raises(ValueError, match="0 sample"):
            learner.predict(X_pool[:0])


def test_n_jobs_is_a_parameter():
    learner = FairActiveClassifier(LogisticRegression(), n_jobs=3)
    assert learner.get_params()["n_jobs"] == 3
    assert clone(learner).n_jobs == 3
    X, y, _ = make_biased_classification(100, random_state=0)
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        FairActiveClassifier(n_jobs=1.5).fit(X, y)


# --------------------------------------------------------------------------
# 4. On a dask cluster
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    """A client of a real two-worker LocalCluster, closed after the module."""
    # Imported here: the test extra installs distributed; only these tests need
    # it, and a missing one fails them instead of being skipped.
    from distributed import Client, LocalCluster

    # Worker processes, as on a cluster: the chunks and the estimator really
    # travel pickled to other interpreters. They start in about 2 s here.
    # Every port is a free one the system picks: the scheduler's HTTP server
    # (health and metrics routes, there even without a dashboard) would
    # otherwise try 8787 and, while another xdist worker's cluster holds it,
    # warn "Port 8787 is already in use", an error under this suite's settings.
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        scheduler_port=0,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def _worker_address(rows):
    from distributed import get_worker  # raises ValueError outside a dask worker

    return get_worker().address, len(rows)


_BATCH = r"batch_of_(?P<func>predict_proba|transform)_(?P<calls>\d+)_calls-"

STRATEGIES = {
    "entropy": "entropy",
    "margin": "margin",
    "uncertainty": "uncertainty",
    "fal_fast": FALSampling(method="fast", n_candidates=32),
    "falcon": "falcon",
    "facagen": FACAGENSampling(random_state=0),
}


def test_on_a_dask_cluster_queries_pick_the_serial_rows(dask_client):
    # One test, not one per strategy: pytest-xdist would spread those over
    # its workers, and each would start a cluster of its own.
    from distributed import get_task_stream

    workers = set(dask_client.scheduler_info()["workers"])
    assert len(workers) == 2
    with (
        sklearn.config_context(working_memory=_rows_per_chunk(100)),
        joblib.parallel_config(backend="dask"),
    ):
        parts = map_row_chunks(
            _worker_address, np.zeros((1000, 5)), row_bytes=ROW_BYTES
        )
    # Each chunk ran on a worker of the cluster (not in this process).
    assert [n for _, n in parts] == [100] * 10
    assert {address for address, _ in parts} <= workers

    for name, strategy in STRATEGIES.items():
        serial, X_pool, g_pool = _fitted(strategy=clone(strategy, safe=False))
        on_dask, _, _ = _fitted(strategy=clone(strategy, safe=False))
        # 1,140 pool rows in 12 chunks.
        with sklearn.config_context(working_memory=_rows_per_chunk(100)):
            expected = serial.query(X_pool, 10, sensitive_features=g_pool)
            with (
                joblib.parallel_config(backend="dask"),
                get_task_stream(dask_client) as stream,
            ):
                picks = on_dask.query(X_pool, 10, sensitive_features=g_pool)
        np.testing.assert_array_equal(picks, expected, err_msg=name)
        # The scoring did run on the cluster: its workers executed this query's
        # predict_proba calls, one per chunk of the pool, which joblib sent in
        # batches named "batch_of_predict_proba_<calls>_calls-<id>" (and the
        # feature transforms of strategies that read features).
        keys = [task["key"] for task in stream.data]
        assert {task["worker"] for task in stream.data} <= workers, name
        batches = [re.match(_BATCH, key) for key in keys]
        assert keys, name
        assert all(batches), (name, keys)
        # Every strategy scores the pool once; those that read features (FAL
        # fast, D-FA2L) also transform it in the learner's chunks, there too.
        proba_calls = [int(b["calls"]) for b in batches if b["func"] == "predict_proba"]
        assert sum(proba_calls) == 12, (name, keys)
