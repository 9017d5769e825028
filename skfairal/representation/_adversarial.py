"""An encoder trained against an adversary of the group (imports torch, skorch)."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNet
from skorch.callbacks import LRScheduler, PassthroughScoring
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch import nn
from torch.nn import functional as F

from ..neural import seeded_torch
from ..utils import check_sensitive_features, column_mean_and_scale

# Adam moves every weight by about lr per step, so the input layer's outputs
# move in proportion to the number of features: its rate is lr scaled by
# min(1, _INPUT_LR_FEATURES / n_features). On the 1000 Genomes trait, 1e-3
# suits 2,000 SNPs and 1e-4 all 22,684: at 1e-3 there the encoder memorises
# the training rows and the group leaks into new ones (held-out ancestry
# accuracy 0.69 instead of 0.34, chance 0.26).
_INPUT_LR_FEATURES = 2000

# Rows per forward pass in transform: bounds the memory on wide inputs.
_TRANSFORM_CHUNK = 4096


class _GradientReversal(torch.autograd.Function):
    """The identity forward; ``-weight`` times the gradient backward."""

    @staticmethod
    def forward(ctx, z, weight):
        ctx.weight = weight
        return z.view_as(z)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.weight * grad, None


class _AdversarialModule(nn.Module):
    """Encoder, a linear head, and an adversary behind a gradient reversal."""

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_units: int,
        n_outputs: int,
        n_groups: int,
        adversary_weight: float,
    ):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_features, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, n_components),
        )
        # Linear, so what the head reads in the representation a linear model
        # downstream can read too.
        self.head = nn.Linear(n_components, n_outputs)
        self.adversary = (
            nn.Sequential(
                nn.Linear(n_components, hidden_units),
                nn.ReLU(),
                nn.Linear(hidden_units, n_groups),
            )
            if n_groups
            else None
        )
        self.adversary_weight = adversary_weight

    def forward(self, X):
        z = self.encoder(X)
        if self.adversary is None:
            return z, self.head(z), None
        reversed_z = _GradientReversal.apply(z, self.adversary_weight)
        return z, self.head(z), self.adversary(reversed_z)


class _AdversarialNet(NeuralNet):
    """The skorch net: the head's loss plus the adversary's, two optimizers.

    The targets come packed in one float32 array: column 0 the group codes
    (ignored without an adversary), the other columns the head's target
    (class codes or standardised values; none when the head reconstructs X).
    """

    def __init__(self, *args, task: str, adversary_steps: int, adversary_lr, **kw):
        super().__init__(*args, **kw)
        self.task = task
        self.adversary_steps = adversary_steps
        self.adversary_lr = adversary_lr

    def initialize_optimizer(self, *args, **kwargs):
        module = self.module_
        first = list(module.encoder[0].parameters())
        rest = [
            p
            for name, p in module.named_parameters()
            if not name.startswith("adversary.") and all(p is not q for q in first)
        ]
        n_features = module.encoder[0].in_features
        scale = min(1.0, _INPUT_LR_FEATURES / n_features)
        self.optimizer_ = self.optimizer(
            [{"params": first, "lr": self.lr * scale}, {"params": rest}],
            **{"lr": self.lr, **self.get_params_for("optimizer")},
        )
        if module.adversary is not None:
            # Its own optimizer: a constant rate (only the encoder's is
            # annealed) and no weight decay, which would weaken it.
            self.adversary_optimizer_ = torch.optim.AdamW(
                module.adversary.parameters(), lr=self.adversary_lr, weight_decay=0
            )
        return self

    def train_step(self, batch, **fit_params):
        module = self.module_
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi = to_tensor(Xi, device=self.device)
        yi = to_tensor(yi, device=self.device)
        if module.adversary is not None:
            # Let the adversary catch up with the encoder before it moves:
            # against a stale adversary the encoder learns to fool that
            # adversary, not to drop the group.
            groups = yi[:, 0].long()
            with torch.no_grad():
                z = module.encoder(Xi)
            for _ in range(self.adversary_steps):
                self.adversary_optimizer_.zero_grad()
                F.cross_entropy(module.adversary(z), groups).backward()
                self.adversary_optimizer_.step()
            self.adversary_optimizer_.zero_grad()
        self.optimizer_.zero_grad()
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        self.optimizer_.step()
        if module.adversary is not None:
            self.adversary_optimizer_.step()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        _, out, logits = y_pred
        y_true = to_tensor(y_true, device=self.device)
        if self.task == "classification":
            loss = F.cross_entropy(out, y_true[:, 1].long())
        elif self.task == "regression":
            loss = F.mse_loss(out, y_true[:, 1:])
        else:
            loss = F.mse_loss(out, to_tensor(X, device=self.device))
        if training:
            self.history.record_batch("head_loss", loss.item())
        if logits is not None:
            # The adversary descends on this loss; behind the reversal the
            # encoder ascends on it.
            adversary_loss = F.cross_entropy(logits, y_true[:, 0].long())
            if training:
                self.history.record_batch("adversary_loss", adversary_loss.item())
            loss = loss + adversary_loss
        return loss


class AdversarialEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """A neural representation from which an adversary cannot tell the group.

    Domain-adversarial training (Ganin & Lempitsky, *ICML* 2015; Ganin et
    al., *JMLR* 17, 2016) against a sensitive feature (Edwards & Storkey,
    *ICLR* 2016): an encoder (``Linear -> ReLU -> Linear``) maps the
    standardised features to ``n_components`` numbers; a linear head predicts
    ``y`` from them, so the target stays predictable; an adversary (a small
    MLP) predicts the group from them through a *gradient-reversal layer*,
    the identity forward and ``-adversary_weight`` times the gradient
    backward. The adversary learns to find the group; the encoder, receiving
    its reversed gradient, learns to hide it. A :class:`skorch.net.NeuralNet`
    trains them together.

    Plain gradient reversal tends to hide the group from the adversary of the
    moment while a fresh classifier still finds it (Elazar & Goldberg,
    *EMNLP* 2018). Three choices made the representation hold against a
    fresh logistic regression on held-out rows of the 1000 Genomes trait
    (undoing any one of them left the super-population predictable at 0.62
    to 0.99 accuracy instead of 0.30 to 0.34, chance 0.26):

    - the adversary takes ``adversary_steps`` extra steps on each batch, at
      its own, higher rate ``adversary_lr``, before the encoder moves, so the
      encoder faces an adversary that has caught up (two time scales);
    - the encoder's rate is cosine-annealed to 0 over ``max_epochs`` while
      the adversary's stays: late in training the encoder makes small moves
      against a strong adversary instead of circling it;
    - the input layer learns at ``lr * min(1, 2000 / n_features)``: Adam
      moves each weight by about the rate per step, so with many features the
      encoder otherwise moves so fast that it memorises the training rows
      and the group leaks into new rows.

    Parameters
    ----------
    n_components : int, default=16
        Size of the representation.
    hidden_units : int, default=64
        Width of the encoder's hidden layer and of the adversary's.
    adversary_weight : float, default=3.0
        The gradient-reversal coefficient: how hard the encoder works against
        the adversary, relative to the head's loss. 0 trains the adversary
        but leaves the encoder a plain one.
    adversary_steps : int, default=5
        Extra steps of the adversary on each batch, on the encoder's current
        output, before the joint step.
    adversary_lr : float, default=1e-2
        The adversary's learning rate (AdamW, no weight decay, not annealed).
    max_epochs : int, default=100
        Passes over the data.
    lr : float, default=1e-3
        Initial learning rate of the encoder and head (AdamW), cosine-annealed
        to 0; the input layer's is scaled as described above.
    batch_size : int, default=128
        Rows per gradient step.
    weight_decay : float, default=1e-2
        AdamW's decoupled weight decay of the encoder and head.
    random_state : int, RandomState instance or None, default=None
        Seeds torch during fit (initial weights, shuffling); torch's global
        generators are restored afterwards. ``None`` uses and advances
        torch's global state.
    device : str, default="cpu"
        Torch device of the net (``"cuda"``, say).
    verbose : int, default=0
        Prints skorch's table of per-epoch losses when positive.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net; ``net_.history[:, "head_loss"]`` and
        ``net_.history[:, "adversary_loss"]`` are the per-epoch mean losses
        (the adversary's measured after its extra steps on each batch, so
        below the entropy of the groups even when the representation holds
        nothing of them).
    mean_, scale_ : ndarray of shape (n_features,)
        Standardisation of the features (a constant feature keeps scale 1).
    groups_ : list or None
        The groups the adversary was trained on; ``None`` without one.
    classes_ : ndarray or None
        The head's classes, when ``y`` held class labels.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    AncestryResidualizer : the linear, closed-form correction used in GWAS.

    Notes
    -----
    The head learns ``y`` as given: class labels (integers included, as
    :func:`~sklearn.utils.multiclass.type_of_target` reads them) through a
    cross-entropy, real values through a squared error on standardised
    values. Without
    ``y`` the head reconstructs the standardised features (an autoencoder),
    so the representation keeps what it can of ``X`` apart from the group.
    Without ``sensitive_features`` there is no adversary and the encoder is
    a plain one: nothing is removed. In a Pipeline, pass them as
    ``step__sensitive_features=...`` with metadata routing off; with it on,
    the encoder requests ``sensitive_features`` by default.

    Fitting costs about ``6 * max_epochs * n_samples * n_features *
    hidden_units`` floating-point operations plus a fixed cost per batch: on
    1,752 rows of the 1000 Genomes matrix, about 20 s on one CPU core with
    2,092 SNPs, 45 s on two cores (60 s on one) with all 22,684.

    Examples
    --------
    >>> import numpy as np
    >>> from skfairal.representation import AdversarialEncoder
    >>> rng = np.random.RandomState(0)
    >>> group = rng.randint(2, size=300)
    >>> X = np.c_[rng.randn(300, 3), group + 0.3 * rng.randn(300)]
    >>> y = (X[:, 0] > 0).astype(int)
    >>> encoder = AdversarialEncoder(n_components=4, max_epochs=20, random_state=0)
    >>> Z = encoder.fit_transform(X, y, sensitive_features=group)
    >>> Z.shape, Z.dtype
    ((300, 4), dtype('float64'))
    """

    __metadata_request__fit = {"sensitive_features": True}

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_units": [Interval(Integral, 1, None, closed="left")],
        "adversary_weight": [Interval(Real, 0, None, closed="left")],
        "adversary_steps": [Interval(Integral, 0, None, closed="left")],
        "adversary_lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components: int = 16,
        *,
        hidden_units: int = 64,
        adversary_weight: float = 3.0,
        adversary_steps: int = 5,
        adversary_lr: float = 1e-2,
        max_epochs: int = 100,
        lr: float = 1e-3,
        batch_size: int = 128,
        weight_decay: float = 1e-2,
        random_state=None,
        device: str = "cpu",
        verbose: int = 0,
    ):
        self.n_components = n_components
        self.hidden_units = hidden_units
        self.adversary_weight = adversary_weight
        self.adversary_steps = adversary_steps
        self.adversary_lr = adversary_lr
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _standardised(self, X) -> np.ndarray:
        Z = np.empty(X.shape, dtype=np.float32)
        # Straight into float32: a float64 copy of a uint8 genotype matrix
        # would take 8 times its memory.
        np.subtract(X, self.mean_, out=Z, casting="same_kind")
        Z /= self.scale_.astype(np.float32)
        return Z

    def _head_target(self, y, n_samples: int):
        """The head's task, its number of outputs and its target columns."""
        if y is None:
            self.classes_ = None
            return "reconstruction", None, np.empty((n_samples, 0))
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        if y.shape[0] != n_samples:
            raise ValueError(
                f"y has {y.shape[0]} rows but X has {n_samples}; it needs one "
                "target per row."
            )
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind in ("binary", "multiclass"):
            self.classes_, codes = np.unique(y.ravel(), return_inverse=True)
            return "classification", len(self.classes_), codes[:, None]
        if kind in ("continuous", "continuous-multioutput"):
            self.classes_ = None
            y = y.astype(np.float64).reshape(n_samples, -1)
            mean, scale = column_mean_and_scale(y)
            y = (y - mean) / scale
            return "regression", y.shape[1], y
        raise ValueError(
            "y must hold class labels or real values (one column or several); "
            f"got y of type {kind!r}."
        )

    def _net(self, n_features: int, task: str, n_outputs: int | None):
        n_groups = 0 if self.groups_ is None else len(self.groups_)
        callbacks = [
            ("head_loss", PassthroughScoring("head_loss", on_train=True)),
            (
                "anneal",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                    T_max=self.max_epochs,
                ),
            ),
        ]
        if n_groups:
            scoring = PassthroughScoring(
                "adversary_loss", lower_is_better=False, on_train=True
            )
            callbacks.append(("adversary_loss", scoring))
        return _AdversarialNet(
            _AdversarialModule,
            module__n_features=n_features,
            module__n_components=self.n_components,
            module__hidden_units=self.hidden_units,
            module__n_outputs=n_outputs or n_features,
            module__n_groups=n_groups,
            module__adversary_weight=float(self.adversary_weight),
            task=task,
            adversary_steps=self.adversary_steps,
            adversary_lr=self.adversary_lr,
            # skorch requires a criterion; get_loss computes the losses itself.
            criterion=nn.MSELoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=None,
            callbacks=callbacks,
            device=self.device,
            verbose=self.verbose,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, sensitive_features=None):
        """Train the encoder, its head and the adversary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Class labels or real values for the head; ``None``: the head
            reconstructs the standardised ``X``.
        sensitive_features : array-like of shape (n_samples,) or \
(n_samples, n_columns), default=None
            The group of each row (several columns: their intersections), at
            least two groups; ``None``: no adversary, a plain encoder.

        Returns
        -------
        self : AdversarialEncoder
        """
        X = validate_data(self, X, dtype="numeric")
        n_samples = X.shape[0]
        if sensitive_features is None:
            self.groups_ = None
            group_codes = np.zeros(n_samples)
        else:
            encoding = check_sensitive_features(
                sensitive_features, n_samples, min_groups=2
            )
            self.groups_ = encoding.groups
            group_codes = encoding.codes
        task, n_outputs, target = self._head_target(y, n_samples)

        self.mean_, self.scale_ = column_mean_and_scale(X)
        packed = np.column_stack([group_codes, target]).astype(np.float32)
        net = self._net(X.shape[1], task, n_outputs)
        with seeded_torch(self.random_state):
            net.fit(self._standardised(X), packed)
        self.net_ = net
        return self

    def transform(self, X):
        """The representation of the rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), dtype=float64
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype="numeric", reset=False)
        encoder = self.net_.module_.encoder
        parts = [np.empty((0, self.n_components))]
        with torch.no_grad():
            for start in range(0, X.shape[0], _TRANSFORM_CHUNK):
                chunk = self._standardised(X[start : start + _TRANSFORM_CHUNK])
                z = encoder(torch.as_tensor(chunk, device=self.net_.device))
                parts.append(z.cpu().numpy())
        return np.concatenate(parts).astype(np.float64)

    @property
    def _n_features_out(self) -> int:
        # Output columns are named adversarialencoder0, 1, ...
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags
