"""Shared helpers: validation of sensitive features, top-k selection, imports."""

from ._optional import import_optional
from ._selection import select_top_k
from ._validation import GroupEncoding, check_sensitive_features

__all__ = [
    "GroupEncoding",
    "check_sensitive_features",
    "import_optional",
    "select_top_k",
]
