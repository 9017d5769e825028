"""One active-learning run scored after every round: the demo's and benchmarks' loop.

Private: the interface may change with the benchmarks that use it.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score

from .active import FairActiveClassifier
from .metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
    group_report,
    optimal_transport_distance,
)

METRICS = (
    "F1",
    "accuracy",
    "DP difference",
    "EO difference",
    "OT distance",
    "worst-group error",
)


@dataclass
class Task:
    """A pool with its oracle labels and a test split, groups on both."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    groups_test: np.ndarray
    name: str = ""


@dataclass
class Run:
    """Scores after every round, the seconds each query took, the rows bought
    (indices into the task's X, in buying order) and the final learner."""

    n_labels: list = field(default_factory=list)
    scores: list = field(default_factory=list)
    query_seconds: list = field(default_factory=list)
    bought: list = field(default_factory=list)
    learner: object = None


def evaluate(model, task: Task) -> list[float]:
    """The METRICS of a fitted model on the task's test split."""
    return score_predictions(
        task, model.predict(task.X_test), model.predict_proba(task.X_test)[:, 1]
    )


def score_predictions(task: Task, y_pred, y_score) -> list[float]:
    """The METRICS of test-split predictions and positive-class scores."""
    kwargs = {"sensitive_features": task.groups_test}
    return [
        f1_score(task.y_test, y_pred),
        accuracy_score(task.y_test, y_pred),
        demographic_parity_difference(task.y_test, y_pred, **kwargs),
        equalized_odds_difference(task.y_test, y_pred, **kwargs),
        optimal_transport_distance(task.y_test, y_score, **kwargs),
        # Min-max fairness's objective: the error of the group served worst
        # (the report's last row is "overall").
        1.0 - np.min(group_report(task.y_test, y_pred, **kwargs)["accuracy"][:-1]),
    ]


def run_active_learning(
    estimator,
    strategy,
    task: Task,
    seed_rows,
    *,
    budget,
    batch_size,
    seed,
    on_round=None,
) -> Run:
    """Simulate ``budget`` labels from ``seed_rows``; score the model each round.

    The simulation is :class:`~skfairal.FairActiveClassifier`'s own (``fit``
    with ``budget > 0``, ``initial_indices=seed_rows``): the code path a
    GridSearchCV user runs, with a scorer hooked on every round.
    ``on_round()`` is called after every batch (a progress bar's tick).
    """
    result = Run()

    def record(learner, entry):
        if entry["round"] == 0:
            result.n_labels.append(entry["n_labeled"])
        else:
            result.query_seconds.append(entry["query_seconds"])
            result.bought.extend(entry["indices"].tolist())
            # Labels bought: a strategy may postpone some (Falcon).
            result.n_labels.append(entry["n_labeled"] + entry["n_postponed"])
        result.scores.append(evaluate(learner, task))
        if on_round is not None and entry["round"] > 0:
            on_round()

    learner = FairActiveClassifier(
        clone(estimator),
        strategy,
        budget=budget,
        batch_size=batch_size,
        initial_indices=np.asarray(seed_rows),
        on_round=record,
        random_state=seed,
    )
    learner.fit(task.X, task.y, sensitive_features=task.groups)
    learner.set_params(on_round=None)
    result.learner = learner
    return result
