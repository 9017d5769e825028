"""The active-learning meta-estimator."""

from ._classifier import FairActiveClassifier

__all__ = ["FairActiveClassifier"]
