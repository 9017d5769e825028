"""A labeling session's file: written atomically, read without unpickling.

The file is a zip archive:

- ``manifest.json``: the format, its version, the session's plain state and
  the SHA-256 of every other member;
- ``frames/<name>.npz``: DataFrames as arrays (:mod:`._frame_codec`);
- ``objects/<name>.skops``: estimators through ``skops.io``, with every
  DataFrame inside them moved out to ``parts/`` first, and a fitted PANDA
  policy or skorch net stored as weights (:mod:`._torch_parts`).

Loading refuses any type outside scikit-learn's and skfairal's own classes,
skfairal's query strategies, the torch and skorch classes a net's parameters
name, and what skops trusts by default, unless the caller names it in
``trusted``.
"""

import functools
import hashlib
import importlib
import io
import json
import pickle
import sys
import types
import zipfile

import numpy as np

from ..utils import import_optional
from ._atomic_write import atomic_write_bytes
from ._frame_codec import FrameCodecError, decode_frame, encode_frame
from ._torch_parts import (
    TRUSTED_SKORCH_TYPES,
    TRUSTED_TORCH_MODULES,
    SkorchNetSpec,
    is_panda_policy,
    is_skorch_net,
    load_panda_policy,
    rebuild_skorch_net,
    skorch_spec,
)

FORMAT = "skfairal-labeling-session"
VERSION = 1
_OWN_MODULES = ("skfairal.", "sklearn.")
# Plain objects whose __dict__ is copied and stored (skorch's callbacks too;
# loading them is a matter of trust, see _torch_parts).
_PLAIN_MODULES = (*_OWN_MODULES, "skorch.callbacks.")
# Dtypes (an imputer's fitted dtype; object arrays' "builtins.object"), which
# skops reports as types of their own: rebuilt from their names, no code runs.
_ALWAYS_TRUSTED = frozenset({"builtins.object", "numpy.dtype"})


class SessionFileError(ValueError):
    """A session file that cannot be read, or a session that cannot be saved.

    Raised for a file that is not a session file, one cut short or damaged, a
    file from another version, and one that names types outside those
    trusted; and at save, for state that cannot be stored without pickling.

    Examples
    --------
    >>> import os, tempfile
    >>> from skfairal.active import LabelingSession, SessionFileError
    >>> path = os.path.join(tempfile.mkdtemp(), "not-a-session.skfal")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"plain bytes")
    >>> try:
    ...     LabelingSession.load(path)
    ... except SessionFileError as exc:
    ...     print("refused:", str(exc).split(": ", 1)[1][:20])
    refused: not a zip archive, o
    """


class DetachedPart:
    """Where a DataFrame or a fitted PANDA policy stood before saving."""

    def __init__(self, key: str, kind: str):
        self.key = key
        self.kind = kind


class DetachedDict:
    """A dict whose keys skops cannot store (Falcon's tuples), as its items."""

    def __init__(self, items: list):
        self.items = items


_SCALAR_KEYS = (str, int, float, bool, type(None))


def _skops():
    return import_optional(
        "skops.io", purpose="Saving a labeling session", extra="session"
    )


# -- saving ---------------------------------------------------------------------


def _is_torch_module(obj) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module | torch.Tensor)


def _is_plain_object(obj) -> bool:
    """An instance of skfairal or scikit-learn whose __dict__ can be copied."""
    cls = type(obj)
    return (
        cls.__module__.startswith(_PLAIN_MODULES)
        and isinstance(getattr(obj, "__dict__", None), dict)
        and not isinstance(
            obj, type | types.FunctionType | types.MethodType | functools.partial
        )
    )


def _detach(obj, parts: dict, memo: dict, path: str):
    """A copy of ``obj`` that skops can store: DataFrames and fitted PANDA
    policies become DetachedParts, skorch nets SkorchNetSpecs, dicts with
    tuple keys DetachedDicts.

    The learner itself is not touched: containers and skfairal/scikit-learn
    objects on the way are copied.
    """
    key = id(obj)
    if key in memo:
        return memo[key]
    module = type(obj).__module__
    if module.startswith("pandas"):
        import pandas as pd

        if not isinstance(obj, pd.DataFrame | pd.Series):
            raise SessionFileError(
                f"{path} is a {type(obj).__name__}; a session stores DataFrames "
                "and Series of pandas only."
            )
        name = f"parts/{len(parts)}.npz"
        try:
            parts[name] = encode_frame(obj)
        except FrameCodecError as exc:
            raise SessionFileError(f"{path}: {exc}") from exc
        memo[key] = DetachedPart(name, "frame")
        return memo[key]
    if is_panda_policy(obj):
        name = f"parts/{len(parts)}.panda.pt"
        buffer = io.BytesIO()
        obj.save(buffer)
        parts[name] = buffer.getvalue()
        memo[key] = DetachedPart(name, "panda_policy")
        return memo[key]
    if is_skorch_net(obj):
        memo[key] = skorch_spec(
            obj, parts, lambda params: _detach(params, parts, memo, f"{path}.params")
        )
        return memo[key]
    if isinstance(obj, types.FunctionType) and "<" in obj.__qualname__:
        raise SessionFileError(
            f"{path} is {obj.__qualname__}, a lambda or a function defined inside "
            "another: a file can only name a function defined at a module's top "
            "level. Define it there."
        )
    if type(obj) is dict and not all(
        isinstance(k, _SCALAR_KEYS) or np.isscalar(k) for k in obj
    ):
        out = memo[key] = DetachedDict([])
        out.items.extend(
            (_detach(k, parts, memo, f"{path} key"), _detach(v, parts, memo, path))
            for k, v in obj.items()
        )
        return out
    if type(obj) is dict:
        out = memo[key] = {}
        out.update(
            {k: _detach(v, parts, memo, f"{path}[{k!r}]") for k, v in obj.items()}
        )
        return out
    if type(obj) is list:
        out = memo[key] = []
        out.extend(_detach(v, parts, memo, f"{path}[{i}]") for i, v in enumerate(obj))
        return out
    if type(obj) is tuple:
        out = tuple(_detach(v, parts, memo, f"{path}[{i}]") for i, v in enumerate(obj))
        memo[key] = out
        return out
    if _is_torch_module(obj) or (
        module.startswith(("torch", "skorch")) and not _is_plain_object(obj)
    ):
        raise SessionFileError(
            f"{path} is a {module}.{type(obj).__qualname__}: a session stores "
            "torch models as skorch nets (a module class, its parameters and "
            "weights) and PANDA policies; a module instance anywhere else (a "
            "parameter, or a fitted attribute such as AdversarialEncoder's) "
            "could only be rebuilt from a pickle. Pass the module class to the "
            "learner or to the skorch net."
        )
    if _is_plain_object(obj):
        out = memo[key] = object.__new__(type(obj))
        out.__dict__.update(
            {k: _detach(v, parts, memo, f"{path}.{k}") for k, v in vars(obj).items()}
        )
        return out
    return obj


def write_session_file(path, manifest: dict, frames: dict, objects: dict) -> None:
    """Write the archive to ``path`` atomically.

    Everything is encoded in memory first, so that a value that cannot be
    stored fails before the disk is touched; the bytes then go to a
    temporary file in the same folder, which replaces ``path`` in one
    rename. A crash at any point leaves the previous file whole.
    """
    skops_io = _skops()
    members, parts = {}, {}
    for name, frame in frames.items():
        if frame is not None:
            try:
                members[f"frames/{name}.npz"] = encode_frame(frame)
            except FrameCodecError as exc:
                raise SessionFileError(f"{name}: {exc}") from exc
    memo = {}
    for name, obj in objects.items():
        if obj is not None:
            detached = _detach(obj, parts, memo, name)
            try:
                members[f"objects/{name}.skops"] = skops_io.dumps(detached)
            except Exception as exc:  # skops raises what the object raises
                raise SessionFileError(
                    f"{name} cannot be stored by skops.io ({type(exc).__name__}: "
                    f"{exc})."
                ) from exc
    members |= parts
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        **manifest,
        "sha256": {k: hashlib.sha256(v).hexdigest() for k, v in members.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, data in members.items():
            archive.writestr(name, data, compresslevel=1)
    atomic_write_bytes(path, buffer.getvalue())


# -- loading --------------------------------------------------------------------


def _resolve(type_name: str):
    module_name, _, qualname = type_name.partition(":")
    if not qualname:
        module_name, _, qualname = type_name.rpartition(".")
    obj = importlib.import_module(module_name)
    for attr in qualname.split("."):
        obj = getattr(obj, attr)
    return obj


def _is_trusted_by_default(type_name: str) -> bool:
    """scikit-learn's and skfairal's classes, and skfairal's query strategies.

    Functions of scikit-learn are not: a tampered file could make a
    ``FunctionTransformer`` call one that writes files.
    """
    if type_name in _ALWAYS_TRUSTED or type_name.startswith("numpy.dtypes."):
        return True
    if type_name in TRUSTED_SKORCH_TYPES:
        return True
    own = type_name.startswith(_OWN_MODULES)
    if not own and not type_name.startswith(TRUSTED_TORCH_MODULES):
        return False
    try:
        obj = _resolve(type_name)
    except (ImportError, AttributeError, ValueError):
        return False
    if isinstance(obj, type):
        return True
    if type_name.startswith("skfairal."):
        from ..query import available_strategies, get_strategy

        return any(get_strategy(name) is obj for name in available_strategies())
    return False


def _attach(obj, parts: dict, memo: set, rebuilt: dict):
    """Put the detached parts back into the loaded objects, in place."""
    if isinstance(obj, DetachedPart):
        if obj.kind == "panda_policy":
            return load_panda_policy(parts[obj.key])
        return parts[obj.key]
    if isinstance(obj, SkorchNetSpec):
        if id(obj) not in rebuilt:
            obj.params = _attach(obj.params, parts, memo, rebuilt)
            rebuilt[id(obj)] = rebuild_skorch_net(obj, parts)
        return rebuilt[id(obj)]
    if isinstance(obj, DetachedDict):
        return {
            _attach(k, parts, memo, rebuilt): _attach(v, parts, memo, rebuilt)
            for k, v in obj.items
        }
    if id(obj) in memo:
        return obj
    memo.add(id(obj))
    if type(obj) is dict:
        for k, v in obj.items():
            obj[k] = _attach(v, parts, memo, rebuilt)
    elif type(obj) is list:
        for i, v in enumerate(obj):
            obj[i] = _attach(v, parts, memo, rebuilt)
    elif type(obj) is tuple:
        return tuple(_attach(v, parts, memo, rebuilt) for v in obj)
    elif _is_plain_object(obj):
        for k, v in vars(obj).items():
            obj.__dict__[k] = _attach(v, parts, memo, rebuilt)
    return obj


def _rebuilt(path, loaded, parts: dict):
    try:
        return _attach(loaded, parts, set(), {})
    except (
        ValueError, KeyError, TypeError, RuntimeError, OSError, EOFError,
        AttributeError, pickle.UnpicklingError,
    ) as exc:  # fmt: skip
        # torch.load refusing what is not weights, load_state_dict on other
        # shapes, a tampered spec naming a class that is no net.
        raise _damaged(
            path, f"stored weights cannot be put back ({type(exc).__name__}: {exc})."
        ) from exc


def _damaged(path, why: str) -> SessionFileError:
    return SessionFileError(
        f"{str(path)!r} is not a readable skfairal labeling session: {why}"
    )


def read_session_file(path, *, trusted=None) -> tuple[dict, dict, dict]:
    """(manifest, frames, objects) of a file written by write_session_file.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    SessionFileError
        If the file is not a session file, is damaged, comes from another
        format version, or names types that are not trusted.
    """
    skops_io = _skops()
    extra = {
        t if isinstance(t, str) else f"{t.__module__}.{t.__qualname__}"
        for t in (trusted or ())
    }
    with open(path, "rb") as file:
        raw = file.read()
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise _damaged(path, f"not a zip archive, or cut short ({exc}).") from exc
    except Exception as exc:  # zlib.error on a corrupted member, among others
        raise _damaged(path, f"a member cannot be read ({exc}).") from exc
    try:
        manifest = json.loads(members.pop("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise _damaged(path, "it has no readable manifest.json.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(path, f"its manifest does not say format {FORMAT!r}.")
    if manifest.get("version") != VERSION:
        raise _damaged(
            path,
            f"it is format version {manifest.get('version')!r}; this skfairal "
            f"reads version {VERSION}.",
        )
    digests = manifest.get("sha256")
    if not isinstance(digests, dict) or set(digests) != set(members):
        raise _damaged(path, "its members do not match its manifest.")
    bad = [n for n, d in digests.items() if hashlib.sha256(members[n]).hexdigest() != d]
    if bad:
        raise _damaged(path, f"members {bad} do not match their checksums.")
    try:
        parts = {}
        for name, data in members.items():
            if name.startswith("parts/") and name.endswith(".npz"):
                parts[name] = decode_frame(data)
            elif name.startswith("parts/") and name.endswith(".pt"):
                # Weights, read (weights_only) where they are put back.
                parts[name] = data
        frames = {
            name[len("frames/") : -len(".npz")]: decode_frame(data)
            for name, data in members.items()
            if name.startswith("frames/")
        }
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise _damaged(path, f"a stored table cannot be decoded ({exc}).") from exc
    objects = {}
    for name, data in members.items():
        if not name.startswith("objects/"):
            continue
        try:
            found = skops_io.get_untrusted_types(data=data)
        except Exception as exc:
            raise _damaged(path, f"{name} cannot be read ({exc}).") from exc
        refused = sorted(
            t for t in found if t not in extra and not _is_trusted_by_default(t)
        )
        if refused:
            raise SessionFileError(
                f"{str(path)!r} names types that are not trusted: {refused}. Only "
                "scikit-learn's and skfairal's classes, skfairal's query "
                "strategies and the torch classes a skorch net names load by "
                "default. If you trust this file and these "
                "types, pass them as trusted=[...] (on the command line, "
                "--trust TYPE)."
            )
        try:
            loaded = skops_io.loads(data, trusted=found)
        except Exception as exc:
            raise _damaged(path, f"{name} cannot be rebuilt ({exc}).") from exc
        objects[name[len("objects/") : -len(".skops")]] = _rebuilt(path, loaded, parts)
    return manifest, frames, objects
