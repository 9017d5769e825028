"""Selection policies: multi-armed bandits over query criteria, and PANDA.

The bandits (:class:`Exp3Bandit`, :class:`UCB1Bandit`,
:class:`ThompsonBandit`) choose among a fixed set of arms from rewards in
[0, 1]; Falcon and FACA-GEN build on them. The fairness-weight controllers
(:class:`FixedLambda`, :class:`DualAscentController`,
:class:`PolicyGradientController`) tune a weight lambda from the observed
violation of a target disparity. :class:`PANDAPolicy`, a
meta-learned Transformer selection policy, imports torch on first access, so
``import skfairal.policies`` stays fast; as a query strategy it is
:class:`skfairal.query.PANDASampling`.

These are leaf tools: nothing here imports skfairal but :mod:`skfairal.utils`.
"""

from ._bandits import Exp3Bandit, ThompsonBandit, UCB1Bandit
from ._controllers import DualAscentController, FixedLambda, PolicyGradientController
from ._few_step import FewStepLogisticRegression

__all__ = [
    "DualAscentController",
    "Exp3Bandit",
    "FewStepLogisticRegression",
    "FixedLambda",
    "PANDAPolicy",
    "PolicyGradientController",
    "ThompsonBandit",
    "UCB1Bandit",
]


def __getattr__(name):
    # PANDA imports torch; only load it when asked.
    if name == "PANDAPolicy":
        from ._panda import PANDAPolicy

        return PANDAPolicy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
