"""skorch glue: torch modules as scikit-learn classifiers (imported lazily).

:func:`is_torch_estimator` is light; :func:`wrap_torch_estimator`,
:class:`TorchClassifier` and :class:`MLPModule` import torch and skorch on
first access, so ``import skfairal.neural`` stays fast.
"""

from ._detect import is_torch_estimator

__all__ = [
    "MLPModule",
    "TorchClassifier",
    "is_torch_estimator",
    "seeded_torch",
    "wrap_torch_estimator",
]

# Names that import torch and skorch, and the private module holding each.
_LAZY = {
    "MLPModule": "_modules",
    "TorchClassifier": "_wrap",
    "seeded_torch": "_wrap",
    "wrap_torch_estimator": "_wrap",
}


def __getattr__(name):
    # The wrapper imports torch and skorch; only load them when asked.
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
