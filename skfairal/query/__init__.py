"""Query strategies: which pool rows to label next.

Every strategy is a callable
``strategy(learner, X_pool, n_instances=1, *, sensitive_features=None,
random_state=None)`` returning unique row indices into ``X_pool``, best first.
skfairal's strategies derive from :class:`BaseQueryStrategy`, which validates
the call once, resolves its seed once and hands the subclass a
:class:`LearnerView` of the learner (with the round's :class:`QueryContext`):
the written contract of what a strategy may read. A strategy computes a
utility per row; :func:`skfairal.utils.select_top_k` picks the best with
seeded tie-breaking.
"""

from ._base import BaseQueryStrategy, QueryCostWarning
from ._constrained_margin import ConstrainedMarginSampling
from ._dfa2l import DFA2LSampling, group_disagreement
from ._facagen import FACAGENSampling
from ._fal import FALSampling
from ._fal_cur import FALCURSampling
from ._falcon import FalconSampling, falcon_targets
from ._fis import FISSampling
from ._group_aware import GroupAwareRandomSampling, group_aware_random_sampling
from ._influence import LogisticInfluence
from ._min_max import MinMaxSampling
from ._modal import to_modal
from ._panda import PANDASampling
from ._random import RandomSampling, random_sampling
from ._registry import (
    available_strategies,
    get_strategy,
    register_strategy,
    unregister_strategy,
)
from ._uncertainty import (
    UncertaintySampling,
    entropy_sampling,
    entropy_utility,
    margin_sampling,
    margin_utility,
    uncertainty_sampling,
    uncertainty_utility,
)
from ._view import LearnerView, QueryContext, feature_space, final_estimator

__all__ = [
    "BaseQueryStrategy",
    "ConstrainedMarginSampling",
    "DFA2LSampling",
    "FACAGENSampling",
    "FALCURSampling",
    "FALSampling",
    "FISSampling",
    "FalconSampling",
    "GroupAwareRandomSampling",
    "LearnerView",
    "LogisticInfluence",
    "MinMaxSampling",
    "PANDASampling",
    "QueryContext",
    "QueryCostWarning",
    "RandomSampling",
    "UncertaintySampling",
    "available_strategies",
    "entropy_sampling",
    "entropy_utility",
    "falcon_targets",
    "feature_space",
    "final_estimator",
    "get_strategy",
    "group_aware_random_sampling",
    "group_disagreement",
    "margin_sampling",
    "margin_utility",
    "random_sampling",
    "register_strategy",
    "to_modal",
    "uncertainty_sampling",
    "uncertainty_utility",
    "unregister_strategy",
]
