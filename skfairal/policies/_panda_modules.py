"""PANDA's torch pieces: the row representation, the set encoder, soft top-B.

This module imports torch; :mod:`skfairal.policies` loads it on first use.
"""

import numpy as np
import torch
from torch import nn


class RowEncoder(nn.Module):
    """Per-row representation ``phi(x)``: a two-layer perceptron."""

    def __init__(self, n_features: int, d_model: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, 2 * d_model),
            nn.ReLU(),
            nn.Linear(2 * d_model, d_model),
            nn.LayerNorm(d_model),
        )

    def forward(self, X):
        return self.net(X)


class SetEncoder(nn.Module):
    """A Transformer encoder over a set of rows: no positional encoding.

    Without positions, self-attention is permutation-equivariant: a row's
    output depends on the other rows of the set, not on their order.
    ``forward`` takes ``(n_rows, d_model)`` and returns the same shape.
    """

    def __init__(self, d_model: int, n_heads: int, n_layers: int):
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            dim_feedforward=2 * d_model,
            dropout=0.0,
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, n_layers, enable_nested_tensor=False
        )

    def forward(self, H):
        return self.encoder(H.unsqueeze(0)).squeeze(0)


class SelectionPolicy(nn.Module):
    """The policy ``pi(.; theta)``: set encoder, then one logit per row."""

    def __init__(self, d_model: int, n_heads: int, n_layers: int):
        super().__init__()
        self.encoder = SetEncoder(d_model, n_heads, n_layers)
        self.score = nn.Linear(d_model, 1)

    def forward(self, H):
        return self.score(self.encoder(H)).squeeze(-1)


def soft_top_k(scores, k: int, temperature: float, n_bisect: int = 30):
    """Relaxed top-``k`` membership: ``sigmoid((scores - t) / temperature)``.

    The threshold ``t`` is found by bisection so the memberships sum to
    ``k`` (it is treated as a constant by autograd: the gradient flows
    through the scores). As ``temperature -> 0`` this tends to the hard
    top-``k`` indicator. With Gumbel noise added to the scores it relaxes
    Gumbel-top-k sampling (Kool et al. 2019).
    """
    with torch.no_grad():
        low = scores.min() - 20 * temperature
        high = scores.max() + 20 * temperature
        for _ in range(n_bisect):
            mid = (low + high) / 2
            total = torch.sigmoid((scores - mid) / temperature).sum()
            if total > k:
                low = mid
            else:
                high = mid
        threshold = (low + high) / 2
    return torch.sigmoid((scores - threshold) / temperature)


def gumbel_noise(shape, generator):
    uniform = torch.rand(shape, generator=generator).clamp_(1e-10, 1 - 1e-10)
    return -torch.log(-torch.log(uniform))


def soft_group_disparity(proba_pos, y, group_codes, n_groups: int, constraint: str):
    """Differentiable disparity from probabilities instead of hard predictions.

    ``demographic_parity``: the spread (max - min) of the groups' mean
    probability of the positive class; ``error_rate_balance``: the spread of
    the groups' mean probability of the wrong class. Groups without rows
    are left out.
    """
    if constraint == "demographic_parity":
        values = proba_pos
    else:
        values = torch.where(y == 1, 1 - proba_pos, proba_pos)
    one_hot = nn.functional.one_hot(group_codes, n_groups).to(values.dtype)
    counts = one_hot.sum(0)
    means = (one_hot * values[:, None]).sum(0) / counts.clamp(min=1)
    means = means[counts > 0]
    return means.max() - means.min()


def hard_group_disparity(pred, y, group_codes, constraint: str) -> float:
    """The same spread from hard predictions: the package's metric itself."""
    from ..metrics import demographic_parity_difference, error_rate_balance_difference

    metric = (
        demographic_parity_difference
        if constraint == "demographic_parity"
        else error_rate_balance_difference
    )
    pred, y, group_codes = (np.asarray(a) for a in (pred, y, group_codes))
    if len(np.unique(group_codes)) < 2:
        return 0.0  # a meta-task whose validation rows hold one group
    return float(metric(y, pred, sensitive_features=group_codes))


def content_order(H: np.ndarray) -> np.ndarray:
    """An order of the rows that depends on their content only.

    Chunks of a large pool are formed in this order, so which rows share a
    chunk, and hence the selection, does not depend on the pool's order.
    The rows are sorted along one fixed direction of the representation:
    one sort (a lexicographic sort over all ``d_model`` columns took a
    third of a query's time at 1e5 rows). Equal projections -- exact
    duplicate rows, in practice -- keep their relative order, as in a
    stable lexicographic sort.
    """
    direction = np.random.RandomState(0).normal(size=H.shape[1])
    return np.argsort(np.asarray(H, dtype=np.float64) @ direction, kind="stable")
