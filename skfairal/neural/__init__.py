"""skorch glue: torch modules as scikit-learn classifiers (imported lazily)."""

from ._detect import is_torch_estimator

__all__ = ["is_torch_estimator", "wrap_torch_estimator"]


def __getattr__(name):
    # The wrapper imports torch and skorch; only load them when asked.
    if name == "wrap_torch_estimator":
        from ._wrap import wrap_torch_estimator

        return wrap_torch_estimator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
