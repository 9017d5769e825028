"""Tests for the session files' table format: DataFrames without pickles."""

import io

import numpy as np
import pandas as pd
import pytest

from skfairal.active._frame_codec import FrameCodecError, decode_frame, encode_frame
from skfairal.datasets import load_adult


def _all_dtypes():
    index = pd.Index(["r1", "r2", "r3"], name="id")
    frame = pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [1.5, np.nan, 2.0],
            "bool": [True, False, True],
            "Int64": pd.array([1, None, 3], dtype="Int64"),
            "boolean": pd.array([True, None, False], dtype="boolean"),
            "str": ["x", None, "z"],
            "string": pd.array(["u", None, "w"], dtype="string"),
            "category": pd.Categorical(
                ["a", "b", "a"], categories=["b", "a"], ordered=True
            ),
            "datetime": pd.to_datetime(["2020-01-01", None, "2021-06-30"]),
            "timedelta": pd.to_timedelta([1, 2, 3], unit="D"),
            7: [0.1, 0.2, 0.3],
        },
        index=index,
    )
    frame["object"] = pd.Series(["p", None, "q"], dtype=object, index=index)
    return frame


@pytest.mark.parametrize(
    "frame",
    [
        _all_dtypes(),
        _all_dtypes().reset_index(drop=True),
        _all_dtypes().iloc[:0],
        pd.DataFrame(np.arange(12).reshape(4, 3)),
    ],
    ids=["every-dtype", "range-index", "empty", "int-column-names"],
)
def test_frames_come_back_equal(frame):
    pd.testing.assert_frame_equal(decode_frame(encode_frame(frame)), frame)


def test_adult_as_a_user_has_it_comes_back_equal():
    bunch = load_adult(as_frame=True)
    for frame in (
        bunch.data,
        bunch.data.astype({c: str for c in bunch.categorical_features}),
    ):
        frame = frame.iloc[:2000]
        pd.testing.assert_frame_equal(decode_frame(encode_frame(frame)), frame)


def test_a_series_comes_back_a_series():
    series = pd.Series(["a", "b"], index=[10, 20], name="label")
    pd.testing.assert_series_equal(decode_frame(encode_frame(series)), series)


def test_the_archive_holds_no_object_arrays():
    data = encode_frame(_all_dtypes())
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        kinds = {archive[name].dtype.kind for name in archive.files}
    assert "O" not in kinds


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pd.DataFrame({"mixed": [1, "a"]}),
            r"column 'mixed' holds values of types \['int', 'str'\]",
        ),
        (
            pd.DataFrame({"dicts": [{"k": 1}]}),
            r"column 'dicts' holds values of types \['dict'\]",
        ),
        (
            pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])),
            "MultiIndex",
        ),
        (pd.DataFrame({("a", "b"): [1]}), "MultiIndex"),
    ],
)
def test_what_only_a_pickle_could_store_is_refused(frame, match):
    with pytest.raises(FrameCodecError, match=match):
        encode_frame(frame)
