"""Query strategies: which pool rows to label next.

Every strategy is a callable
``strategy(learner, X_pool, n_instances=1, *, sensitive_features=None,
random_state=None)`` returning unique row indices into ``X_pool``, best first.
A strategy computes a utility per row; :func:`skfairal.utils.select_top_k`
picks the best with seeded tie-breaking.

Two optional hooks, read by :class:`~skfairal.FairActiveClassifier`:

- ``_keeps_run_state = True`` (a class attribute): the strategy keeps state
  across the rounds of one run (Falcon's bandits), so the learner works on a
  ``clone`` made at fit (``query_strategy_``).
- ``usable_rows(learner, y, *, sensitive_features, n_postponed)``: given the
  class codes and groups of the rows waiting to be trained on (those
  postponed earlier, then the newly labeled ones), return a boolean mask of
  the rows to train on now; the others stay in ``X_postponed_`` (Falcon's
  trial and error).
"""

from ._dfa2l import DFA2LSampling, group_disagreement
from ._facagen import FACAGENSampling
from ._fal import FALSampling
from ._falcon import FalconSampling, falcon_targets
from ._group_aware import GroupAwareRandomSampling, group_aware_random_sampling
from ._min_max import MinMaxSampling
from ._modal import to_modal
from ._random import random_sampling
from ._registry import (
    available_strategies,
    get_strategy,
    register_strategy,
    unregister_strategy,
)
from ._uncertainty import (
    entropy_sampling,
    entropy_utility,
    margin_sampling,
    margin_utility,
    uncertainty_sampling,
    uncertainty_utility,
)

__all__ = [
    "DFA2LSampling",
    "FACAGENSampling",
    "FALSampling",
    "FalconSampling",
    "GroupAwareRandomSampling",
    "MinMaxSampling",
    "available_strategies",
    "entropy_sampling",
    "entropy_utility",
    "falcon_targets",
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
