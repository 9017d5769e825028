"""Names of the query strategies, so ``query_strategy="margin"`` works."""

from collections.abc import Callable

from ._constrained_margin import ConstrainedMarginSampling
from ._dfa2l import DFA2LSampling
from ._facagen import FACAGENSampling
from ._fal import FALSampling
from ._fal_cur import FALCURSampling
from ._falcon import FalconSampling
from ._fis import FISSampling
from ._group_aware import GroupAwareRandomSampling
from ._min_max import MinMaxSampling
from ._panda import PANDASampling
from ._random import random_sampling
from ._uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling

# A class is instantiated with its defaults on lookup, so no state is shared
# between learners (PANDASampling imports torch only when it meta-trains).
_STRATEGIES: dict[str, Callable | type] = {
    "random": random_sampling,
    "uncertainty": uncertainty_sampling,
    "margin": margin_sampling,
    "entropy": entropy_sampling,
    "group_aware_random": GroupAwareRandomSampling,
    "fal": FALSampling,
    "fal_cur": FALCURSampling,
    "d_fa2l": DFA2LSampling,
    "facagen": FACAGENSampling,
    "falcon": FalconSampling,
    "fis": FISSampling,
    "min_max": MinMaxSampling,
    "panda": PANDASampling,
    "constrained_margin": ConstrainedMarginSampling,
}

_BUILTIN = frozenset(_STRATEGIES)


def register_strategy(name: str, strategy: Callable | type) -> None:
    """Make ``strategy`` available as ``query_strategy=name``.

    Parameters
    ----------
    name : str
        The name; an existing name is an error.
    strategy : callable or class
        A strategy function, or a strategy class (instantiated with its
        default parameters at every lookup).

    Examples
    --------
    >>> from skfairal.query import (
    ...     available_strategies,
    ...     random_sampling,
    ...     register_strategy,
    ...     unregister_strategy,
    ... )
    >>> register_strategy("my_random", random_sampling)
    >>> "my_random" in available_strategies()
    True
    >>> unregister_strategy("my_random")
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}.")
    if name in _STRATEGIES:
        raise ValueError(f"a query strategy named {name!r} is already registered.")
    if not callable(strategy):
        raise TypeError(f"strategy must be callable, got {strategy!r}.")
    _STRATEGIES[name] = strategy


def unregister_strategy(name: str) -> None:
    """Remove a strategy added by :func:`register_strategy`.

    Examples
    --------
    >>> from skfairal.query import register_strategy, unregister_strategy
    >>> from skfairal.query import random_sampling
    >>> register_strategy("tmp", random_sampling)
    >>> unregister_strategy("tmp")
    """
    if name in _BUILTIN:
        raise ValueError(f"{name!r} is a built-in strategy and cannot be removed.")
    if name not in _STRATEGIES:
        raise ValueError(f"no query strategy named {name!r} is registered.")
    del _STRATEGIES[name]


def available_strategies() -> list[str]:
    """Names accepted by ``query_strategy``, sorted.

    Examples
    --------
    >>> from skfairal.query import available_strategies
    >>> {"entropy", "margin", "random"} <= set(available_strategies())
    True
    """
    return sorted(_STRATEGIES)


def get_strategy(query_strategy) -> Callable:
    """Resolve a name or a callable to a strategy callable.

    Examples
    --------
    >>> from skfairal.query import get_strategy
    >>> get_strategy("entropy").__name__
    'entropy_sampling'
    """
    if isinstance(query_strategy, str):
        try:
            strategy = _STRATEGIES[query_strategy]
        except KeyError:
            raise ValueError(
                f"query_strategy={query_strategy!r} is not a known strategy; choose "
                f"one of {available_strategies()} or pass a callable."
            ) from None
        return strategy() if isinstance(strategy, type) else strategy
    if isinstance(query_strategy, type):
        raise TypeError(
            f"query_strategy={query_strategy.__name__} is a class; pass an instance, "
            f"{query_strategy.__name__}(), so its parameters can be tuned."
        )
    if callable(query_strategy):
        return query_strategy
    raise TypeError(
        f"query_strategy must be a strategy name or a callable, got {query_strategy!r}."
    )
