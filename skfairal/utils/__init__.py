"""Shared helpers: sensitive features, top-k selection, row chunks, imports."""

from ._chunks import chunk_slices, map_row_chunks
from ._optional import import_optional
from ._selection import select_top_k
from ._validation import GroupEncoding, check_sensitive_features

__all__ = [
    "GroupEncoding",
    "check_sensitive_features",
    "chunk_slices",
    "import_optional",
    "map_row_chunks",
    "select_top_k",
]
