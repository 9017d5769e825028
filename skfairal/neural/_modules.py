"""Small torch modules for tabular data (this module imports torch)."""

from collections.abc import Sequence

from torch import nn


class MLPModule(nn.Module):
    """A multilayer perceptron for tabular data that returns logits.

    ``Linear -> ReLU (-> Dropout)`` for each hidden layer, then a linear layer
    with one output per class. The outputs are logits (no softmax), as
    ``torch.nn.CrossEntropyLoss`` and :func:`wrap_torch_estimator` expect.

    Parameters
    ----------
    n_features : int
        Number of input features. :func:`wrap_torch_estimator` fills it in
        from ``X`` when it is not set (also as ``module__n_features`` of a
        skorch net).
    n_classes : int, default=2
        Number of outputs; filled in the same way from the number of classes.
    hidden : sequence of int, default=(64,)
        Width of each hidden layer; empty for a linear model.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from skfairal.neural import MLPModule
    >>> module = MLPModule(n_features=5, n_classes=3, hidden=(8, 4))
    >>> module(torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int = 2,
        hidden: Sequence[int] = (64,),
        dropout: float = 0.0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Logits of shape ``(n_rows, n_classes)``."""
        return self.layers(X)
