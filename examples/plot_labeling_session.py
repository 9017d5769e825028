"""
Labeling with people: a session over CSV files and Label Studio
===============================================================

In a real project nobody holds the labels beforehand: the learner picks
rows, people label them, and the labels come back hours or days later, in a
file. :class:`~skfairal.active.LabelingSession` keeps that loop between
sittings:

1. :meth:`~skfairal.active.LabelingSession.next_batch` picks the rows to
   label and marks them out for labeling;
2. ``session.to_csv`` (or ``session.to_label_studio``) writes them for the
   annotators;
3. :func:`~skfairal.active.read_labels_csv` (or
   :func:`~skfairal.active.read_label_studio_export`) reads their answers and
   :meth:`~skfairal.active.LabelingSession.add_labels` checks them all and
   teaches the learner;
4. ``session.save`` and ``LabelingSession.load`` keep the whole state in one
   file until the next batch.

The pool is 3,000 rows of UCI Adult as a raw table, with text columns and an
id per person; the annotators are simulated by filling in the true labels.
The user guide's :doc:`/user_guide/labeling` page has the rules and the
command line that runs the same loop.
"""

# %%
# The pool, the learner and the session
# -------------------------------------
# The rows as they would come from a database: text columns, missing values,
# and a ``person`` id that stays with each row. The validation rows (labeled
# beforehand) score the model after every round. The learner is a pipeline
# that one-hot encodes the text columns, under Falcon, which picks the rows
# that shrink the demographic-parity gap between women and men on the
# validation rows.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal import FairActiveClassifier
from skfairal.active import LabelingSession
from skfairal.datasets import load_adult
from skfairal.query import FalconSampling

adult = load_adult(as_frame=True)
text = {column: object for column in adult.categorical_features}
rng = np.random.RandomState(0)
train = rng.permutation(np.flatnonzero(~adult.is_test))[:3000]
test = rng.permutation(np.flatnonzero(adult.is_test))[:1000]
answers = np.asarray(adult.target_names)[adult.target.to_numpy()]  # "<=50K", ">50K"

pool = adult.data.iloc[train].astype(text).reset_index(drop=True)
pool.insert(0, "person", [f"p{i:05d}" for i in train])
validation = adult.data.iloc[test].astype(text).assign(label=answers[test])
# What the annotators would answer, by person: the simulation's oracle.
truth = pd.Series(answers[train], index=pool["person"])
print(pool.iloc[:3, :6])

encode = ColumnTransformer(
    [
        (
            "text",
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore"),
            ),
            adult.categorical_features,
        ),
        ("numbers", StandardScaler(), adult.numerical_features),
    ]
)
model = Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=1000))])
features = [c for c in pool.columns if c != "person"]
falcon = FalconSampling(
    fairness_set=(
        validation[features],
        validation["label"].to_numpy(),
        validation["sex"].to_numpy(),
    ),
    random_state=0,
)
session = LabelingSession(
    FairActiveClassifier(model, falcon, random_state=0),
    pool,
    classes=list(adult.target_names),
    sensitive_features="sex",
    id_column="person",
    validation=validation,
    random_state=0,
)
print(session)

# %%
# Rounds over CSV files
# ---------------------
# Each round writes a batch to a CSV file with an empty ``label`` column,
# which the annotator fills in (here, from ``truth``). Until the labels hold
# both classes the batches are random; then Falcon picks them. In the third
# round the annotator labels only 25 of the 30 rows: the 5 others stay out
# for labeling, and no later batch hands them out again.
folder = Path(tempfile.mkdtemp())


def annotate(path, n=None):
    """The annotator: fill in the ``label`` column of the first ``n`` rows."""
    sheet = pd.read_csv(path, dtype={"person": str, "label": str})
    sheet["label"] = sheet["label"].astype(object)
    rows = sheet.index[:n]
    sheet.loc[rows, "label"] = truth[sheet.loc[rows, "person"]].to_numpy()
    sheet.to_csv(path, index=False)


for round_ in range(1, 5):
    batch = session.next_batch(30)
    path = folder / f"batch{round_}.csv"
    session.to_csv(batch, path)
    annotate(path, n=25 if round_ == 3 else None)
    labels = session.read_labels_csv(path)
    session.add_labels(labels)
    print(f"round {round_}: {len(labels)} labels back; {session}")

print(path.read_text().splitlines()[0])
print(path.read_text().splitlines()[1])
print("still out for labeling:", list(session.out_ids))

# %%
# Labels that are refused
# -----------------------
# :meth:`~skfairal.active.LabelingSession.add_labels` checks every label
# before it changes anything: an id never handed out (a typo, or a row from
# someone else's batch), a label outside the classes, an id labeled twice
# or already labeled. On any of them it raises, naming the ids, and the
# session is as it was.
late = session.out_ids[0]
wrong = pd.DataFrame(
    {"person": [late, pool["person"].iloc[-1]], "label": [">50k", "<=50K"]}
)
try:
    session.add_labels(wrong)
except ValueError as error:
    print(error)
print(session)

# %%
# A round through Label Studio
# ----------------------------
# ``session.to_label_studio`` writes the batch as tasks to import into a
# Label Studio project whose labeling config is
# ``session.label_studio_config()``: a table of the row's values and one
# choice per class.
batch = session.next_batch(20)
session.to_label_studio(batch, folder / "tasks.json")
print(session.label_studio_config())

# %%
# The annotators' work comes back as Label Studio's JSON export. Here it is
# made up: one annotation per task, and a second annotator who disagreed,
# earlier, on two tasks. ``conflicts="error"`` (the default) refuses the
# export and names those tasks; ``"latest"`` takes the annotation updated
# last and ``"majority"`` the most frequent label.
import json

tasks = json.loads((folder / "tasks.json").read_text())
print(json.dumps(tasks[0])[:150], "...")


def annotation(label, when):
    result = {"from_name": "label", "to_name": "row", "type": "choices"}
    result["value"] = {"choices": [label]}
    return {"result": [result], "created_at": when, "updated_at": when}


export = []
for number, task in enumerate(tasks, start=1):
    label = truth[task["data"]["skfairal_id"]]
    annotations = [annotation(label, "2026-03-02T14:00:00Z")]
    if number <= 2:
        other = ">50K" if label == "<=50K" else "<=50K"
        annotations.append(annotation(other, "2026-03-02T09:30:00Z"))
    export.append({"id": number, "data": task["data"], "annotations": annotations})
(folder / "export.json").write_text(json.dumps(export))

try:
    session.read_label_studio_export(folder / "export.json")
except ValueError as error:
    print(str(error)[:160], "...")
labels = session.read_label_studio_export(folder / "export.json", conflicts="latest")
print(labels.head(3))
session.add_labels(labels)
print(session)

# %%
# Saving, and going on another day
# --------------------------------
# ``session.save`` writes everything (pool, labels, rows out for labeling,
# history, the learner with Falcon's bandits) to one file, atomically and
# without pickles; ``LabelingSession.load`` reads it back, trusting only
# scikit-learn's and skfairal's types. The resumed session picks the same
# next batch as the session that never stopped.
session.save(folder / "adult.skfal")
resumed = LabelingSession.load(folder / "adult.skfal")
print(resumed)

uninterrupted = session.next_batch(30)
after_resume = resumed.next_batch(30)
print(
    "same next batch:",
    uninterrupted["person"].tolist() == after_resume["person"].tolist(),
)
session = resumed
path = folder / "batch6.csv"
session.to_csv(after_resume, path)
annotate(path)
session.add_labels(session.read_labels_csv(path))

# %%
# Progress
# --------
# One row per round: labels in all, new ones, rows still out, the share of
# the round's rows from the pool's rarest group (women), and the learner's
# scores on the validation rows: accuracy, the demographic-parity and
# equalized-odds differences between the groups, and accuracy per group.
# Falcon spends whole rounds on one group (a minority share of 1 or 0) to
# close the gap it targets, at some cost in accuracy early on; this is one
# run on a small validation set, the shape of a session, not a benchmark.
table = session.progress()
print(table.drop(columns=["time", "fitted"]).round(3).to_string(index=False))

fig = session.plot_progress()
plt.show()
