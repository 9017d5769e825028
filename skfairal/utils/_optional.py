"""Import of optional or heavy dependencies at the point of use."""

from importlib import import_module
from types import ModuleType

# pip names differ from import names for some packages.
_PIP_NAMES = {"ot": "POT", "sklearn": "scikit-learn"}


def import_optional(name: str, *, purpose: str, extra: str | None = None) -> ModuleType:
    """Import ``name``, or raise an ImportError that says how to get it.

    Parameters
    ----------
    name : str
        Module to import, for example ``"pandas"`` or ``"ot"``.
    purpose : str
        What the caller needs it for; quoted in the error message.
    extra : str, default=None
        The skfairal extra that installs it, if any.

    Returns
    -------
    module : module
        The imported module.

    Examples
    --------
    >>> from skfairal.utils import import_optional
    >>> np = import_optional("numpy", purpose="arrays")
    >>> np.__name__
    'numpy'
    """
    try:
        return import_module(name)
    except ImportError as exc:
        pip_name = _PIP_NAMES.get(name, name)
        hint = f"pip install {pip_name}"
        if extra is not None:
            hint += f"  (or: pip install 'skfairal[{extra}]')"
        raise ImportError(
            f"{purpose} requires {pip_name}, which is not installed: {hint}"
        ) from exc
