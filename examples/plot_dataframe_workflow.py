"""
Active learning on a raw DataFrame
==================================

The data a practitioner has is a table with text columns, not a numeric
matrix: here UCI Adult as :func:`~skfairal.datasets.load_adult` gives it
(``as_frame=True``), with categorical columns such as ``workclass`` and a
sensitive column ``sex`` holding the strings ``"Female"`` and ``"Male"``.
The base estimator is the usual :class:`~sklearn.pipeline.Pipeline` of a
:class:`~sklearn.compose.ColumnTransformer` (one-hot encode the categories,
standardise the numbers) and a :class:`~sklearn.linear_model.LogisticRegression`.

:class:`~skfairal.FairActiveClassifier` takes that pipeline as it is. Every
query strategy reads the rows the way the pipeline's last step sees them
(:meth:`~skfairal.FairActiveClassifier.base_features`), so strategies that
compute with features, such as FAL's fast refit, work on the raw table.

The labeled seed set is biased, as in fair active learning studies: 45 men
and 5 women, given with ``initial_indices``. ``fit`` with ``budget > 0``
then simulates the whole run and ``on_round`` scores the model on a test set
after every batch: the same loop that :class:`~sklearn.model_selection.GridSearchCV`
runs when it tunes a strategy.
"""

# %%
# The table and the pipeline
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal import FairActiveClassifier
from skfairal.datasets import load_adult
from skfairal.metrics import demographic_parity_difference
from skfairal.query import FALSampling

adult = load_adult(as_frame=True)
rng = np.random.RandomState(0)
train = rng.permutation(np.flatnonzero(~adult.is_test))[:3000]
test = rng.permutation(np.flatnonzero(adult.is_test))[:3000]
X, X_test = adult.data.iloc[train], adult.data.iloc[test]
y, y_test = adult.target.iloc[train], adult.target.iloc[test]
sex, sex_test = (
    adult.sensitive_features["sex"].iloc[train].astype(str),
    (adult.sensitive_features["sex"].iloc[test].astype(str)),
)
print("categorical columns:", adult.categorical_features)
print(X.iloc[:3, :5])


def make_pipeline():
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), adult.categorical_features),
            ("num", StandardScaler(), adult.numerical_features),
        ]
    )
    return Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=1000))])


# %%
# A biased start, then 200 labels
# -------------------------------
# ``initial_indices`` takes row indices or, as here, a callable that draws
# them from the labels, the groups and a seeded generator.


def few_women(y, groups, rng):
    men = rng.choice(np.flatnonzero(groups == "Male"), 45, replace=False)
    women = rng.choice(np.flatnonzero(groups == "Female"), 5, replace=False)
    return np.concatenate([men, women])


def run(strategy):
    curve = []

    def score(learner, record):
        y_pred = learner.predict(X_test)
        curve.append(
            (
                record["n_labeled"] + record["n_postponed"],
                accuracy_score(y_test, y_pred),
                demographic_parity_difference(
                    y_test, y_pred, sensitive_features=sex_test
                ),
            )
        )

    learner = FairActiveClassifier(
        make_pipeline(),
        strategy,
        budget=200,
        batch_size=20,
        initial_indices=few_women,
        on_round=score,
        random_state=0,
    )
    learner.fit(X, y, sensitive_features=sex)
    return np.array(curve)


strategies = {
    "entropy": "entropy",
    "FAL (fast, 64 candidates)": FALSampling(method="fast", n_candidates=64),
    "group-aware random": "group_aware_random",
}
curves = {name: run(strategy) for name, strategy in strategies.items()}
for name, curve in curves.items():
    labels, accuracy, dp = curve[-1]
    print(f"{name:>26}: {labels:.0f} labels, accuracy {accuracy:.3f}, DP {dp:.3f}")

# %%
# Accuracy and demographic parity as labels come in
# -------------------------------------------------
# One draw of the data: the curves show the shape of a run, not a benchmark
# (``benchmarks/`` averages over seeds).
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for name, curve in curves.items():
    left.plot(curve[:, 0], curve[:, 1], marker=".", label=name)
    right.plot(curve[:, 0], curve[:, 2], marker=".", label=name)
left.set(xlabel="labels bought", ylabel="test accuracy")
right.set(xlabel="labels bought", ylabel="DP difference (sex)")
left.legend()
plt.show()

# %%
# The same pipeline, one query at a time
# --------------------------------------
# Interactively, ``query`` returns positions in the pool you pass, and
# ``teach`` takes the rows with their labels and groups, still as a DataFrame.
learner = FairActiveClassifier(make_pipeline(), "entropy", random_state=0)
seed = few_women(y.to_numpy(), sex.to_numpy(), np.random.RandomState(1))
learner.fit(X.iloc[seed], y.iloc[seed], sensitive_features=sex.iloc[seed])
pool = np.setdiff1d(np.arange(len(X)), seed)
picks = learner.query(X.iloc[pool], n_instances=5, sensitive_features=sex.iloc[pool])
rows = pool[picks]
learner.teach(X.iloc[rows], y.iloc[rows], sensitive_features=sex.iloc[rows])
print(len(learner.y_labeled_), "labeled rows;", X.iloc[rows, :3].to_string())
