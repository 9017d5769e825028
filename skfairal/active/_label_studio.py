"""Pool rows out to Label Studio as tasks, and the annotators' labels back in.

The formats follow Label Studio's documentation: tasks in the "Basic Label
Studio JSON format" (https://labelstud.io/guide/tasks.html), the ``Table`` and
``Choices`` tags (https://labelstud.io/tags/table, .../tags/choices), and the
JSON and JSON_MIN exports (https://labelstud.io/guide/export.html); JSON_MIN
as label-studio-converter's ``Converter.convert_to_json_min`` writes it.
"""

import datetime
import json
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

import numpy as np

from ..utils import import_optional, is_missing
from ._atomic_write import atomic_write_bytes

if TYPE_CHECKING:
    import pandas as pd

_CONFLICTS = ("error", "latest", "majority")
# Keys JSON_MIN writes beside the task's data, overwriting data keys so named.
_JSON_MIN_FIELDS = frozenset(
    {"id", "annotator", "annotation_id", "agreement", "lead_time"}
    | {"created_at", "updated_at"}
)


def _pandas(purpose):
    return import_optional("pandas", purpose=purpose, extra="session")


def _check_names(id_name, data_key):
    for name, value in (("id_name", id_name), ("data_key", data_key)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string; got {value!r}.")
    if id_name == data_key:
        raise ValueError(
            f"id_name and data_key are both {id_name!r}; the id and the row "
            "need two different keys in the task's data."
        )
    if id_name in _JSON_MIN_FIELDS:
        raise ValueError(
            f"id_name={id_name!r} is a key Label Studio's JSON_MIN export "
            f"writes itself ({sorted(_JSON_MIN_FIELDS)}); choose another."
        )


def _json_id(row_id):
    if isinstance(row_id, int | np.integer | str) and not isinstance(row_id, bool):
        return str(row_id) if isinstance(row_id, str) else int(row_id)
    raise TypeError(
        "Row ids (the index of rows) must be ints or strings so that they come "
        f"back unchanged from Label Studio; got {row_id!r} ({type(row_id).__name__})."
    )


def _json_value(value, pd, row_id, column):
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        value = pd.Timestamp(value) if value.dtype.kind == "M" else pd.Timedelta(value)
    if is_missing(value):
        return None
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            raise ValueError(
                f"rows.loc[{row_id!r}, {column!r}] is infinite, which JSON "
                "cannot hold; replace it (by NaN, say) before export."
            )
        return float(value)
    if isinstance(value, datetime.timedelta):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    raise TypeError(
        f"rows.loc[{row_id!r}, {column!r}] is a {type(value).__name__}, which "
        "has no JSON form; convert the column to numbers, strings or dates."
    )


def label_studio_tasks(
    rows: "pd.DataFrame", *, id_name: str = "skfairal_id", data_key: str = "row"
) -> list[dict]:
    """Label Studio tasks, one per row, each showing the row's values.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows to label; the index holds their ids (ints or strings), which
        come back with the labels.
    id_name : str, default="skfairal_id"
        Key of the row id in each task's ``data``.
    data_key : str, default="row"
        Key of the row's ``{column: value}`` dict in each task's ``data``, the
        variable the labeling config's ``Table`` reads (``value="$row"``).

    Returns
    -------
    tasks : list of dict
        ``[{"data": {id_name: id, data_key: {column: value, ...}}}, ...]``,
        JSON-safe: plain ints, floats, bools and strings, None for a missing
        value, ISO strings for dates; column names become strings.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfairal.active import label_studio_tasks
    >>> rows = pd.DataFrame({"age": [31, 47], "income": [2.5, np.nan]}, index=[7, 9])
    >>> label_studio_tasks(rows)[1]
    {'data': {'skfairal_id': 9, 'row': {'age': 47, 'income': None}}}
    """
    pd = _pandas("label_studio_tasks")
    if not isinstance(rows, pd.DataFrame):
        raise TypeError(f"rows must be a pandas DataFrame; got {type(rows).__name__}.")
    _check_names(id_name, data_key)
    duplicated = rows.index[rows.index.duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(
            f"rows has duplicate ids in its index: {duplicated}; each row needs "
            "its own id to get its own label back."
        )
    columns = [str(c) for c in rows.columns]
    clashing = sorted({c for c in columns if columns.count(c) > 1})
    if clashing:
        raise ValueError(f"rows has columns named {clashing} more than once (as str).")
    tasks = []
    for row_id, values in zip(rows.index, rows.itertuples(index=False, name=None)):
        row = {c: _json_value(v, pd, row_id, c) for c, v in zip(columns, values)}
        tasks.append({"data": {id_name: _json_id(row_id), data_key: row}})
    return tasks


def label_studio_config(
    classes: Sequence,
    *,
    from_name: str = "label",
    to_name: str = "row",
    data_key: str = "row",
) -> str:
    """The labeling config of a project that classifies one table row a task.

    Parameters
    ----------
    classes : sequence
        The labels to choose from, shown in this order. Label Studio returns
        each choice as a string: ``1`` comes back as ``"1"``.
    from_name : str, default="label"
        Name of the ``Choices`` control; the export's results carry it.
    to_name : str, default="row"
        Name of the ``Table`` that shows the row.
    data_key : str, default="row"
        The task data key holding the row, as in :func:`label_studio_tasks`.

    Returns
    -------
    config : str
        The XML, with the class values escaped.

    Examples
    --------
    >>> from skfairal.active import label_studio_config
    >>> print(label_studio_config(["approve", "deny"]))
    <View>
      <Table name="row" value="$row"/>
      <Choices name="label" toName="row" choice="single" showInLine="true">
        <Choice value="approve"/>
        <Choice value="deny"/>
      </Choices>
    </View>
    """
    if isinstance(classes, str | bytes):
        raise TypeError(
            f"classes must be a sequence of labels, not the string {classes!r}."
        )
    values = [str(c) for c in classes]
    if not values:
        raise ValueError("classes is empty; a classification needs at least one class.")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated or "" in values:
        raise ValueError(
            f"classes must be unique, non-empty strings once converted by str(); "
            f"{repeated or ['']} would be ambiguous."
        )
    names = {"from_name": from_name, "to_name": to_name, "data_key": data_key}
    for name, value in names.items():
        if not isinstance(value, str) or not re.fullmatch(r"\w+", value):
            raise ValueError(f"{name} must be letters, digits and _; got {value!r}.")
    if from_name == to_name:
        raise ValueError(
            f"from_name and to_name are both {from_name!r}; tag names must differ."
        )
    choices = "".join(f"    <Choice value={quoteattr(v)}/>\n" for v in values)
    return (
        "<View>\n"
        f"  <Table name={quoteattr(to_name)} value={quoteattr('$' + data_key)}/>\n"
        f"  <Choices name={quoteattr(from_name)} toName={quoteattr(to_name)}"
        ' choice="single" showInLine="true">\n'
        f"{choices}  </Choices>\n</View>"
    )


def write_label_studio_tasks(
    rows: "pd.DataFrame",
    path: str | os.PathLike,
    *,
    id_name: str = "skfairal_id",
    data_key: str = "row",
) -> None:
    """Write :func:`label_studio_tasks` of ``rows`` to a JSON file to import.

    The file is replaced whole or not at all: a failed write leaves an older
    file as it was, never half a list that Label Studio would reject.

    Parameters
    ----------
    rows : pandas.DataFrame
        As in :func:`label_studio_tasks`.
    path : str or os.PathLike
        The file to write (UTF-8, indented).
    id_name, data_key : str
        As in :func:`label_studio_tasks`.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skfairal.active import write_label_studio_tasks
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tasks.json")
    ...     write_label_studio_tasks(pd.DataFrame({"a": [1]}), path)
    ...     os.listdir(folder)
    ['tasks.json']
    """
    tasks = label_studio_tasks(rows, id_name=id_name, data_key=data_key)
    text = json.dumps(tasks, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def _load(source):
    if not isinstance(source, str | os.PathLike):
        if not isinstance(source, list):
            raise TypeError(
                "source must be a path to a Label Studio export or its parsed list "
                f"of dicts; got {type(source).__name__}."
            )
        return source, "source"
    path = os.fspath(source)
    with open(path, encoding="utf-8") as file:
        try:
            records = json.load(file)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path!r} is not a JSON file: {exc}") from exc
    if not isinstance(records, list):
        raise ValueError(
            f"{path!r} holds a JSON {type(records).__name__}, not the list of "
            "tasks that Label Studio's JSON and JSON_MIN exports are."
        )
    return records, repr(path)


def _tasks_by_row(records, origin, id_name):
    """{row id: (Label Studio task id, annotations)}, in file order."""
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"Item {position} of {origin} is not a JSON object.")
    is_json = {"annotations" in r or "completions" in r for r in records}
    if len(is_json) > 1:
        raise ValueError(
            f"{origin} mixes JSON tasks (with 'annotations') and other records; "
            "pass one Label Studio JSON or JSON_MIN export."
        )
    if is_json == {False} and id_name in _JSON_MIN_FIELDS:
        raise ValueError(f"id_name={id_name!r} is overwritten by JSON_MIN's own.")
    tasks = {}
    for position, record in enumerate(records):
        task = record if is_json == {True} else _from_json_min(record, id_name)
        data, ls_id = task.get("data"), task.get("id")
        ls_id = f"at position {position}" if ls_id is None else ls_id
        if not isinstance(data, dict) or id_name not in data:
            raise ValueError(
                f"Label Studio task {ls_id!r} has no {id_name!r} in its data: the "
                "tasks were not made by label_studio_tasks, or with another id_name=."
            )
        row_id = data[id_name]
        if not isinstance(row_id, int | str) or isinstance(row_id, bool):
            raise ValueError(f"Label Studio task {ls_id!r} has {id_name}={row_id!r}.")
        # JSON_MIN repeats a task once per annotation, under the same task id.
        if row_id in tasks and (is_json == {True} or tasks[row_id][0] != ls_id):
            raise ValueError(
                f"Row id {row_id!r} is in two Label Studio tasks, {tasks[row_id][0]!r} "
                f"and {ls_id!r}; import each row once, or read the exports apart."
            )
        annotations = task.get("annotations", task.get("completions")) or []
        tasks.setdefault(row_id, (ls_id, []))[1].extend(annotations)
    return tasks


def _control(tasks, from_name):
    """The from_name to read: the one given, checked, or the only choices control."""
    found = {
        (r.get("from_name"), r.get("type"))
        for _, annotations in tasks.values()
        for a in annotations
        if not (a.get("was_cancelled") or a.get("skipped"))
        for r in a.get("result") or []
    }
    controls = sorted(str(n) for n, kind in found if kind == "choices")
    others = {n for n, kind in found if kind != "choices"}
    if from_name is None and len(controls) > 1:
        raise ValueError(
            f"The export has several choices controls: {controls}; pass "
            "from_name= to say which one holds the labels."
        )
    if from_name is None:
        return controls[0] if controls else None
    if from_name not in controls and (controls or from_name in others):
        kind = " (not a choices control)" if from_name in others else ""
        raise ValueError(
            f"from_name={from_name!r}{kind} is not in the export; its choices "
            f"controls are {controls}."
        )
    return from_name


def _timestamp(text, where):
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} has an unreadable timestamp {text!r}.") from exc
    # Label Studio writes UTC ("...Z"); a time without a zone is taken as UTC too.
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.UTC)


def _choice(value, where):
    """The one choice in a Choices result's value, or a ValueError."""
    choices = value.get("choices") if isinstance(value, dict) else None
    if not isinstance(choices, list) or len(choices) != 1:
        raise ValueError(
            f"{where} has {choices!r} as its choices, not exactly one: read "
            'exports of single-label projects (choice="single") only.'
        )
    return choices[0]


def _votes(annotations, name, where):
    """(label, updated_at, created_at) of each annotation that answers ``name``."""
    votes = []
    for annotation in annotations:
        if annotation.get("was_cancelled") or annotation.get("skipped"):
            continue
        found = [
            r for r in annotation.get("result") or [] if r.get("from_name") == name
        ]
        if not found:
            continue  # submitted without answering this control
        if len(found) > 1:
            raise ValueError(f"{where} has {len(found)} results of from_name={name!r}.")
        label = _choice(found[0].get("value"), where)
        stamps = (annotation.get("updated_at"), annotation.get("created_at"))
        votes.append((label, *stamps))
    return votes


def _from_json_min(record, id_name):
    """A JSON_MIN record, which is one annotation, in the JSON export's shape."""
    result = []
    for key, value in record.items():
        values = value if isinstance(value, list) and value else [value]
        values = [{"choices": [v]} if isinstance(v, str) else v for v in values]
        # A single choice is written as its string, several as {"choices": [...]},
        # several results of one control as a list of those.
        if (
            key not in _JSON_MIN_FIELDS
            and key != id_name
            and all(isinstance(v, dict) and set(v) == {"choices"} for v in values)
        ):
            result += [
                {"from_name": key, "type": "choices", "value": v} for v in values
            ]
    annotation = {k: record.get(k) for k in ("created_at", "updated_at")}
    annotation["result"] = result
    return {"id": record.get("id"), "data": record, "annotations": [annotation]}


def _resolve(votes, conflicts, where):
    """The task's label, or None with the reason it has none."""
    labels = [label for label, *_ in votes]
    if len(set(labels)) == 1:
        return labels[0], None
    if conflicts == "latest":
        stamps = [updated or created for _, updated, created in votes]
        if all(stamps):
            stamps = [_timestamp(s, where) for s in stamps]
            return max(zip(stamps, range(len(votes)), labels))[2], None
        return labels[-1], None
    if conflicts == "majority":
        counts = Counter(labels).most_common()
        if len(counts) == 1 or counts[0][1] > counts[1][1]:
            return counts[0][0], None
        return None, f"{where}: {dict(counts)} (a tie)"
    return None, f"{where}: {labels}"


def read_label_studio_export(
    source: str | os.PathLike | list[dict],
    *,
    id_name: str = "skfairal_id",
    from_name: str | None = None,
    conflicts: str = "error",
) -> "pd.DataFrame":
    """The labels in a Label Studio export of tasks from :func:`label_studio_tasks`.

    Parameters
    ----------
    source : str, os.PathLike or list of dict
        A JSON or JSON_MIN export file, or its parsed contents. The format is
        told by the records: JSON tasks carry ``annotations``.
    id_name : str, default="skfairal_id"
        The ``id_name`` the tasks were made with.
    from_name : str, default=None
        The ``Choices`` control to read. None: the only one in the export.
    conflicts : {"error", "latest", "majority"}, default="error"
        What to do when a task's annotators disagree: raise, take the
        annotation updated (else created) last, or the most frequent label (a
        tie raises). Without timestamps, "latest" is the last one listed.

    Returns
    -------
    labels : pandas.DataFrame
        Columns ``id`` (the row ids) and ``label`` (object dtype: the choice
        strings), one row per labeled task in file order. Tasks without an
        annotation, or whose annotations were all skipped, are left out.

    Examples
    --------
    >>> from skfairal.active import read_label_studio_export
    >>> done = {"from_name": "label", "type": "choices", "value": {"choices": ["no"]}}
    >>> export = [
    ...     {"id": 1, "data": {"skfairal_id": 7}, "annotations": [{"result": [done]}]},
    ...     {"id": 2, "data": {"skfairal_id": 9}, "annotations": []},
    ... ]
    >>> read_label_studio_export(export)
       id label
    0   7    no
    """
    pd = _pandas("read_label_studio_export")
    if conflicts not in _CONFLICTS:
        raise ValueError(
            f"conflicts must be one of {list(_CONFLICTS)}; got {conflicts!r}."
        )
    tasks = _tasks_by_row(*_load(source), id_name)
    from_name = _control(tasks, from_name)
    ids, labels, problems = [], [], []
    for row_id, (ls_id, annotations) in tasks.items():
        where = f"Label Studio task {ls_id!r} (row id {row_id!r})"
        votes = [] if from_name is None else _votes(annotations, from_name, where)
        if not votes:
            continue
        label, problem = _resolve(votes, conflicts, where)
        if problem is not None:
            problems.append(problem)
        ids.append(row_id)
        labels.append(label)
    if problems:
        shown = "; ".join(problems[:10]) + (" ..." if len(problems) > 10 else "")
        raise ValueError(
            f"Annotators disagree on {len(problems)} task(s) under "
            f"conflicts={conflicts!r}: {shown}. Pass conflicts='latest' or "
            "'majority', or settle them in Label Studio."
        )
    ids = pd.Series(ids, dtype=None if ids else object)
    return pd.DataFrame({"id": ids, "label": pd.Series(labels, dtype=object)})
