"""Torch parts of a session's learner, stored as parameters and weights only.

A skorch net is stored as its class, its constructor parameters (classes by
name, plain values) and, once initialised, its module's ``state_dict``; it is
rebuilt by constructing the net, initialising it and loading the weights
with ``torch.load(weights_only=True)``. A fitted PANDA policy goes through
its own weights-only file (:meth:`~skfairal.policies.PANDAPolicy.save`).
"""

import io

# Classes of torch and skorch that a net's parameters name (its criterion,
# optimizer, data loader, dataset, validation split): constructed by skorch
# with plain values, they run no code of the file's choosing. skorch's
# callbacks are not among them: Checkpoint writes files where it is told.
TRUSTED_TORCH_MODULES = ("torch.nn.modules.", "torch.optim.", "torch.utils.data.")
TRUSTED_SKORCH_TYPES = frozenset(
    {
        "skorch.net.NeuralNet",
        "skorch.classifier.NeuralNetClassifier",
        "skorch.classifier.NeuralNetBinaryClassifier",
        "skorch.dataset.Dataset",
        "skorch.dataset.ValidSplit",
    }
)


class SkorchNetSpec:
    """A skorch net as its class, parameters and the key of its weights."""

    def __init__(self, cls: type, params: dict, weights: str | None):
        self.cls = cls
        self.params = params
        self.weights = weights


def is_skorch_net(obj) -> bool:
    cls = type(obj)
    return cls.__module__.startswith("skorch.") and hasattr(obj, "initialize")


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
    params = detach(net.get_params(deep=False))
    weights = None
    if getattr(net, "initialized_", False):
        weights = f"parts/{len(parts)}.weights.pt"
        parts[weights] = torch_bytes(net.module_.state_dict())
    return SkorchNetSpec(type(net), params, weights)


def rebuild_skorch_net(spec: SkorchNetSpec, raw_parts: dict):
    """The net of ``spec``, initialised with its weights when it had some."""
    import torch

    net = spec.cls(**spec.params)
    if spec.weights is not None:
        net.initialize()
        state = torch.load(
            io.BytesIO(raw_parts[spec.weights]), weights_only=True, map_location="cpu"
        )
        net.module_.load_state_dict(state)
    return net


def load_panda_policy(data: bytes):
    from ..policies import PANDAPolicy

    return PANDAPolicy.load(io.BytesIO(data))
