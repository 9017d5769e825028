"""Registry, location and SHA-256 verification of dataset files."""

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "COMPAS_FILENAME",
    "COMPAS_SHA256",
    "EMBEDDED_FILES",
    "ChecksumMismatchError",
    "DatasetFileError",
    "DatasetNotFoundError",
    "read_embedded",
    "read_verified",
]

# Looked up at call time (not bound at import) so tests can point it elsewhere.
DATA_DIR = Path(__file__).resolve().parent / "data"
DESCR_DIR = Path(__file__).resolve().parent / "descr"

# SHA-256 of every file shipped in ``data/``; data/README.md maps each one to the
# checksum of the public original it was made from.
EMBEDDED_FILES = {
    "adult.data.gz": "171e93e0be014947c678f8e0fd17485ec99e8c273d1a7a0b506bb9139e95800b",
    "adult.test.gz": "88304f2ff4ca392efdb76452aa377e96dde27622ff90070ed0913c464bb7aa32",
    "GRCH37.sites.bin.gz": (
        "61cf27b489292bc8c5670199845f690667b64bfa58035aa3a67d4474c7c1e0ef"
    ),
    "GRCH37.sites.gz": (
        "88551e66f809edc33f6a3b7957b1e61c9cf80ae96501d11411eb74817f3c252f"
    ),
    "integrated_call_samples_v3.20130502.ALL.panel.gz": (
        "94bf97e96deffc87bfc17acff901f1b0f4369a023c58ec1192929bcb54a72c2a"
    ),
    "LICENSE.peddy": "b60a9efdae9f210701e357c747fdc3c492fa637c49ed462a73e26c40ac68e34d",
}

# COMPAS is never shipped (no license); the user's copy must be ProPublica's file.
COMPAS_FILENAME = "compas-scores-two-years.csv"
COMPAS_SHA256 = "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"

_REINSTALL_HINT = (
    "The skfairal installation is incomplete or damaged: reinstall it "
    "(pip install --force-reinstall --no-deps skfairal)."
)


class DatasetFileError(OSError):
    """A dataset file is missing or is not the file it should be.

    The message names the file, where it was looked for and what to do.

    Parameters
    ----------
    message : str
        The full explanation.
    filename : str
        Name of the file concerned, kept in the ``filename`` attribute (as
        every :class:`OSError` keeps it).
    searched : iterable of pathlib.Path, default=()
        The paths that were tried, in order.

    Attributes
    ----------
    searched : list of pathlib.Path
        The paths that were tried, in order.

    Examples
    --------
    >>> from pathlib import Path
    >>> from skfairal.datasets import DatasetFileError
    >>> error = DatasetFileError(
    ...     "x.csv not found in /data", filename="x.csv", searched=[Path("/data/x.csv")]
    ... )
    >>> isinstance(error, OSError), str(error), error.filename
    (True, 'x.csv not found in /data', 'x.csv')
    """

    def __init__(self, message: str, *, filename: str, searched: Iterable[Path] = ()):
        super().__init__(message)
        self.filename = filename
        self.searched = list(searched)

    def __str__(self) -> str:
        # OSError.__str__ would reformat the message once filename is set.
        return str(self.args[0])


class DatasetNotFoundError(DatasetFileError, FileNotFoundError):
    """A dataset file was not found in any of the places searched.

    Examples
    --------
    >>> from skfairal.datasets import DatasetNotFoundError
    >>> issubclass(DatasetNotFoundError, FileNotFoundError)
    True
    """


class ChecksumMismatchError(DatasetFileError):
    """A dataset file exists but its SHA-256 differs from the expected one.

    Attributes
    ----------
    expected : str
        The SHA-256 the file should have.
    actual : str
        The SHA-256 it has.

    Examples
    --------
    >>> from skfairal.datasets import ChecksumMismatchError, DatasetFileError
    >>> issubclass(ChecksumMismatchError, DatasetFileError)
    True
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str,
        searched: Iterable[Path] = (),
        expected: str,
        actual: str,
    ):
        super().__init__(message, filename=filename, searched=searched)
        self.expected = expected
        self.actual = actual


def read_verified(path: Path, sha256: str, *, hint: str) -> bytes:
    """Read ``path`` and check its SHA-256; ``hint`` says how to fix a bad file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DatasetNotFoundError(
            f"Dataset file {path.name!r} not found in {path.parent}. {hint}",
            filename=path.name,
            searched=[path],
        ) from exc
    # Hash the very bytes that get parsed, so nothing can change in between.
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise ChecksumMismatchError(
            f"Dataset file {path.name!r} in {path.parent} has SHA-256 {actual}, "
            f"expected {sha256}: it is corrupted or is not the original file. {hint}",
            filename=path.name,
            searched=[path],
            expected=sha256,
            actual=actual,
        )
    return raw


def read_embedded(filename: str) -> bytes:
    """Return the verified bytes of a file shipped in ``skfairal/datasets/data``."""
    try:
        sha256 = EMBEDDED_FILES[filename]
    except KeyError:
        raise KeyError(f"{filename!r} is not an embedded dataset file.") from None
    return read_verified(DATA_DIR / filename, sha256, hint=_REINSTALL_HINT)


def read_descr(name: str) -> str:
    """Return the DESCR text of dataset ``name`` (``descr/<name>.rst``)."""
    return (DESCR_DIR / f"{name}.rst").read_text(encoding="utf-8")


def categorical_column(
    pd, values: Sequence[str], *, missing: str, categories: Sequence[str] | None = None
):
    """A pandas Categorical of strings, NaN where a value equals ``missing``.

    Categories default to the sorted distinct values, so that subsets (train
    and test rows, say) share one encoding.
    """
    # Hash-based factorize: several times faster than sorting the strings.
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    distinct = distinct.tolist()
    if categories is None:
        categories = sorted(v for v in distinct if v != missing)
    position = {v: i for i, v in enumerate(categories)}
    # The trailing -1 keeps factorize's own -1 (None, NaN) missing.
    lookup = np.array([*(position.get(v, -1) for v in distinct), -1], dtype=np.int64)
    return pd.Categorical.from_codes(lookup[codes], categories=list(categories))


def object_matrix(columns: Sequence[Sequence]) -> np.ndarray:
    """Stack equally long columns into a 2-D object array, one column each."""
    out = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        # Through an object array so that no str/float mix is coerced to str.
        out[:, j] = np.asarray(column, dtype=object)
    return out
