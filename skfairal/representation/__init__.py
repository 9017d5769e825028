"""Representations that carry no more about a confounder than the causes do.

:class:`AncestryResidualizer` removes the leading principal components, the
genome-wide association studies' correction for population structure.
:class:`AdversarialEncoder` learns a neural representation against an
adversary of the group (gradient reversal); it imports torch and skorch on
first access, so ``import skfairal.representation`` stays fast.
"""

from ._residualize import AncestryResidualizer

__all__ = ["AdversarialEncoder", "AncestryResidualizer"]


def __getattr__(name):
    # The adversarial encoder imports torch and skorch; only load them when asked.
    if name == "AdversarialEncoder":
        from ._adversarial import AdversarialEncoder

        return AdversarialEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
