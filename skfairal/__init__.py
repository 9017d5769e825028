"""skfairal: fairness-aware active learning for the scikit-learn world.

Submodules
----------
active
    :class:`FairActiveClassifier`, the active-learning meta-estimator.
query
    Query strategies and their registry.
datasets
    Real datasets (Adult, COMPAS, 1000 Genomes) and synthetic biased problems.
metrics
    Group fairness metrics with fairlearn-shaped signatures.
policies
    PANDA's meta-learned selection policy, and the bandits (EXP3, UCB1,
    Thompson sampling) and fairness-weight controllers behind FACA-GEN.
representation
    Deconfounded representations: the ancestry residualiser and an
    adversarial torch encoder.
neural
    Torch modules as scikit-learn classifiers, through skorch.
utils
    Validation of sensitive features, seeded top-k selection, chunked scoring.

torch, skorch and POT are imported only inside the functions that need them,
so ``import skfairal`` stays fast.
"""

from importlib import import_module

__version__ = "0.1.0.dev0"

_SUBMODULES = (
    "active",
    "datasets",
    "metrics",
    "neural",
    "policies",
    "query",
    "representation",
    "utils",
)
_OBJECTS = {"FairActiveClassifier": "active"}

__all__ = ["__version__", *_OBJECTS, *_SUBMODULES]


def __getattr__(name):
    # Submodules load on first access so ``import skfairal`` costs almost nothing.
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    if name in _OBJECTS:
        return getattr(import_module(f"{__name__}.{_OBJECTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
