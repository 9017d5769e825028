"""Recognise torch modules and skorch nets without importing torch."""


def _module_names(cls: type) -> list[str]:
    return [getattr(base, "__module__", "") or "" for base in cls.__mro__]


def is_torch_estimator(estimator) -> bool:
    """Whether ``estimator`` is a torch module (class or instance) or a skorch net.

    Looks at the class hierarchy's module names only, so torch is never
    imported here.

    Parameters
    ----------
    estimator : object
        Anything passed as a base estimator.

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfairal.neural import is_torch_estimator
    >>> is_torch_estimator(LogisticRegression())
    False
    """
    cls = estimator if isinstance(estimator, type) else type(estimator)
    return any(
        name == "torch.nn.modules.module" or name.startswith("skorch.")
        for name in _module_names(cls)
    )
