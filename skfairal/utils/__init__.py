"""Shared helpers: sensitive features, top-k selection, row chunks, imports."""

from ._chunks import chunk_slices, map_row_chunks
from ._optional import import_optional
from ._rows import concat_rows, indexable_rows, take_rows
from ._scaling import column_mean_and_scale
from ._selection import select_top_k
from ._validation import (
    GroupEncoding,
    check_sensitive_features,
    is_missing,
    sensitive_features_array,
    shared_group_codes,
)

__all__ = [
    "GroupEncoding",
    "check_sensitive_features",
    "chunk_slices",
    "column_mean_and_scale",
    "concat_rows",
    "import_optional",
    "indexable_rows",
    "is_missing",
    "map_row_chunks",
    "select_top_k",
    "sensitive_features_array",
    "shared_group_codes",
    "take_rows",
]
