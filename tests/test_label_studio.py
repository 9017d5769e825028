"""Tests for the Label Studio tasks, labeling config and export reader.

Expected labels are written by hand next to each export; the exports are
Label Studio's documented examples, adapted to a tabular project, or built
here the way Label Studio lays out its JSON export.
"""

import copy
import json
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from skfairal.active._label_studio import (
    label_studio_config,
    label_studio_tasks,
    read_label_studio_export,
    write_label_studio_tasks,
)

# The "Label Studio JSON format of annotated tasks" example of
# https://labelstud.io/guide/export.html#Label-Studio-JSON-format-of-annotated-tasks
# (also https://labelstud.io/guide/task_format), shortened to one prediction
# and with its image and rectangle made a table row and a choice; tasks 2 and 3
# add a skipped annotation and a task nobody labeled.
DOCUMENTED_JSON = [
    {
        "id": 1,
        "data": {"skfairal_id": 7, "row": {"age": 31, "income": 2.5}},
        "created_at": "2021-03-09T21:52:49.513742Z",
        "updated_at": "2021-03-09T22:16:08.746926Z",
        "project": 83,
        "annotations": [
            {
                "id": "1001",
                "result": [
                    {
                        "from_name": "label",
                        "id": "Dx_aB91ISN",
                        "source": "$row",
                        "to_name": "row",
                        "type": "choices",
                        "value": {"choices": ["deny"]},
                    }
                ],
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": "2021-03-09T22:16:08.728353Z",
                "updated_at": "2021-03-09T22:16:08.728378Z",
                "lead_time": 4.288,
                "result_count": 0,
                "task": 1,
                "completed_by": 10,
            }
        ],
        "predictions": [
            {
                "created_ago": "3 hours",
                "model_version": "model 1",
                "result": [
                    {
                        "from_name": "label",
                        "id": "t5sp3TyXPo",
                        "source": "$row",
                        "to_name": "row",
                        "type": "choices",
                        "value": {"choices": ["approve"]},
                    }
                ],
            }
        ],
    },
    {
        "id": 2,
        "data": {"skfairal_id": 9, "row": {"age": 47, "income": None}},
        "annotations": [
            {
                "id": "1002",
                "result": [],
                "was_cancelled": True,
                "created_at": "2021-03-09T22:17:01.000000Z",
                "updated_at": "2021-03-09T22:17:01.000000Z",
                "task": 2,
                "completed_by": 10,
            }
        ],
    },
    {"id": 3, "data": {"skfairal_id": 12, "row": {"age": 25}}, "annotations": []},
]

# The JSON_MIN example of https://labelstud.io/guide/export.html#JSON-MIN (the
# task's data at the top level, each control's value under its from_name)
# adapted to the table; the other keys, and one record per annotation, are how
# label-studio-converter's Converter.convert_to_json_min writes it (a single
# choice as its string). Task 4 has two agreeing annotations.
DOCUMENTED_JSON_MIN = [
    {
        "skfairal_id": 7,
        "row": {"age": 31, "income": 2.5},
        "id": 1,
        "label": "deny",
        "annotator": 10,
        "annotation_id": 1001,
        "created_at": "2021-03-09T22:16:08.728353Z",
        "updated_at": "2021-03-09T22:16:08.728378Z",
        "lead_time": 4.288,
    },
    {
        "skfairal_id": 12,
        "row": {"age": 25},
        "id": 3,
        "annotator": None,
        "annotation_id": None,
        "created_at": None,
        "updated_at": None,
        "lead_time": None,
    },
    {
        "skfairal_id": "b-2",
        "row": {"age": 52},
        "id": 4,
        "label": "approve",
        "annotator": 11,
        "annotation_id": 1004,
        "created_at": "2021-03-10T09:00:00.000000Z",
        "updated_at": "2021-03-10T09:00:00.000000Z",
        "lead_time": 2.0,
    },
    {
        "skfairal_id": "b-2",
        "row": {"age": 52},
        "id": 4,
        "label": "approve",
        "annotator": 10,
        "annotation_id": 1003,
        "created_at": "2021-03-10T08:00:00.000000Z",
        "updated_at": "2021-03-10T08:00:00.000000Z",
        "lead_time": 3.0,
    },
]


def _pairs(labels):
    return list(zip(labels["id"].tolist(), labels["label"].tolist()))


def _annotation(label, *, from_name="label", updated=None, created=None, **extra):
    result = {"from_name": from_name, "to_name": "row", "type": "choices"}
    choices = label if isinstance(label, list) else [label]
    annotation = {"result": [result | {"value": {"choices": choices}}]}
    annotation |= {"was_cancelled": False, "completed_by": 1} | extra
    for key, stamp in (("updated_at", updated), ("created_at", created)):
        if stamp is not None:
            annotation[key] = stamp
    return annotation


def _export(tasks, annotations):
    """Tasks as Label Studio's JSON export returns them, with the given annotations."""
    return [
        {"id": 100 + i, "project": 1} | copy.deepcopy(task) | {"annotations": found}
        for i, (task, found) in enumerate(zip(tasks, annotations))
    ]


def _one_task(*annotations, row_id=7):
    return [
        {"id": 1, "data": {"skfairal_id": row_id}, "annotations": list(annotations)}
    ]


def test_round_trip_through_files(tmp_path):
    rows = pd.DataFrame(
        {"age": np.array([31, 47, 25]), "group": ["a", "b", "a"]}, index=[4, 8, 15]
    )
    write_label_studio_tasks(rows, tmp_path / "tasks.json")
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert tasks == label_studio_tasks(rows)
    export = _export(tasks, [[_annotation("deny")], [], [_annotation("approve", id=5)]])
    (tmp_path / "export.json").write_text(json.dumps(export), encoding="utf-8")
    labels = read_label_studio_export(tmp_path / "export.json")
    assert list(labels.columns) == ["id", "label"]
    assert labels["label"].dtype == object
    assert _pairs(labels) == [(4, "deny"), (15, "approve")]
    assert rows.loc[labels["id"], "age"].tolist() == [31, 25]


def test_round_trip_string_ids_and_other_names():
    rows = pd.DataFrame({"x": [1.5, 2.5]}, index=pd.Index(["p-1", "p-2"]))
    tasks = label_studio_tasks(rows, id_name="pool_row", data_key="features")
    assert tasks[0] == {"data": {"pool_row": "p-1", "features": {"x": 1.5}}}
    export = _export(tasks, [[_annotation("0")], [_annotation("1")]])
    labels = read_label_studio_export(export, id_name="pool_row")
    assert _pairs(labels) == [("p-1", "0"), ("p-2", "1")]


def test_documented_json_example():
    # Task 2's only annotation was skipped and task 3 has none: not labeled yet.
    labels = read_label_studio_export(DOCUMENTED_JSON)
    assert _pairs(labels) == [(7, "deny")]


def test_documented_json_min_example(tmp_path):
    path = tmp_path / "min.json"
    path.write_text(json.dumps(DOCUMENTED_JSON_MIN), encoding="utf-8")
    labels = read_label_studio_export(str(path))
    assert _pairs(labels) == [(7, "deny"), ("b-2", "approve")]


def test_json_min_conflicts_use_record_timestamps():
    records = copy.deepcopy(DOCUMENTED_JSON_MIN)
    records[3]["label"] = "deny"  # the older of task 4's two annotations
    with pytest.raises(ValueError, match=r"task 4 \(row id 'b-2'\).*approve.*deny"):
        read_label_studio_export(records)
    labels = read_label_studio_export(records, conflicts="latest")
    assert _pairs(labels)[1] == ("b-2", "approve")


@pytest.mark.parametrize(
    "value",
    [{"choices": ["deny", "approve"]}, ["deny", "approve"], {"choices": []}],
)
def test_json_min_not_one_choice(value):
    records = copy.deepcopy(DOCUMENTED_JSON_MIN[:1])
    records[0]["label"] = value
    with pytest.raises(ValueError, match=r"task 1 \(row id 7\)"):
        read_label_studio_export(records)


def test_json_min_duplicate_row_id_in_two_tasks():
    records = copy.deepcopy(DOCUMENTED_JSON_MIN)
    records[2]["id"] = 5  # task 4's second record now belongs to another task
    with pytest.raises(ValueError, match=r"Row id 'b-2' is in two .* 5 and 4"):
        read_label_studio_export(records)


def test_json_min_rejects_its_own_keys_as_id_name():
    with pytest.raises(ValueError, match="id_name='id' is overwritten by JSON_MIN"):
        read_label_studio_export(DOCUMENTED_JSON_MIN, id_name="id")


def test_several_controls_need_from_name():
    other = _annotation("high", from_name="risk")["result"][0]
    annotation = _annotation("deny")
    annotation["result"].append(other)
    export = _one_task(annotation)
    with pytest.raises(ValueError, match=r"\['label', 'risk'\]; pass from_name="):
        read_label_studio_export(export)
    assert _pairs(read_label_studio_export(export, from_name="risk")) == [(7, "high")]
    with pytest.raises(ValueError, match=r"from_name='risc' is not in the export"):
        read_label_studio_export(export, from_name="risc")


def test_from_name_of_another_kind_of_control():
    note = {"from_name": "note", "to_name": "row", "type": "textarea"}
    export = _one_task({"result": [note | {"value": {"text": ["ok"]}}]})
    with pytest.raises(ValueError, match=r"'note' \(not a choices control\)"):
        read_label_studio_export(export, from_name="note")
    assert read_label_studio_export(export).empty


@pytest.mark.parametrize("choices", [[], ["deny", "approve"]])
def test_not_one_choice_names_the_task(choices):
    export = _one_task(_annotation(choices), row_id=21)
    with pytest.raises(ValueError, match=r"task 1 \(row id 21\) has \[.*\] as its"):
        read_label_studio_export(export)


def test_two_results_of_one_control():
    annotation = _annotation("deny")
    annotation["result"] *= 2
    with pytest.raises(ValueError, match=r"row id 7\) has 2 results of from_name"):
        read_label_studio_export(_one_task(annotation))


def test_annotation_that_skips_the_control_does_not_count():
    # The first annotator answered only "risk"; the second chose a label.
    first = _annotation("high", from_name="risk")
    export = _one_task(first, _annotation("deny"))
    assert _pairs(read_label_studio_export(export, from_name="label")) == [(7, "deny")]


def test_agreeing_annotations_give_one_row():
    export = _one_task(_annotation("deny"), _annotation("deny"), _annotation("x"))
    export[0]["annotations"][2]["was_cancelled"] = True
    assert _pairs(read_label_studio_export(export)) == [(7, "deny")]


def test_disagreement_raises_naming_every_task():
    export = _one_task(_annotation("deny"), _annotation("approve"))
    export += _one_task(_annotation("a"), _annotation("b"), row_id="r9")
    export[1]["id"] = 2
    with pytest.raises(
        ValueError, match=r"2 task\(s\).*row id 7\): \['deny', 'approve"
    ):
        read_label_studio_export(export)
    with pytest.raises(ValueError, match=r"task 2 \(row id 'r9'\): \['a', 'b'\]"):
        read_label_studio_export(export)


def test_latest_takes_the_last_updated():
    # Listed newest-created first, the later update is the older-created one.
    older = _annotation(
        "deny", created="2024-01-01T10:00:00Z", updated="2024-03-01T00:00:00Z"
    )
    newer = _annotation(
        "approve", created="2024-02-01T10:00:00Z", updated="2024-02-02T00:00:00Z"
    )
    export = _one_task(newer, older)
    assert _pairs(read_label_studio_export(export, conflicts="latest")) == [(7, "deny")]


def test_latest_falls_back_to_created_then_list_order():
    first = _annotation("deny", created="2024-05-01T00:00:00+00:00")
    second = _annotation("approve", created="2024-04-01T00:00:00+00:00")
    labels = read_label_studio_export(_one_task(first, second), conflicts="latest")
    assert _pairs(labels) == [(7, "deny")]
    unstamped = _one_task(_annotation("deny"), _annotation("approve"))
    labels = read_label_studio_export(unstamped, conflicts="latest")
    assert _pairs(labels) == [(7, "approve")]


def test_latest_takes_times_without_a_zone_as_utc():
    naive = _annotation("deny", updated="2024-03-01T00:30:00")
    utc = _annotation("approve", updated="2024-03-01T01:00:00+02:00")
    labels = read_label_studio_export(_one_task(naive, utc), conflicts="latest")
    assert _pairs(labels) == [(7, "deny")]


def test_latest_with_an_unreadable_timestamp():
    export = _one_task(
        _annotation("a", updated="yesterday"), _annotation("b", updated="2024-01-01")
    )
    with pytest.raises(
        ValueError, match=r"row id 7\) has an unreadable timestamp 'yesterday'"
    ):
        read_label_studio_export(export, conflicts="latest")


def test_majority_and_its_ties():
    votes = [_annotation("deny"), _annotation("approve"), _annotation("deny")]
    labels = read_label_studio_export(_one_task(*votes), conflicts="majority")
    assert _pairs(labels) == [(7, "deny")]
    with pytest.raises(
        ValueError, match=r"row id 7\): \{'deny': 1, 'approve': 1\} \(a tie\)"
    ):
        read_label_studio_export(_one_task(*votes[:2]), conflicts="majority")


def test_task_without_the_id_names_label_studio_task_id():
    export = [{"id": 41, "data": {"text": "hi"}, "annotations": []}]
    with pytest.raises(
        ValueError, match=r"task 41 has no 'skfairal_id'.*another id_name="
    ):
        read_label_studio_export(export)
    with pytest.raises(ValueError, match="task 1 has no 'row_id'"):
        read_label_studio_export(DOCUMENTED_JSON, id_name="row_id")


def test_same_row_id_in_two_tasks():
    export = _one_task(_annotation("deny")) + _one_task(row_id=7)
    export[1]["id"] = 2
    with pytest.raises(
        ValueError, match=r"Row id 7 is in two Label Studio tasks, 1 and 2"
    ):
        read_label_studio_export(export)


def test_unreadable_sources(tmp_path):
    missing = tmp_path / "nowhere.json"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        read_label_studio_export(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(
        ValueError, match=re.escape(f"{str(broken)!r} is not a JSON file")
    ):
        read_label_studio_export(broken)
    single = tmp_path / "single.json"
    single.write_text(json.dumps(DOCUMENTED_JSON[0]), encoding="utf-8")
    with pytest.raises(
        ValueError, match=re.escape(f"{str(single)!r} holds a JSON dict, not the list")
    ):
        read_label_studio_export(single)
    with pytest.raises(ValueError, match="Item 1 of source is not a JSON object"):
        read_label_studio_export([DOCUMENTED_JSON[0], 3])
    with pytest.raises(TypeError, match="source must be a path"):
        read_label_studio_export(DOCUMENTED_JSON[0])


def test_mixed_formats():
    with pytest.raises(ValueError, match="source mixes JSON tasks"):
        read_label_studio_export(DOCUMENTED_JSON[:1] + DOCUMENTED_JSON_MIN[:1])


def test_invalid_conflicts():
    with pytest.raises(
        ValueError, match=r"\['error', 'latest', 'majority'\]; got 'last'"
    ):
        read_label_studio_export(DOCUMENTED_JSON, conflicts="last")


def test_empty_export():
    labels = read_label_studio_export([])
    assert labels.shape == (0, 2)
    assert list(labels.columns) == ["id", "label"]


def test_tasks_are_json_safe():
    rows = pd.DataFrame(
        {
            "n": np.array([1, 2], dtype=np.int64),
            "x": [np.float32(0.5), np.nan],
            "flag": np.array([True, False]),
            "when": pd.to_datetime(["2024-01-02 03:04:05", None]),
            "kind": pd.Categorical(["a", None]),
            "maybe": pd.array([3, pd.NA], dtype="Int64"),
            0: ["zero", None],
            "mixed": np.array([np.bool_(True), np.int64(3)], dtype=object),
        },
        index=np.array([10, 11], dtype=np.int64),
    )
    tasks = label_studio_tasks(rows)
    assert json.loads(json.dumps(tasks, allow_nan=False)) == tasks
    first, second = (task["data"] for task in tasks)
    assert first == {
        "skfairal_id": 10,
        "row": {
            "n": 1,
            "x": 0.5,
            "flag": True,
            "when": "2024-01-02T03:04:05",
            "kind": "a",
            "maybe": 3,
            "0": "zero",
            "mixed": True,
        },
    }
    assert second["row"] == dict.fromkeys(first["row"]) | {
        "n": 2,
        "flag": False,
        "mixed": 3,
    }
    assert type(first["row"]["mixed"]) is bool
    assert type(second["row"]["mixed"]) is int
    assert type(first["row"]["n"]) is int
    assert type(first["skfairal_id"]) is int


def test_tasks_reject_what_json_cannot_hold():
    with pytest.raises(ValueError, match=r"rows.loc\[1, 'x'\] is infinite"):
        label_studio_tasks(pd.DataFrame({"x": [0.0, np.inf]}))
    with pytest.raises(TypeError, match=r"rows.loc\[0, 'x'\] is a set"):
        label_studio_tasks(pd.DataFrame({"x": [{1}]}))
    with pytest.raises(TypeError, match=r"ints or strings.*got 0.5"):
        label_studio_tasks(pd.DataFrame({"x": [1]}, index=[0.5]))


def test_tasks_validation():
    with pytest.raises(TypeError, match="rows must be a pandas DataFrame; got ndarray"):
        label_studio_tasks(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"duplicate ids in its index: \[3, 5\]"):
        label_studio_tasks(pd.DataFrame({"x": range(5)}, index=[3, 3, 4, 5, 5]))
    with pytest.raises(ValueError, match="id_name and data_key are both 'row'"):
        label_studio_tasks(pd.DataFrame({"x": [1]}), id_name="row")
    with pytest.raises(ValueError, match=r"id_name='id' is a key .* JSON_MIN"):
        label_studio_tasks(pd.DataFrame({"x": [1]}), id_name="id")
    with pytest.raises(ValueError, match=r"columns named \['1'\] more than once"):
        label_studio_tasks(pd.DataFrame([[1, 2]], columns=[1, "1"]))


def test_config_lists_the_escaped_classes():
    classes = ["approve", 'deny "<&" it', 3]
    config = label_studio_config(classes, from_name="decision", to_name="applicant")
    root = ET.fromstring(config)
    table, choices = list(root)
    assert (root.tag, table.tag, choices.tag) == ("View", "Table", "Choices")
    assert table.attrib == {"name": "applicant", "value": "$row"}
    assert choices.attrib == {
        "name": "decision",
        "toName": "applicant",
        "choice": "single",
        "showInLine": "true",
    }
    assert [c.get("value") for c in choices] == ["approve", 'deny "<&" it', "3"]


def test_config_validation():
    with pytest.raises(ValueError, match="classes is empty"):
        label_studio_config([])
    with pytest.raises(ValueError, match=r"unique.*\['1'\]"):
        label_studio_config([1, "1", 2])
    with pytest.raises(TypeError, match="not the string 'ab'"):
        label_studio_config("ab")
    with pytest.raises(ValueError, match="data_key must be letters"):
        label_studio_config(["a"], data_key="my row")
    with pytest.raises(ValueError, match="from_name and to_name are both 'row'"):
        label_studio_config(["a"], from_name="row")


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "tasks.json"
    rows = pd.DataFrame({"x": [1, 2]})
    write_label_studio_tasks(rows, path)
    before = path.read_bytes()
    assert json.loads(before.decode("utf-8")) == label_studio_tasks(rows)
    assert os.listdir(tmp_path) == ["tasks.json"]

    def fail_midway(fd):
        raise OSError("disk full")

    # The new content is written to the temporary file, then the disk fails.
    monkeypatch.setattr(os, "fsync", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        write_label_studio_tasks(pd.DataFrame({"x": [3]}), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["tasks.json"]


def test_write_checks_rows_before_touching_the_file(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate ids"):
        write_label_studio_tasks(pd.DataFrame({"x": [1, 2]}, index=[0, 0]), path)
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["tasks.json"]
