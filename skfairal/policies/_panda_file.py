"""Saving and loading a fitted PANDA policy: tensors and plain values only."""

import pickle
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

# Every parameter but the seed (a RandomState cannot be stored weights-only):
# the loaded policy selects and builds its classifier (inner_steps, inner_lr)
# as the saved one did.
_SAVED_PARAMS = (
    "budget", "constraint", "threshold", "inner", "C", "fit_intercept",
    "class_weight", "d_model", "n_heads", "n_layers", "n_inducing", "inner_steps",
    "inner_lr", "meta_lr", "n_meta_iter", "prox_steps", "temperature",
    "pretrain_epochs", "meta_pool_size", "device", "verbose",
)  # fmt: skip
# What reading a file that is not a saved policy raises: not a torch archive
# (RuntimeError), cut short (EOFError, OSError), not weights-only content, or
# content of another shape (missing keys, weights of other sizes).
_UNREADABLE = (
    RuntimeError, OSError, EOFError, pickle.UnpicklingError, LookupError, TypeError,
    ValueError, AttributeError,
)  # fmt: skip


class PolicyFileMixin:
    """:meth:`save` and :meth:`load` for :class:`PANDAPolicy`."""

    def save(self, path) -> None:
        """Write the fitted policy to ``path`` (tensors and plain values only).

        Load it with :meth:`load`, which reads it with
        ``torch.load(weights_only=True)``: no arbitrary object is unpickled.
        The seed is not saved: a loaded policy has ``random_state=None``.

        Parameters
        ----------
        path : str, path-like or binary file object
            The file to write, or an open binary file (a ``BytesIO``, say).
        """
        check_is_fitted(self)
        state = {
            "params": {k: getattr(self, k) for k in _SAVED_PARAMS},
            "n_features_in": self.n_features_in_,
            "classes": self.classes_.tolist(),
            "mean": torch.as_tensor(self.mean_),
            "scale": torch.as_tensor(self.scale_),
            "row_encoder": self.row_encoder_.state_dict(),
            "head": self.head_.state_dict(),
            "policy": self.policy_.state_dict(),
        }
        torch.save(state, path if hasattr(path, "write") else Path(path))

    @classmethod
    def load(cls, path):
        """A fitted policy from a file written by :meth:`save`.

        Parameters
        ----------
        path : str, path-like or binary file object
            A file written by :meth:`save`, or an open binary file holding one.

        Returns
        -------
        policy : PANDAPolicy
            Fitted, on the CPU.

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        ValueError
            If the file is not a policy written by :meth:`save` (another
            file, or one cut short or damaged).

        Examples
        --------
        >>> import tempfile, os
        >>> from skfairal.datasets import make_biased_classification
        >>> from skfairal.policies import PANDAPolicy
        >>> X, y, g = make_biased_classification(200, random_state=0)
        >>> policy = PANDAPolicy(
        ...     budget=10, n_meta_iter=2, pretrain_epochs=1, random_state=0
        ... ).fit(X, y, sensitive_features=g)
        >>> path = os.path.join(tempfile.mkdtemp(), "panda.pt")
        >>> policy.save(path)
        >>> again = PANDAPolicy.load(path)
        >>> bool(
        ...     (
        ...         again.select(X, random_state=0) == policy.select(X, random_state=0)
        ...     ).all()
        ... )
        True
        """
        if hasattr(path, "read"):
            return cls._read(path, repr(path))
        path = Path(path)
        # Opened here so that a missing or unreadable file keeps its own error;
        # whatever fails after that means the content is not a saved policy.
        with open(path, "rb") as file:
            return cls._read(file, repr(str(path)))

    @classmethod
    def _read(cls, file, name: str):
        try:
            state = torch.load(file, weights_only=True, map_location="cpu")
            return cls._from_state(state)
        except _UNREADABLE as exc:
            raise ValueError(
                f"{name} is not a saved PANDAPolicy: reading it as a file "
                f"written by PANDAPolicy.save failed ({type(exc).__name__}); it "
                "may be cut short, damaged or another kind of file."
            ) from exc

    @classmethod
    def _from_state(cls, state):
        policy = cls(**state["params"])
        policy.n_features_in_ = int(state["n_features_in"])
        policy.classes_ = np.asarray(state["classes"])
        policy.mean_ = state["mean"].numpy()
        policy.scale_ = state["scale"].numpy()
        policy._build(torch.device("cpu"))
        policy.row_encoder_.load_state_dict(state["row_encoder"])
        policy.head_.load_state_dict(state["head"])
        policy.policy_.load_state_dict(state["policy"])
        for module in (policy.row_encoder_, policy.head_, policy.policy_):
            module.eval().requires_grad_(False)
        return policy
