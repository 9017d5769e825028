"""
FACA-GEN on 1000 Genomes
========================

A binary trait is simulated on the real genotypes of the 1000 Genomes Project
(:func:`~skfairal.datasets.make_1000genomes_trait`): 50 causal SNPs, plus a
non-genetic term shared within each super-population (an environment, a
recruitment bias), which ancestry, visible in thousands of SNPs, predicts.
A model can then learn the trait from ancestry instead of from the causal
SNPs. Genomic studies mostly sample people of European ancestry; the seed
set here is 75 % European, and the sensitive feature is European or not.

:class:`~skfairal.query.FACAGENSampling` chooses, each round, with a bandit,
which of three criteria picks the batch: entropy, fairness (the rows whose
label would lower the disparity most, from FAL's fast refit) or causal
consistency (the rows whose prediction changes most once the ancestry axes
are removed). Its reward trades validation accuracy against ``lambda`` times
the disparity (here equalized odds: the prevalence differs by ancestry, so
an accurate model cannot have a demographic parity of 0), and a controller
tunes ``lambda``. By default the deconfounded representation serves the
causal-consistency arm only and the final model sees the raw SNPs; we run
FACA-GEN, and entropy sampling, with a logistic regression on the raw SNPs
and, the option for people from other environments, on a deconfounded
representation, :class:`~skfairal.representation.AncestryResidualizer` (each
SNP's residual after regression on the leading principal components), as the
package's benchmark (``benchmarks/facagen_1kg.py``) does; this example shrinks
it to a few seconds: 300 SNPs instead of 1,000, 100 labels bought instead of
300, one seed.
"""

# %%
# The task
# --------
# The simulation draws one confounder value per super-population; in this
# draw (``random_state=1``) Europeans have the trait about twice as often as
# the others, so a model that reads ancestry selects them more. Features: the
# 50 causal SNPs and 250 others drawn at random. 30 % of the people are the
# test set (stratified by super-population), 200 a validation set for
# FACA-GEN's reward, 100 the seed set (75 European, 25 not) and the rest the
# pool.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfairal import FairActiveClassifier
from skfairal.datasets import make_1000genomes_trait
from skfairal.metrics import demographic_parity_difference, equalized_odds_difference
from skfairal.query import FACAGENSampling
from skfairal.representation import AncestryResidualizer

trait = make_1000genomes_trait(n_causal=50, random_state=1)
rng = np.random.RandomState(0)
others = np.setdiff1d(np.arange(trait.data.shape[1]), trait.causal_snps)
columns = np.concatenate([trait.causal_snps, rng.choice(others, 250, replace=False)])
X = trait.data[:, columns].astype(np.float64)
y, group = trait.target, trait.european

rest, test = train_test_split(
    np.arange(len(y)), test_size=0.3, stratify=trait.super_pop, random_state=0
)
rng.shuffle(rest)
validation, rest = rest[:200], rest[200:]
european, other = rest[group[rest] == "EUR"], rest[group[rest] != "EUR"]
seed_rows = np.concatenate([european[:75], other[:25]])
pool = np.setdiff1d(rest, seed_rows)
print(f"{len(seed_rows)} seed labels, a pool of {len(pool)}, {len(test)} test rows")
print(f"European: {np.mean(group[pool] == 'EUR'):.0%} of the pool, 75 % of the seed")
for name in ("EUR", "non-EUR"):
    print(f"trait prevalence, {name}: {y[group == name].mean():.2f}")

# %%
# Active learning
# ---------------
# An L2 logistic regression, on standardised SNPs or on the residualised ones;
# 100 labels bought in batches of 10.


def model(deconfounded):
    first = (
        AncestryResidualizer(10, random_state=0) if deconfounded else StandardScaler()
    )
    return make_pipeline(first, LogisticRegression(C=0.05, max_iter=2000))


def active_learning(strategy, deconfounded, n_rounds=10, batch_size=10):
    learner = FairActiveClassifier(model(deconfounded), strategy, random_state=0)
    learner.fit(X[seed_rows], y[seed_rows], sensitive_features=group[seed_rows])
    rows = pool.copy()
    for _ in range(n_rounds):
        picks = learner.query(X[rows], batch_size, sensitive_features=group[rows])
        learner.teach(
            X[rows[picks]], y[rows[picks]], sensitive_features=group[rows[picks]]
        )
        rows = np.delete(rows, picks)
    return learner


def scores(fitted):
    y_pred = fitted.predict(X[test])
    kwargs = {"sensitive_features": group[test]}
    return (
        demographic_parity_difference(y[test], y_pred, **kwargs),
        equalized_odds_difference(y[test], y_pred, **kwargs),
        np.mean(y_pred == y[test]),
    )


facagen = FACAGENSampling(
    target=0.05,
    metric="equalized_odds",
    fairness_set=(X[validation], y[validation], group[validation]),
    random_state=0,
)
runs = {
    "before active learning": model(False).fit(X[seed_rows], y[seed_rows]),
    "entropy, raw SNPs": active_learning("entropy", deconfounded=False),
    "FACA-GEN, raw SNPs": active_learning(facagen, deconfounded=False),
    "entropy + residualiser": active_learning("entropy", deconfounded=True),
    "FACA-GEN + residualiser": active_learning(facagen, deconfounded=True),
}
table = {name: scores(fitted) for name, fitted in runs.items()}
print(f"\n{'':<25}{'DP':>7}{'EO':>7}{'accuracy':>10}")
for name, (dp, eo, accuracy) in table.items():
    print(f"{name:<25}{dp:>7.3f}{eo:>7.3f}{accuracy:>10.3f}")

# %%
# The residualised representation lowers the disparity between Europeans and
# the others far more than any choice of labels, whatever the strategy, at a
# cost in accuracy: much of the raw model's accuracy was the ancestry
# shortcut. In this small run FACA-GEN's labels also lower it on raw SNPs;
# over more seeds the effect is far smaller. The package's benchmark (5 seeds,
# 300 labels, 1,000 SNPs; ``benchmarks/results/facagen_1kg.md``) finds EO
# 0.46 with entropy sampling, 0.44 with FACA-GEN on raw SNPs (F1 0.58 vs
# 0.60) and 0.15 with the residualiser (F1 0.35); under a shifted environment
# the residualised model keeps entropy's accuracy at a third of its EO. One
# small run is noisy: compare orders of magnitude, not third decimals.
fig, ax = plt.subplots(figsize=(9, 3.8))
width = 0.25
for k, metric in enumerate(["DP", "EO", "accuracy"]):
    values = [row[k] for row in table.values()]
    ax.bar(np.arange(len(table)) + (k - 1) * width, values, width, label=metric)
ax.set_xticks(np.arange(len(table)), list(table), rotation=15, fontsize=8)
ax.set(ylim=(0, 1), title="test set, European vs not")
ax.legend(ncols=3, loc="upper center")
fig.tight_layout()

# %%
# The arms and lambda
# -------------------
# The strategy that ran is the learner's ``query_strategy_`` (a clone made at
# fit, which holds the run's bandit and controller): ``arm_history_`` is the
# arm of each round, ``lambda_history_`` the fairness weight after each
# controller update and ``disparity_history_`` the validation disparity it saw.
strategy = runs["FACA-GEN, raw SNPs"].query_strategy_
arms, pulls = np.unique(strategy.arm_history_, return_counts=True)
print("\narms pulled:", ", ".join(f"{a} {n}" for a, n in zip(arms, pulls)))
print("lambda after each round:", np.round(strategy.lambda_history_, 2))
print("validation EO:", np.round(strategy.disparity_history_, 3))

# %%
# The default controller (:class:`~skfairal.policies.PolicyGradientController`,
# a REINFORCE agent that lowers, keeps or raises lambda by a factor of 1.5)
# moves lambda with the validation EO against the 0.05 target. Ten rounds are
# few for a bandit over three arms; the benchmark's ablations (300 labels) find
# that the fairness arm does most of the work, that the causal-consistency arm
# buys what entropy buys, and that a fixed lambda does as well as the learned
# one.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
rounds = np.arange(1, len(strategy.arm_history_) + 1)
arm_index = [strategy.arms_.index(arm) for arm in strategy.arm_history_]
axes[0].plot(rounds, arm_index, "o")
axes[0].set_yticks(range(len(strategy.arms_)), strategy.arms_)
axes[0].set(xlabel="round", title="arm pulled")
axes[1].semilogy(rounds, strategy.lambda_history_, marker=".")
axes[1].set(xlabel="round", title="lambda (fairness weight)")
axes[2].plot(rounds, strategy.disparity_history_, marker=".", label="validation EO")
axes[2].axhline(facagen.target, color="k", ls="--", label="target")
axes[2].set(xlabel="round", title="disparity the controller sees")
axes[2].legend()
fig.tight_layout()
plt.show()
