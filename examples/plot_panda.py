"""
PANDA: a learned selection policy under a parity constraint
===========================================================

PANDA (Sharaf, Daume III and Ni, FAccT 2022;
:class:`~skfairal.policies.PANDAPolicy`) learns *how to select* from a labeled
set ``D`` with its groups: a Transformer scores the rows of a pool, and it is
meta-trained so that the rows it picks give a classifier that is accurate
while its demographic-parity (DP) difference stays below a threshold ``rho``.
At query time the policy picks a whole budget in one forward pass, **without
the sensitive features** of the pool.

The policy is trained for the classifier a user fits, scikit-learn's
``LogisticRegression`` on the encoded rows (:meth:`make_classifier()
<skfairal.policies.PANDAPolicy.make_classifier>`): it meta-trains against the
converged model, differentiated implicitly. We give the same classifier to
random selection, the baseline. Adult, with sex as the group; a small ``D``
and 30 meta-iterations, where the paper's protocol
(``benchmarks/panda_adult.py``) uses half of Adult and 200. Last, the same
policy serves as the query strategy of an active learner,
:class:`~skfairal.query.PANDASampling`.
"""

# %%
# Data
# ----
# One-hot and standardised Adult features. ``D`` (2,000 people) trains the
# policy; a disjoint pool of 3,000 people is where it selects, and 3,000 more
# are the test set.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult
from skfairal.metrics import demographic_parity_difference
from skfairal.policies import PANDAPolicy
from skfairal.query import PANDASampling

adult = load_adult(as_frame=True)
rows = np.random.RandomState(0).permutation(len(adult.target))[:8000]
encoder = ColumnTransformer(
    [
        ("cat", OneHotEncoder(handle_unknown="ignore"), adult.categorical_features),
        ("num", StandardScaler(), adult.numerical_features),
    ],
    sparse_threshold=0.0,
)
X_all = encoder.fit_transform(adult.data.iloc[rows])
y_all = adult.target.to_numpy()[rows]
sex_all = adult.sensitive_features["sex"].to_numpy(dtype=str)[rows]
D, pool, test = np.split(np.arange(len(rows)), [2000, 5000])

# %%
# Meta-training
# -------------
# ``budget`` is the number of rows the policy learns to pick; a meta-task
# hides the labels of ``meta_pool_size`` rows of ``D`` from the policy, lets
# it pick ``min(budget, meta_pool_size / 4)`` of them, fits the logistic
# regression on those and measures it on other rows of ``D``. ``threshold``
# is ``rho``.
policy = PANDAPolicy(
    budget=200,
    threshold=0.04,
    n_meta_iter=30,
    pretrain_epochs=5,
    meta_pool_size=1000,
    random_state=0,
)
policy.fit(X_all[D], y_all[D], sensitive_features=sex_all[D])
print(f"{len(policy.history_)} meta-tasks, of {policy.meta_pool_size} pool rows each")

# %%
# Selection without groups
# ------------------------
# ``select`` sees only the pool's features. The classifier the policy was
# trained for is fitted on the selected rows, and compared with the same
# classifier on random selections of the same size
# (the mean over 10 draws). Besides F1 and the DP difference on the test set,
# we print the share of positive labels among the picked rows, the share of
# women among them, and the share of test people the classifier predicts
# positive.
X_pool, X_test = X_all[pool], X_all[test]
y_pool, sex_pool = y_all[pool], sex_all[pool]
y_test, sex_test = y_all[test], sex_all[test]


def scores(picked):
    model = policy.make_classifier().fit(X_pool[picked], y_pool[picked])
    y_pred = model.predict(X_test)
    dp = demographic_parity_difference(y_test, y_pred, sensitive_features=sex_test)
    return (
        f1_score(y_test, y_pred),
        dp,
        y_pool[picked].mean(),
        np.mean(sex_pool[picked] == "Female"),
        y_pred.mean(),
    )


panda_scores = scores(policy.select(X_all[pool], random_state=0))
draws = np.random.RandomState(1)
random_scores = np.mean(
    [scores(draws.choice(len(pool), 200, replace=False)) for _ in range(10)], axis=0
)
header = ["F1", "DP", "positives", "women", "predicted +"]
print(f"\n{'selection':<20}" + "".join(f"{h:>12}" for h in header))
for name, row in [("random (10 draws)", random_scores), ("PANDA", panda_scores)]:
    print(f"{name:<20}" + "".join(f"{v:>12.3f}" for v in row))

# %%
# What the numbers say
# --------------------
# A small ``D`` and 30 meta-tasks make a rough policy: read the table for the
# direction, and ``benchmarks/results/panda_adult.md`` (the paper's scale, 5
# seeds, against fairlearn's ExponentiatedGradient on random labels) for the
# measured trade-off. Watch the last two columns: a policy can meet a parity
# constraint by picks that make the classifier predict few people positive,
# which lowers both groups' rates and the F-score with them.
#
# Meta-training history
# ---------------------
# ``history_`` has one entry per meta-task: the validation loss of the inner
# classifier and its DP difference, against ``rho``. Above ``rho`` a
# proximal step pushes the policy back toward the constraint.
history = policy.history_
satisfied = np.mean([h["satisfied"] for h in history[-20:]])
print(f"constraint met in {satisfied:.0%} of the last 20 meta-tasks")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
axes[0].plot([h["loss"] for h in history])
axes[0].set(xlabel="meta-iteration", ylabel="validation loss")
axes[1].plot([h["disparity"] for h in history], label="DP difference")
axes[1].axhline(policy.threshold, color="k", ls="--", label="threshold rho")
axes[1].set(xlabel="meta-iteration", ylabel="validation DP difference")
axes[1].legend()
fig.suptitle("PANDA meta-training on Adult")
fig.tight_layout()
plt.show()

# %%
# As a query strategy
# -------------------
# :class:`~skfairal.query.PANDASampling` makes the policy the query strategy
# of a :class:`~skfairal.FairActiveClassifier`. It scores the pool in the base
# estimator's feature space, which here is the encoded rows the policy was
# fitted on; a fitted policy is used as given. The learner starts from 20
# labeled pool rows and buys 200 labels in two rounds, never told anyone's
# sex; its model is the logistic regression the policy was trained for. (An
# unfitted policy would meta-train on the learner's labeled rows and their
# groups at the first query, taking the base ``LogisticRegression``'s ``C``;
# ``query_strategy="panda"`` does that with the default settings.)
learner = FairActiveClassifier(
    LogisticRegression(max_iter=1000), PANDASampling(policy), random_state=0
)
start = draws.choice(len(pool), 20, replace=False)
learner.fit(X_all[pool][start], y_pool[start])
left = np.setdiff1d(np.arange(len(pool)), start)
for _ in range(2):
    picks = left[learner.query(X_all[pool][left], 100)]
    learner.teach(X_all[pool][picks], y_pool[picks])
    left = np.setdiff1d(left, picks)
    y_pred = learner.predict(X_all[test])
    dp = demographic_parity_difference(y_test, y_pred, sensitive_features=sex_test)
    print(
        f"{len(learner.y_labeled_)} labels: F1 {f1_score(y_test, y_pred):.3f}, "
        f"DP difference {dp:.3f}"
    )
