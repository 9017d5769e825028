"""Representations that carry no more about a confounder than the causes do.

:class:`AncestryResidualizer` removes the leading principal components, the
genome-wide association studies' correction for population structure.
"""

from ._residualize import AncestryResidualizer

__all__ = ["AncestryResidualizer"]
