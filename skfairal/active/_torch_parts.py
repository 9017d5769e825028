"""Torch parts of a session's learner, stored as parameters and weights only.

A skorch net is stored as its class, its constructor parameters (classes by
name, plain values) and, once initialised, its module's ``state_dict``; it is
rebuilt by constructing the net, initialising it and loading the weights
with ``torch.load(weights_only=True)``. A fitted PANDA policy goes through
its own weights-only file (:meth:`~skfairal.policies.PANDAPolicy.save`).
"""

import io
import sys

# Classes of torch and skorch that a net's parameters name (its criterion,
# optimizer, data loader, dataset, validation split, the callbacks that only
# score, time or schedule): constructed with plain values, they run no code
# of the file's choosing. Checkpoint and the other callbacks that write or
# read files are not among them.
TRUSTED_TORCH_MODULES = ("torch.nn.modules.", "torch.optim.", "torch.utils.data.")
TRUSTED_SKORCH_TYPES = frozenset(
    {
        "skorch.net.NeuralNet",
        "skorch.classifier.NeuralNetClassifier",
        "skorch.classifier.NeuralNetBinaryClassifier",
        "skorch.dataset.Dataset",
        "skorch.dataset.ValidSplit",
        "skorch.callbacks.scoring.PassthroughScoring",
        "skorch.callbacks.scoring.EpochScoring",
        "skorch.callbacks.scoring.BatchScoring",
        "skorch.callbacks.lr_scheduler.LRScheduler",
        "skorch.callbacks.regularization.GradientNormClipping",
        "skorch.callbacks.logging.EpochTimer",
        "skorch.callbacks.logging.PrintLog",
        "skorch.callbacks.training.EarlyStopping",
    }
)


class SkorchNetSpec:
    """A skorch net as its class, parameters and the key of its weights."""

    def __init__(self, cls: type, params: dict, weights: str | None):
        self.cls = cls
        self.params = params
        self.weights = weights


def is_skorch_net(obj) -> bool:
    """A skorch net, or a subclass (AdversarialEncoder's)."""
    skorch = sys.modules.get("skorch")
    return skorch is not None and isinstance(obj, skorch.NeuralNet)


def is_panda_policy(obj) -> bool:
    """A fitted PANDA policy (an unfitted one is a plain estimator)."""
    # Checked by name: importing the policies (and torch) only to save a
    # session that holds none would cost a second.
    cls = type(obj)
    return (
        cls.__name__ == "PANDAPolicy"
        and cls.__module__.startswith("skfairal.policies")
        and hasattr(obj, "policy_")
    )


def torch_bytes(state) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def skorch_spec(net, parts: dict, detach) -> SkorchNetSpec:
    """The spec of ``net``; its weights are added to ``parts``."""
    params = net.get_params(deep=False)
    if isinstance(params.get("callbacks"), list):
        # As given, unfitted: a trained callback holds its optimizer's state
        # (an LR scheduler), which the rebuilt net makes anew.
        params["callbacks"] = [_unfitted(c) for c in params["callbacks"]]
    params = detach(params)
    weights = None
    if getattr(net, "initialized_", False):
        # Every module and criterion the net registered (a subclass may
        # register more than ``module``).
        names = [*net._modules, *net._criteria]
        weights = f"parts/{len(parts)}.weights.pt"
        parts[weights] = torch_bytes(
            {name: getattr(net, f"{name}_").state_dict() for name in names}
        )
    return SkorchNetSpec(type(net), params, weights)


def _unfitted(callback):
    from sklearn.base import clone

    if isinstance(callback, tuple):
        name, callback = callback
        return name, clone(callback, safe=False)
    return clone(callback, safe=False)


def rebuild_skorch_net(spec: SkorchNetSpec, raw_parts: dict):
    """The net of ``spec``, initialised with its weights when it had some."""
    import torch

    net = spec.cls(**spec.params)
    if spec.weights is not None:
        net.initialize()
        state = torch.load(
            io.BytesIO(raw_parts[spec.weights]), weights_only=True, map_location="cpu"
        )
        for name, module_state in state.items():
            getattr(net, f"{name}_").load_state_dict(module_state)
    return net


def load_panda_policy(data: bytes):
    from ..policies import PANDAPolicy

    return PANDAPolicy.load(io.BytesIO(data))
