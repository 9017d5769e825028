"""Shared helpers: validation of sensitive features and optional imports."""

from ._optional import import_optional
from ._validation import GroupEncoding, check_sensitive_features

__all__ = ["GroupEncoding", "check_sensitive_features", "import_optional"]
