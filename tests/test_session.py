"""Tests for LabelingSession: batches out, labels in, progress."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal import FairActiveClassifier
from skfairal.active import LabelingSession, read_label_studio_export, read_labels_csv
from skfairal.datasets import load_adult, make_biased_classification

matplotlib.use("Agg")


def _pool(n=400, seed=0):
    X, y, g = make_biased_classification(n, random_state=seed)
    pool = pd.DataFrame(X).add_prefix("x").assign(group=np.where(g == 1, "b", "a"))
    pool.index = pd.Index([f"r{i:04d}" for i in range(n)], name="row_id")
    return pool, pd.Series(y, index=pool.index)


def _session(strategy="entropy", n=400, **kwargs):
    pool, truth = _pool(n)
    session = LabelingSession(
        FairActiveClassifier(LogisticRegression(), strategy, random_state=0),
        pool,
        classes=[0, 1],
        sensitive_features="group",
        features=[c for c in pool.columns if c.startswith("x")],
        random_state=0,
        **kwargs,
    )
    return session, truth


def _state(session):
    learner = session.learner_
    return (
        session.n_labeled,
        list(session.out_ids),
        len(session.history_),
        learner,
        None if learner is None else len(learner.y_labeled_),
        None if learner is None else len(learner.history_),
    )


def adult_frame(n=3000):
    """Adult rows as a user has them: text categoricals, an id column."""
    bunch = load_adult(as_frame=True)
    frame = bunch.data.iloc[:n].astype({c: str for c in bunch.categorical_features})
    frame.insert(0, "person", [f"A{i:05d}" for i in range(n)])
    labels = np.where(bunch.target.iloc[:n].to_numpy() == 1, ">50K", "<=50K")
    return frame.reset_index(drop=True), pd.Series(labels, index=frame["person"])


def adult_learner(strategy="entropy"):
    encode = make_column_transformer(
        (
            OneHotEncoder(handle_unknown="ignore"),
            make_column_selector(dtype_exclude="number"),
        ),
        (StandardScaler(), make_column_selector(dtype_include="number")),
    )
    return FairActiveClassifier(
        make_pipeline(encode, LogisticRegression(max_iter=500)),
        strategy,
        random_state=0,
    )


# -- batches out ----------------------------------------------------------------


def test_next_batch_keeps_ids_and_columns_and_marks_rows_out():
    session, _ = _session()
    batch = session.next_batch(15)
    assert list(batch.columns) == list(session.pool.columns)
    assert batch.index.name == "row_id"
    assert batch.index.isin(session.pool.index).all()
    assert set(session.out_ids) == set(batch.index)
    second = session.next_batch(15)
    assert not set(second.index) & set(batch.index)
    assert len(session.out_ids) == 30


def test_next_batch_may_hand_out_rows_again_when_asked():
    session, _ = _session(n=40)
    first = session.next_batch(30)
    with pytest.raises(ValueError, match=r"n=20 rows asked for, but only 10 .*30 out"):
        session.next_batch(20)
    again = session.next_batch(40, include_out=True)
    assert set(first.index) <= set(again.index)


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_next_batch_refuses_a_bad_n(n):
    session, _ = _session()
    with pytest.raises(ValueError, match="n must be a positive integer"):
        session.next_batch(n)
    assert len(session.out_ids) == 0


def test_first_batches_are_random_until_two_classes_are_labeled():
    session, truth = _session()
    batch = session.next_batch(10)
    zeros = batch.index[truth[batch.index] == 0]
    session.add_labels(truth[zeros])
    session.release()
    assert session.learner_ is None
    assert session.history_[-1]["fitted"] is False
    batch = session.next_batch(10)
    session.add_labels(truth[batch.index])
    assert session.learner_ is not None
    assert set(session.learner_.classes_) == {0, 1}
    assert len(session.learner_.y_labeled_) == session.n_labeled


def test_queries_follow_the_strategy_once_fitted():
    session, truth = _session("entropy")
    batch = session.next_batch(30)
    session.add_labels(truth[batch.index])
    picked = session.next_batch(10)
    available = session.pool.index.difference(session.labeled_ids)
    proba = session.learner_.predict_proba(
        session.pool.loc[available, session.features]
    )
    entropy = pd.Series(-(proba * np.log(proba)).sum(axis=1), index=available)
    # The 10 rows of highest entropy among the rows not labeled.
    assert set(picked.index) == set(entropy.nlargest(10).index)


def test_the_session_keeps_its_own_copy_of_the_pool():
    pool, _ = _pool(100)
    session = LabelingSession(
        FairActiveClassifier(random_state=0), pool, classes=[0, 1],
        features=["x0", "x1"], random_state=0,
    )  # fmt: skip
    pool.iloc[:, 0] = 0.0
    assert session.pool["x0"].std() > 0


def test_release_puts_rows_back():
    session, _ = _session(n=30)
    batch = session.next_batch(20)
    session.release(batch.index[:5])
    assert len(session.out_ids) == 15
    with pytest.raises(ValueError, match="are not out for labeling"):
        session.release(batch.index[:1])
    session.release()
    assert len(session.out_ids) == 0
    assert len(session.next_batch(30)) == 30


# -- labels in ------------------------------------------------------------------


def _bad_labels(session, truth):
    batch = session.next_batch(10)
    good = truth[batch.index]
    never = session.pool.index.difference(batch.index).difference(session.labeled_ids)[
        0
    ]
    return batch, good, never


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("unknown", r"ids 'nope' are not in the pool"),
        ("duplicate", r"ids '.*' appear more than once"),
        ("never", r"were never handed out \(pass allow_unrequested=True"),
        ("missing", r"no label for ids"),
        ("outside", r"labels outside classes \[0, 1\] for ids \{'.*': 7\}"),
        ("empty", "labels is empty"),
    ],
)
def test_add_labels_refuses_bad_labels_and_changes_nothing(case, match):
    session, truth = _session()
    session.add_labels(truth[session.next_batch(20).index])
    batch, good, never = _bad_labels(session, truth)
    labels = {
        "unknown": {**good.to_dict(), "nope": 1},
        "duplicate": pd.Series([1, 0], index=[batch.index[0], batch.index[0]]),
        "never": {**good.to_dict(), never: 1},
        "missing": {**good.to_dict(), batch.index[0]: np.nan},
        "outside": {**good.to_dict(), batch.index[0]: 7},
        "empty": {},
    }[case]
    before = _state(session)
    with pytest.raises(ValueError, match=match):
        session.add_labels(labels)
    assert _state(session) == before


def test_add_labels_refuses_rows_labeled_already():
    session, truth = _session()
    batch = session.next_batch(20)
    session.add_labels(truth[batch.index])
    before = _state(session)
    with pytest.raises(ValueError, match=r"are labeled already\. Nothing was added"):
        session.add_labels(truth[batch.index[:3]])
    assert _state(session) == before


def test_add_labels_takes_unrequested_rows_when_allowed():
    session, truth = _session()
    rows = session.pool.index[:12]
    session.add_labels(truth[rows], allow_unrequested=True)
    assert list(session.labeled_ids) == list(rows)


def test_labels_are_matched_to_classes_and_ids_by_text():
    pool, truth = _pool(100)
    pool.index = pd.RangeIndex(100, name="id")
    truth.index = pool.index
    session = LabelingSession(
        FairActiveClassifier(random_state=0),
        pool.drop(columns="group"),
        classes=[0, 1],
        random_state=0,
    )
    batch = session.next_batch(20)
    # As read from a CSV file: ids and labels are text, "1.0" from a spreadsheet.
    text = pd.DataFrame(
        {
            "id": [str(i) for i in batch.index],
            "label": [
                f"{v}.0" if k % 2 else str(v) for k, v in enumerate(truth[batch.index])
            ],
        }
    )
    session.add_labels(text)
    assert session.labels.tolist() == truth[batch.index].tolist()
    assert all(isinstance(v, int) for v in session.labels)


def test_a_failing_teach_leaves_the_session_unchanged(monkeypatch):
    session, truth = _session()
    session.add_labels(truth[session.next_batch(20).index])
    batch = session.next_batch(10)
    before = _state(session)

    def broken(*args, **kwargs):
        raise RuntimeError("the strategy broke")

    monkeypatch.setattr(session.learner_, "teach", broken)
    with pytest.raises(RuntimeError, match="the strategy broke"):
        session.add_labels(truth[batch.index])
    assert _state(session) == before


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pool": np.zeros((3, 2))}, TypeError, "pool must be a pandas DataFrame"),
        (
            {"learner": LogisticRegression()},
            TypeError,
            "learner must be a FairActiveClassifier",
        ),
        ({"classes": [1]}, ValueError, "at least two labels"),
        ({"classes": [1, 1]}, ValueError, "classes has duplicates"),
        ({"classes": [1, "1"]}, ValueError, "read the same as text"),
        ({"classes": "ab"}, TypeError, "classes must be a list"),
        ({"sensitive_features": "sex"}, ValueError, r"names columns \['sex'\]"),
        ({"id_column": "who"}, ValueError, "id_column 'who' is not a column"),
        ({"pos_label": 3}, ValueError, "pos_label 3 is not one of classes"),
    ],
)
def test_constructor_refuses_bad_arguments(kwargs, error, match):
    pool, _ = _pool(50)
    args = {
        "learner": FairActiveClassifier(),
        "pool": pool,
        "classes": [0, 1],
        "sensitive_features": "group",
    } | kwargs
    learner, pool = args.pop("learner"), args.pop("pool")
    with pytest.raises(error, match=match):
        LabelingSession(learner, pool, **args)


def test_constructor_refuses_bad_ids_groups_and_a_label_column():
    pool, _ = _pool(50)
    twice = pool.set_axis(["same"] * 2 + list(pool.index[2:]))
    with pytest.raises(ValueError, match=r"ids are not unique: 'same'"):
        LabelingSession(FairActiveClassifier(), twice, classes=[0, 1])
    holes = pool.assign(group=pool["group"].where(pool.index != pool.index[3]))
    with pytest.raises(ValueError, match=r"\['group'\] have missing values"):
        LabelingSession(
            FairActiveClassifier(), holes, classes=[0, 1], sensitive_features="group"
        )
    with pytest.raises(ValueError, match="pool has a column 'label'"):
        LabelingSession(FairActiveClassifier(), pool.assign(label=1), classes=[0, 1])
    one = pool.assign(group="a")
    with pytest.raises(ValueError, match=r"\['group'\] hold one group only"):
        LabelingSession(
            FairActiveClassifier(), one, classes=[0, 1], sensitive_features="group"
        )
    with pytest.raises(ValueError, match="pool is empty"):
        LabelingSession(FairActiveClassifier(), pool.iloc[:0], classes=[0, 1])


# -- files: CSV and Label Studio ------------------------------------------------------


def test_csv_round_trip_with_an_id_column_and_rows_left_blank(tmp_path):
    frame, truth = adult_frame(600)
    session = LabelingSession(
        adult_learner(), frame, classes=["<=50K", ">50K"], sensitive_features="sex",
        id_column="person", random_state=0,
    )  # fmt: skip
    batch = session.next_batch(20)
    path = tmp_path / "batch.csv"
    session.to_csv(batch, path)
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(written.columns) == [*frame.columns, "label"]
    assert (written["label"] == "").all()
    # The annotator fills in all rows but the last two.
    written.loc[: len(written) - 3, "label"] = truth[written["person"]].to_numpy()[:-2]
    written.to_csv(path, index=False)
    labels = session.read_labels_csv(path)
    assert len(labels) == 18
    session.add_labels(labels)
    assert session.n_labeled == 18
    assert set(session.out_ids) == set(written["person"].iloc[-2:])
    assert session.labels.tolist() == truth[labels["person"]].tolist()


def test_read_labels_csv_errors(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("who,label\na,1\n")
    with pytest.raises(ValueError, match=r"has no column\(s\) \['id'\]"):
        read_labels_csv(path)
    path.write_text("id,label\na,1\n,0\n")
    with pytest.raises(ValueError, match=r"lines \[3\] have no id"):
        read_labels_csv(path)
    path.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_labels_csv(path)


def test_label_studio_round_trip(tmp_path):
    session, truth = _session()
    batch = session.next_batch(8)
    path = tmp_path / "tasks.json"
    session.to_label_studio(batch, path)
    tasks = pd.read_json(path).to_dict("records")
    assert [t["data"]["skfairal_id"] for t in tasks] == list(batch.index)
    # What Label Studio exports once the tasks are annotated ("JSON" format).
    export = [
        {
            "id": 100 + k,
            "data": task["data"],
            "annotations": [
                {
                    "id": 500 + k,
                    "was_cancelled": False,
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "row",
                            "type": "choices",
                            "value": {
                                "choices": [str(truth[task["data"]["skfairal_id"]])]
                            },
                        }
                    ],
                }
            ],
        }
        for k, task in enumerate(tasks)
    ]
    labels = session.read_label_studio_export(export)
    session.add_labels(labels)
    assert session.labels.tolist() == truth[batch.index].tolist()
    assert '<Choice value="0"' in session.label_studio_config()
    assert len(read_label_studio_export(export)) == 8


# -- progress ---------------------------------------------------------------------


def test_progress_records_each_round_with_validation_scores():
    pool, truth = _pool(600)
    validation = pool.iloc[400:].assign(label=truth.iloc[400:])
    session = LabelingSession(
        FairActiveClassifier(random_state=0), pool.iloc[:400], classes=[0, 1],
        sensitive_features="group", features=["x0", "x1", "x2", "x3", "x4"],
        validation=validation, random_state=0,
    )  # fmt: skip
    for _ in range(3):
        batch = session.next_batch(20)
        session.add_labels(truth[batch.index])
    table = session.progress()
    assert table["round"].tolist() == [1, 2, 3]
    assert table["labels"].tolist() == [20, 40, 60]
    assert table["new"].tolist() == [20, 20, 20]
    groups = pool["group"].iloc[:400]
    rarest = groups.value_counts().idxmin()
    share = (groups[batch.index] == rarest).mean()
    assert table["minority_share"].iloc[-1] == pytest.approx(share)
    predictions = session.learner_.predict(validation[session.features])
    assert table["accuracy"].iloc[-1] == pytest.approx(
        np.mean(predictions == truth.iloc[400:])
    )
    for column in (
        "demographic_parity",
        "equalized_odds",
        "accuracy[a]",
        "accuracy[b]",
    ):
        assert table[column].between(0, 1).all()
    figure = session.plot_progress()
    assert len(figure.axes) == 2
    assert figure.axes[0].get_ylabel() == "validation accuracy"


def test_plot_progress_needs_a_round():
    session, _ = _session()
    with pytest.raises(ValueError, match="add labels before plotting"):
        session.plot_progress()


def test_csv_round_trip_with_ids_in_a_named_index(tmp_path):
    session, truth = _session()
    batch = session.next_batch(10)
    path = tmp_path / "batch.csv"
    session.to_csv(batch, path)
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert written.columns[0] == "row_id"
    written["label"] = truth[written["row_id"]].astype(str).to_numpy()
    written.to_csv(path, index=False)
    session.add_labels(session.read_labels_csv(path))
    assert list(session.labeled_ids) == list(batch.index)


def test_labels_whose_index_is_a_row_number_are_refused():
    session, truth = _session()
    batch = session.next_batch(10)
    # The ids were dropped: the index 0..9 is no id, and must not label rows.
    labels = pd.DataFrame({"label": truth[batch.index].to_numpy()})
    with pytest.raises(ValueError, match=r"no id column 'row_id' \(nor 'id'\)"):
        session.add_labels(labels, allow_unrequested=True)
    assert session.n_labeled == 0


def test_a_class_seen_late_refits_the_learner():
    rng = np.random.RandomState(0)
    pool = pd.DataFrame(rng.normal(size=(300, 3))).add_prefix("x")
    truth = pd.Series(np.array(["a", "b", "c"])[np.argmax(pool.to_numpy(), axis=1)])
    session = LabelingSession(
        FairActiveClassifier(random_state=0),
        pool,
        classes=["a", "b", "c"],
        random_state=0,
    )
    rows = truth.index[truth != "c"][:20]
    session.add_labels(truth[rows], allow_unrequested=True)
    assert session.learner_.classes_.tolist() == ["a", "b"]
    rows = truth.index[truth == "c"][:5]
    session.add_labels(truth[rows], allow_unrequested=True)
    assert session.learner_.classes_.tolist() == ["a", "b", "c"]
    assert len(session.learner_.y_labeled_) == 25
    assert len(session.next_batch(5)) == 5


def test_release_checks_every_id_before_releasing_any():
    session, _ = _session()
    batch = session.next_batch(10)
    labeled_never = session.pool.index.difference(batch.index)[0]
    with pytest.raises(ValueError, match="are not out for labeling"):
        session.release(iter([batch.index[0], labeled_never]))
    assert len(session.out_ids) == 10
    session.release([batch.index[0], batch.index[0]])
    assert len(session.out_ids) == 9
