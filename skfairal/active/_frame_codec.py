"""DataFrames as plain arrays and JSON, so a session file never holds a pickle.

``np.save(allow_pickle=False)`` stores numbers, booleans, fixed-width
strings and datetimes; everything a pool's columns hold is brought to one of
those, with a mask for missing values and a JSON description of the pandas
dtype to restore.
"""

import io
import json

import numpy as np

_NUMPY_KINDS = "biufcmM"


class FrameCodecError(ValueError):
    """A column whose values cannot be stored without pickling."""


def _encode_values(values, name: str) -> tuple[dict, dict]:
    """(arrays, meta) for one column or index."""
    import pandas as pd

    if isinstance(values, pd.RangeIndex):
        return {}, {
            "kind": "range",
            "start": values.start,
            "stop": values.stop,
            "step": values.step,
        }
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats, cats_meta = _encode_values(pd.Index(dtype.categories), name)
        arrays = {"codes": np.asarray(pd.Categorical(values).codes, dtype=np.int64)}
        arrays |= {f"categories.{k}": v for k, v in cats.items()}
        return arrays, {
            "kind": "category",
            "ordered": bool(dtype.ordered),
            "categories": cats_meta,
        }
    if isinstance(dtype, np.dtype) and dtype.kind in _NUMPY_KINDS:
        return {"values": np.asarray(values)}, {"kind": "numpy"}
    # Extension and object dtypes: the values, their missing mask and the dtype
    # name to rebuild (Int64, boolean, string, or object).
    # One object array: iterating a pandas extension array costs 3 us a value.
    values = np.asarray(values, dtype=object)
    missing = np.asarray(pd.isna(values), dtype=bool)
    present = values[~missing]
    if all(isinstance(v, str) for v in present):
        fill, dtype_out = "", str
    elif all(isinstance(v, bool | np.bool_) for v in present):
        fill, dtype_out = False, bool
    elif all(
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool)
        for v in present
    ):
        fill, dtype_out = 0, None
    else:
        kinds = sorted({type(v).__name__ for v in present})
        raise FrameCodecError(
            f"column {name!r} holds values of types {kinds}; a session stores "
            "columns of numbers, booleans, strings, datetimes or categories only. "
            "Convert it (df[col].astype(str), say) first."
        )
    filled = values.copy()
    filled[missing] = fill
    filled = np.array(filled.tolist(), dtype=dtype_out)
    return {"values": filled, "missing": missing}, {
        "kind": "masked",
        "dtype": str(dtype),
        "none": any(v is None for v in values[missing]),
    }


def _decode_values(arrays: dict, meta: dict):
    import pandas as pd

    kind = meta.get("kind")
    if kind == "range":
        return pd.RangeIndex(meta["start"], meta["stop"], meta["step"])
    if kind == "numpy":
        return arrays["values"]
    if kind == "category":
        cats = _decode_values(
            {k[len("categories.") :]: v for k, v in arrays.items() if "." in k},
            meta["categories"],
        )
        return pd.Categorical.from_codes(
            arrays["codes"], categories=pd.Index(cats), ordered=meta["ordered"]
        )
    if kind == "masked":
        values, missing = arrays["values"], arrays["missing"]
        if meta["dtype"] == "object":
            out = values.astype(object)
            out[missing] = None if meta["none"] else np.nan
            return out
        out = pd.array(values.tolist(), dtype=meta["dtype"])
        out[missing] = pd.NA
        return out
    raise FrameCodecError(f"unknown column encoding {kind!r}.")


def _name_to_json(name):
    if isinstance(name, str | int | float | bool) or name is None:
        return name
    if isinstance(name, np.integer | np.floating | np.bool_):
        return name.item()
    raise FrameCodecError(
        f"column or index name {name!r} is neither a string nor a number; a "
        "session stores those names only."
    )


def encode_frame(frame) -> bytes:
    """A DataFrame or Series as an ``.npz`` archive whose ``meta`` is JSON.

    Raises
    ------
    FrameCodecError
        When a column (or the index) holds values that only a pickle could
        store, or the frame has a MultiIndex.
    """
    import pandas as pd

    series = isinstance(frame, pd.Series)
    if series:
        frame = frame.to_frame()
    if isinstance(frame.index, pd.MultiIndex) or isinstance(
        frame.columns, pd.MultiIndex
    ):
        raise FrameCodecError("frames with a MultiIndex cannot be stored.")
    arrays, columns = {}, []
    for i, name in enumerate(frame.columns):
        col_arrays, col_meta = _encode_values(frame.iloc[:, i], name)
        arrays |= {f"c{i}.{k}": v for k, v in col_arrays.items()}
        columns.append({"name": _name_to_json(name), **col_meta})
    index_arrays, index_meta = _encode_values(frame.index, "index")
    arrays |= {f"index.{k}": v for k, v in index_arrays.items()}
    meta = {
        "series": series,
        "columns": columns,
        "index": {"name": _name_to_json(frame.index.name), **index_meta},
        "column_names_type": type(frame.columns).__name__,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode_frame(data: bytes):
    """The DataFrame or Series of :func:`encode_frame`; never unpickles."""
    import pandas as pd

    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode())

    def part(prefix):
        return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

    index = pd.Index(
        _decode_values(part("index."), meta["index"]), name=meta["index"]["name"]
    )
    # Series keep an object column object (a dict of arrays would make it str).
    columns = {
        i: pd.Series(
            _decode_values(part(f"c{i}."), col),
            index=index,
            dtype=object if col.get("dtype") == "object" else None,
        )
        for i, col in enumerate(meta["columns"])
    }
    frame = pd.DataFrame(columns, index=index)
    frame.columns = pd.Index([col["name"] for col in meta["columns"]])
    if meta["column_names_type"] == "RangeIndex":
        frame.columns = pd.RangeIndex(len(meta["columns"]))
    if meta["series"]:
        return frame.iloc[:, 0]
    return frame
