"""FACA-GEN and its ablations against the baselines on a 1000 Genomes trait.

    OMP_NUM_THREADS=1 python benchmarks/facagen_1kg.py --seeds 5 --jobs 2
    python benchmarks/facagen_1kg.py --seeds 1 --quick

The task (per seed): :func:`skfairal.datasets.make_1000genomes_trait` on the
real 2,504 genotypes: a binary trait (prevalence 0.3) from 100 causal SNPs
(heritability 0.5) plus a super-population-level confounder (variance 0.3);
features are the 100 causal SNPs and 900 other SNPs drawn at random, in
random order. The sensitive feature is European / non-European ancestry
(the paper's setting: a model that serves the ancestry most studies
sample). Each seed splits the rows into a test set (30 %, stratified by
super-population), a validation set of 250 rows (for the strategies that
take one: FACA-GEN, Falcon), a **Europe-heavy seed set** of 200 labels (150
European, 50 not, as real genomic studies are) and the rest as a diverse
pool; 300 labels are bought in batches of 10 and a standardised L2 logistic
regression (C = 0.05) is refit after each batch.

Strategies: random, entropy, group-aware random, FAL (fast, nested over 64
candidates, alpha = 0.5), Falcon (lam = 1) and FACA-GEN (EXP3 bandit, RL
controller, target DP 0.05, with its causal representation: the learner
fits on :class:`~skfairal.representation.AncestryResidualizer` residuals,
10 principal components), with its ablations: one arm only (each of the
three), no causal-consistency arm, no causal representation (raw features),
fixed lambda, dual-ascent lambda, UCB1 and Thompson bandits; and entropy
sampling with the causal representation, which separates what the
representation does from what the selection does. The second causal
representation, :class:`~skfairal.representation.AdversarialEncoder`
(gradient reversal against the super-population), is fitted on the seed
set (its trait labels and super-populations) and frozen, since the
learner's refits do not pass groups to its steps; entropy sampling and
FACA-GEN run on it too (its SNP weights are not defined: the encoder is
nonlinear). PANDA is left out: it is meta-trained for its few-step
classifier, not for this learner.

Metrics on the test set after the last batch (mean +- std over seeds):
demographic-parity and equalized-odds differences and the optimal-transport
distance between the groups' score distributions (European vs not), F1,
ROC AUC, the share of the model's absolute weight (mapped back to the SNPs)
on the causal SNPs, and the balance of the bought samples themselves: the
non-European share and the normalised entropy of their super-populations (1
= the five equally often). "Before AL" is the seed-set model. Writes
``benchmarks/results/facagen_1kg.md`` (tables and the comparison with the
paper's Table 1) and ``facagen_1kg.png`` (learning curves and the arms
FACA-GEN pulled).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfairal._experiment import METRICS, Task, evaluate, run_active_learning
from skfairal.datasets import make_1000genomes_trait
from skfairal.query import (
    FACAGENSampling,
    FalconSampling,
    FALSampling,
    GroupAwareRandomSampling,
    entropy_sampling,
    random_sampling,
)
from skfairal.representation import AdversarialEncoder, AncestryResidualizer

RESULTS = Path(__file__).parent / "results"
N_SNPS, N_CAUSAL = 1000, 100
N_SEED_EUR, N_SEED_OTHER, N_VALIDATION = 150, 50, 250
BUDGET, BATCH = 300, 10
TARGET = 0.05

# name -> (FACA-GEN parameters or a baseline, learner on the causal representation?)
FACAGEN = {
    "FACA-GEN": ({}, True),
    "FACA-GEN: informativeness arm only": ({"arms": ("informativeness",)}, True),
    "FACA-GEN: fairness arm only": ({"arms": ("fairness",)}, True),
    "FACA-GEN: causal arm only": ({"arms": ("causal_consistency",)}, True),
    "FACA-GEN: no causal arm": ({"arms": ("informativeness", "fairness")}, True),
    "FACA-GEN: no causal representation": ({}, False),
    "FACA-GEN: fixed lambda": ({"controller": "fixed"}, True),
    "FACA-GEN: dual-ascent lambda": ({"controller": "dual"}, True),
    "FACA-GEN: UCB1": ({"bandit": "ucb1"}, True),
    "FACA-GEN: Thompson": ({"bandit": "thompson"}, True),
    "FACA-GEN: adversarial representation": ({}, "adversarial"),
}
BASELINES = {
    "random": False,
    "entropy": False,
    "group-aware random": False,
    "FAL": False,
    "Falcon": False,
    "entropy + causal representation": True,
    "entropy + adversarial representation": "adversarial",
}
QUICK = [
    "random",
    "entropy",
    "entropy + causal representation",
    "FACA-GEN",
    "FACA-GEN: no causal representation",
]


def learner_model(representation, encoder=None):
    """The learner: standardised raw SNPs (False), AncestryResidualizer
    residuals (True) or the seed-fitted AdversarialEncoder ("adversarial")."""
    model = LogisticRegression(C=0.05, max_iter=2000)
    if representation == "adversarial":
        return make_pipeline(FrozenEstimator(encoder), model)
    if representation:
        return make_pipeline(AncestryResidualizer(10, random_state=0), model)
    return make_pipeline(StandardScaler(), model)


def fit_encoder(task, seed_rows, validation, pops, seed):
    """AdversarialEncoder on the labeled rows there are before active learning
    (the seed set and the validation set): trait head, super-population
    adversary.

    Fitted once and frozen: the learner's refits do not pass groups to its
    steps.
    """
    X_val, y_val, _, pops_val = validation
    encoder = AdversarialEncoder(max_epochs=60, random_state=seed)
    return encoder.fit(
        np.vstack([task.X[seed_rows], X_val]),
        np.concatenate([task.y[seed_rows], y_val]),
        sensitive_features=np.concatenate([pops[seed_rows], pops_val]),
    )


def make_strategy(name: str, validation, seed: int):
    if name in FACAGEN:
        params = FACAGEN[name][0]
        return FACAGENSampling(
            target=TARGET, fairness_set=validation, random_state=seed, **params
        )
    if name.startswith("entropy"):
        return entropy_sampling
    return {
        "random": random_sampling,
        "group-aware random": GroupAwareRandomSampling(),
        "FAL": FALSampling(
            alpha=0.5, method="fast", n_candidates=64, max_fairness_rows=None
        ),
        "Falcon": FalconSampling(lam=1.0, fairness_set=validation),
    }[name]


def uses_representation(name: str) -> bool:
    return FACAGEN[name][1] if name in FACAGEN else BASELINES[name]


def make_task(seed: int):
    """(Task, seed rows, validation set, super_pop of the task rows, causal
    columns, super_pop of the validation rows)."""
    trait = make_1000genomes_trait(
        N_CAUSAL, heritability=0.5, confounding=0.3, prevalence=0.3, random_state=seed
    )
    rng = np.random.RandomState(seed)
    others = np.setdiff1d(np.arange(trait.data.shape[1]), trait.causal_snps)
    columns = rng.permutation(
        np.concatenate(
            [trait.causal_snps, rng.choice(others, N_SNPS - N_CAUSAL, replace=False)]
        )
    )
    causal = np.isin(columns, trait.causal_snps)
    X = np.asarray(trait.data[:, columns], dtype=np.float64)
    y, groups, pops = trait.target, trait.european, trait.super_pop
    rows = np.arange(len(y))
    rest, test = train_test_split(rows, test_size=0.3, stratify=pops, random_state=seed)
    rng.shuffle(rest)
    validation, rest = rest[:N_VALIDATION], rest[N_VALIDATION:]
    european = rest[groups[rest] == "EUR"]
    other = rest[groups[rest] != "EUR"]
    seed_rows = np.concatenate([european[:N_SEED_EUR], other[:N_SEED_OTHER]])
    task_rows = np.concatenate([seed_rows, np.setdiff1d(rest, seed_rows)])
    task = Task(
        X[task_rows], y[task_rows], groups[task_rows],
        X[test], y[test], groups[test], name="1000 Genomes trait",
    )  # fmt: skip
    fairness_set = (X[validation], y[validation], groups[validation])
    return (
        task,
        np.arange(len(seed_rows)),
        fairness_set,
        pops[task_rows],
        causal,
        pops[validation],
    )


def snp_weights(model, n_features: int) -> np.ndarray:
    """The fitted pipeline's weight on each input SNP (its steps are affine)."""
    transform = model[:-1]
    basis = np.vstack([np.zeros(n_features), np.eye(n_features)])
    mapped = transform.transform(basis)
    return (mapped[1:] - mapped[0]) @ model[-1].coef_.ravel()


def causal_share(model, causal) -> float:
    if isinstance(model[0], FrozenEstimator):
        return float("nan")  # a nonlinear encoder has no weight per SNP
    weights = np.abs(snp_weights(model, len(causal)))
    return float(weights[causal].sum() / weights.sum())


def selection_balance(pops) -> tuple[float, float]:
    """(non-European share, normalised entropy over the five super-populations)."""
    _, counts = np.unique(pops, return_counts=True)
    share = counts / counts.sum()
    return float(np.mean(pops != "EUR")), float(
        -(share * np.log(share)).sum() / np.log(5)
    )


EXTRA = ("ROC AUC", "causal weight share", "non-EUR share of picks", "picks' balance")


def extra_scores(model, task, causal, picked_pops) -> list[float]:
    auc = roc_auc_score(task.y_test, model.predict_proba(task.X_test)[:, 1])
    return [auc, causal_share(model, causal), *selection_balance(picked_pops)]


def run_seed(strategies, seed, position_slots=1) -> dict:
    """{strategy: result dict} for one seed, plus "before AL" per learner kind."""
    from tqdm import tqdm

    task, seed_rows, validation, pops, causal, pops_val = make_task(seed)
    encoder_rows = (*validation, pops_val)
    out = {}
    kinds = {uses_representation(name) for name in strategies} | {False, True}
    encoder = (
        fit_encoder(task, seed_rows, encoder_rows, pops, seed)
        if "adversarial" in kinds
        else None
    )
    for kind in sorted(kinds, key=str):
        model = learner_model(kind, encoder).fit(task.X[seed_rows], task.y[seed_rows])
        out[("before", kind)] = {
            "final": evaluate(model, task)
            + extra_scores(model, task, causal, pops[seed_rows]),
        }
    for name in strategies:
        bar = tqdm(
            total=BUDGET // BATCH,
            desc=f"seed {seed}: {name}",
            unit="batch",
            position=seed % max(1, position_slots),
            leave=False,
            file=sys.stderr,
        )
        start = time.perf_counter()
        run = run_active_learning(
            learner_model(uses_representation(name), encoder),
            make_strategy(name, validation, seed),
            task,
            seed_rows,
            budget=BUDGET,
            batch_size=BATCH,
            seed=seed,
            on_round=bar.update,
        )
        bar.close()
        learner = run.learner
        strategy = learner.query_strategy_
        out[name] = {
            "curve": (run.n_labels, [s for s in run.scores]),
            "final": run.scores[-1]
            + extra_scores(learner.estimator_, task, causal, pops[run.bought]),
            "seconds": time.perf_counter() - start,
            "arms": list(getattr(strategy, "arm_history_", [])),
            "lambda": list(getattr(strategy, "lambda_history_", [])),
            "postponed": len(learner.y_postponed_),
        }
    return out


COLUMNS = (*METRICS, *EXTRA)
SHOWN = (
    "DP difference",
    "EO difference",
    "OT distance",
    "F1",
    "accuracy",
    "ROC AUC",
    "causal weight share",
    "non-EUR share of picks",
    "picks' balance",
)


def _stack(per_seed, key):
    return np.array([results[key]["final"] for results in per_seed])


def _cell(values) -> str:
    return f"{values.mean():.3f} ± {values.std():.3f}"


def results_table(per_seed, strategies) -> str:
    head = ["strategy", *SHOWN, "DP vs entropy", "EO vs entropy", "s / run"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    entropy = _stack(per_seed, "entropy") if "entropy" in strategies else None
    rows = [
        ("before AL (raw)", ("before", False)),
        ("before AL (causal repr.)", ("before", True)),
    ]
    if ("before", "adversarial") in per_seed[0]:
        rows.append(("before AL (adversarial repr.)", ("before", "adversarial")))
    rows += [(s, s) for s in strategies]
    for label, key in rows:
        scores = _stack(per_seed, key)
        cells = [_cell(scores[:, COLUMNS.index(m)]) for m in SHOWN]
        for metric in ("DP difference", "EO difference"):
            j = COLUMNS.index(metric)
            if entropy is None or key == "entropy":
                cells.append("")
            else:
                change = scores[:, j].mean() / entropy[:, j].mean() - 1
                cells.append(f"{change:+.0%}")
        seconds = (
            [r[key]["seconds"] for r in per_seed]
            if key in per_seed[0] and "seconds" in per_seed[0][key]
            else None
        )
        cells.append(f"{np.mean(seconds):.1f}" if seconds else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


PAPER = {
    "DP difference": (0.2429, 0.1333),
    "EO difference": (1.0, 0.3011),
    "OT distance": (0.0072, 0.0097),
}


def table_one(per_seed) -> str:
    """The paper's Table 1 form: before AL, then after 300 labels."""
    before = _stack(per_seed, ("before", False))
    entropy = _stack(per_seed, "entropy")
    entropy_repr = _stack(per_seed, "entropy + causal representation")
    facagen = _stack(per_seed, "FACA-GEN")
    lines = [
        "| metric | before AL | after entropy | after entropy + causal repr. | "
        "after FACA-GEN | FACA-GEN vs before | FACA-GEN vs entropy | "
        "FACA-GEN vs entropy + causal repr. | paper: before -> after (change) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for metric in (
        "DP difference",
        "EO difference",
        "OT distance",
        "accuracy",
        "F1",
        "ROC AUC",
    ):
        j = COLUMNS.index(metric)
        b, e, r, f = (s[:, j].mean() for s in (before, entropy, entropy_repr, facagen))
        paper = ""
        if metric in PAPER:
            pb, pa = PAPER[metric]
            paper = f"{pb:.4f} -> {pa:.4f} ({pa / pb - 1:+.0%})"
        lines.append(
            f"| {metric} | {b:.4f} | {e:.4f} | {r:.4f} | {f:.4f} | {f / b - 1:+.0%} | "
            f"{f / e - 1:+.0%} | {f / r - 1:+.0%} | {paper} |"
        )
    return "\n".join(lines)


def arms_table(per_seed, strategies) -> str:
    lines = [
        "| strategy | informativeness | fairness | causal consistency | final lambda "
        "| labels postponed at the end |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in strategies:
        if name not in FACAGEN:
            continue
        arms = [a for r in per_seed for a in r[name]["arms"]]
        shares = [
            np.mean([a == arm for a in arms])
            for arm in ("informativeness", "fairness", "causal_consistency")
        ]
        lam = np.mean([r[name]["lambda"][-1] for r in per_seed])
        post = np.mean([r[name]["postponed"] for r in per_seed])
        lines.append(
            f"| {name} | "
            + " | ".join(f"{s:.0%}" for s in shares)
            + f" | {lam:.2f} | {post:.1f} |"
        )
    return "\n".join(lines)


def plot(per_seed, strategies, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [
        s
        for s in (
            "random",
            "entropy",
            "FAL",
            "Falcon",
            "FACA-GEN",
            "FACA-GEN: no causal representation",
            "entropy + causal representation",
        )
        if s in strategies
    ]
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.2))
    for ax, metric in zip(axes[:3], ("DP difference", "EO difference", "accuracy")):
        j = METRICS.index(metric)
        for name in shown:
            n_labels = per_seed[0][name]["curve"][0]
            curves = np.array([[s[j] for s in r[name]["curve"][1]] for r in per_seed])
            ax.plot(n_labels, curves.mean(axis=0), label=name)
        ax.set_xlabel("labels bought (incl. the 200 seed labels)")
        ax.set_title(f"test {metric} (European vs not)")
    axes[0].legend(fontsize=7)
    if "FACA-GEN" in strategies:
        arms = np.array([r["FACA-GEN"]["arms"] for r in per_seed])
        rounds = np.arange(1, arms.shape[1] + 1)
        for arm in ("informativeness", "fairness", "causal_consistency"):
            # Cumulative share: a bandit's preference shows as a trend.
            pulls = np.cumsum(arms == arm, axis=1) / rounds
            axes[3].plot(rounds, pulls.mean(axis=0), label=arm)
        axes[3].set_xlabel("round")
        axes[3].set_title("FACA-GEN: share of rounds so far on each arm")
        axes[3].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel")
    parser.add_argument("--quick", action="store_true", help="four strategies only")
    parser.add_argument("--out", default=str(RESULTS / "facagen_1kg.md"))
    args = parser.parse_args()
    strategies = QUICK if args.quick else [*BASELINES, *FACAGEN]
    from joblib import Parallel, delayed

    start = time.perf_counter()
    per_seed = Parallel(n_jobs=args.jobs)(
        delayed(run_seed)(strategies, seed, args.jobs) for seed in range(args.seeds)
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/facagen_1kg.py " + " ".join(sys.argv[1:])
    sections = [
        f"Made by `{command.strip()}`: {args.seeds} seeds, "
        f"{(time.perf_counter() - start) / 60:.1f} min. DP / EO / OT distance "
        "between European and non-European test rows; see the script's header.",
        "## After 300 labels\n\n" + results_table(per_seed, strategies),
        "## In the form of the paper's Table 1 (before AL: the seed-set model on "
        "raw features)\n\n" + table_one(per_seed),
        "## Arms FACA-GEN pulled\n\n" + arms_table(per_seed, strategies),
    ]
    plot(per_seed, strategies, out.with_suffix(".png"))
    text = "\n\n".join(sections) + "\n"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
