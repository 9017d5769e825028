"""Group fairness metrics with fairlearn-shaped signatures.

Every metric is called as ``metric(y_true, y_pred, *, sensitive_features, ...)``
and returns a float; any number of groups is allowed, and several sensitive
columns define intersectional groups.
"""

from ._base import group_rate_gap
from ._disparity import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    error_rate_balance_difference,
)
from ._report import GroupReport, group_report
from ._scorer import make_fairness_scorer
from ._transport import optimal_transport_distance

__all__ = [
    "GroupReport",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "error_rate_balance_difference",
    "group_rate_gap",
    "group_report",
    "make_fairness_scorer",
    "optimal_transport_distance",
]
