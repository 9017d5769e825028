"""
A torch MLP as the active learner's model
=========================================

:class:`~skfairal.FairActiveClassifier` takes a ``torch.nn.Module`` as its
estimator: it trains it through `skorch <https://skorch.readthedocs.io>`_
(see :func:`skfairal.neural.wrap_torch_estimator`), handing it float32
features and int64 class codes, so any query strategy that reads predicted
probabilities works with a neural network too. Here a small multilayer
perceptron learns a synthetic problem with two groups of different base rates,
and entropy sampling is compared with Falcon
(:class:`~skfairal.query.FalconSampling`), which targets the demographic-parity
(DP) difference between the groups.
"""

# %%
# The module
# ----------
# The module returns logits, one per class. Its constructor takes
# ``n_features`` and ``n_classes``, which the wrapper fills in from the data.
import matplotlib.pyplot as plt
import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch import nn

from skfairal import FairActiveClassifier
from skfairal.datasets import make_biased_classification
from skfairal.metrics import demographic_parity_difference
from skfairal.query import FalconSampling

torch.set_num_threads(1)  # tiny batches: more threads only add overhead


class MLP(nn.Module):
    def __init__(self, n_features, n_classes=2, hidden=32):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, X):
        return self.layers(X)


# %%
# The net
# -------
# Passing the bare class, ``FairActiveClassifier(MLP, ...)``, trains it with
# Adam for 30 epochs. To choose the training settings, pass a skorch
# ``NeuralNetClassifier`` instead: the learner clones it at every refit. Here
# 15 epochs in batches of 128 keep each refit short. ``train_split=None`` trains
# on every labeled row (skorch's default would hold out a fifth of a tiny
# labeled set), and the criterion takes logits.
net = NeuralNetClassifier(
    MLP,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=0.02,
    max_epochs=15,
    batch_size=128,
    iterator_train__shuffle=True,
    train_split=None,
    verbose=0,
)

# %%
# The data: a problem with little class separation, where group 1 (30 % of
# the rows) has a lower base rate and noisier labels; 1,000 rows to learn
# from, 2,000 held out.
X, y, groups = make_biased_classification(
    3000, n_features=5, class_sep=0.5, random_state=0
)
X_test, y_test, g_test = X[1000:], y[1000:], groups[1000:]
X, y, groups = X[:1000], y[:1000], groups[:1000]
seed_rows = np.arange(30)

# %%
# Active learning
# ---------------
# 30 seed labels, then 6 batches of 20 labels. ``random_state`` seeds torch at
# every refit, so the run is reproducible. Falcon's bandit explores uniformly
# for its first ``warm_up`` labels (100 by default, most of this run), so we
# shorten that to 30; without a ``fairness_set`` it measures the disparity on
# the labeled rows.


def active_learning(strategy, n_rounds=6, batch_size=20):
    learner = FairActiveClassifier(net, strategy, random_state=0)
    learner.fit(X[seed_rows], y[seed_rows], sensitive_features=groups[seed_rows])
    pool = np.setdiff1d(np.arange(len(y)), seed_rows)
    curve = [evaluate(learner)]
    for _ in range(n_rounds):
        picks = learner.query(X[pool], batch_size, sensitive_features=groups[pool])
        rows = pool[picks]
        learner.teach(X[rows], y[rows], sensitive_features=groups[rows])
        pool = np.delete(pool, picks)
        curve.append(evaluate(learner))
    return learner, np.array(curve)


def evaluate(learner):
    y_pred = learner.predict(X_test)
    dp = demographic_parity_difference(y_test, y_pred, sensitive_features=g_test)
    return np.mean(y_pred == y_test), dp


results = {
    "entropy": active_learning("entropy"),
    "Falcon": active_learning(FalconSampling(warm_up=30, random_state=0)),
}
print(f"{'strategy':<10}{'labels':>8}{'accuracy':>10}{'DP difference':>15}")
for name, (learner, curve) in results.items():
    bought = len(learner.y_labeled_) + len(learner.y_postponed_)
    print(f"{name:<10}{bought:>8}{curve[-1, 0]:>10.3f}{curve[-1, 1]:>15.3f}")

# %%
# Both learners end as accurate; with Falcon's labels the network selects the
# two groups at much closer rates. (Falcon only needs predicted probabilities,
# so it works with any model; FAL's ``method="fast"`` is for logistic
# regressions only.)
#
# The fitted model is a :class:`~skfairal.neural.TorchClassifier`; its
# ``net_`` is the skorch net of the last refit, with skorch's training history.
model = results["entropy"][0].estimator_
print(type(model).__name__, "around", type(model.net_).__name__)
train_loss = model.net_.history[:, "train_loss"]
print(f"last refit: train loss {train_loss[0]:.3f} -> {train_loss[-1]:.3f}")

# %%
# Accuracy and DP difference on 2,000 held-out rows after every batch, and the
# training loss of the last refit of each learner.
n_labels = 30 + 20 * np.arange(7)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for name, (learner, curve) in results.items():
    axes[0].plot(n_labels, curve[:, 0], marker=".", label=name)
    axes[1].plot(n_labels, curve[:, 1], marker=".", label=name)
    axes[2].plot(learner.estimator_.net_.history[:, "train_loss"], label=name)
axes[0].set(xlabel="labels bought", ylabel="test accuracy")
axes[1].set(xlabel="labels bought", ylabel="DP difference")
axes[2].set(xlabel="epoch", ylabel="training loss", title="last refit")
axes[0].legend()
fig.tight_layout()
plt.show()
