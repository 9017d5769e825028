"""Selection policies: multi-armed bandits over query criteria.

The bandits (:class:`Exp3Bandit`, :class:`UCB1Bandit`,
:class:`ThompsonBandit`) choose among a fixed set of arms from rewards in
[0, 1]; Falcon and FACA-GEN build on them.
"""

from ._bandits import Exp3Bandit, ThompsonBandit, UCB1Bandit

__all__ = ["Exp3Bandit", "ThompsonBandit", "UCB1Bandit"]
