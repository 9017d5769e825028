"""Tests for skfairal.metrics and skfairal.utils.check_sensitive_features.

Expected values come from independent sources: fairlearn (the reference the
metrics are documented to agree with), scipy / scikit-learn, or small cases
worked out by hand in the comments. Nothing is copied from our own output.
"""

import itertools
import warnings

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import wasserstein_distance
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import GridSearchCV, KFold

from skfairal.metrics import (
    GroupReport,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    error_rate_balance_difference,
    group_report,
    make_fairness_scorer,
    optimal_transport_distance,
)
from skfairal.utils import check_sensitive_features

METHODS = ("between_groups", "to_overall")
AGGS = ("worst_case", "mean")
TOL = 1e-12

DIFFERENCES = (
    demographic_parity_difference,
    equalized_odds_difference,
    error_rate_balance_difference,
)
RATIOS = (demographic_parity_ratio, equalized_odds_ratio)


# --------------------------------------------------------------------------
# 1. Agreement with fairlearn on randomized inputs
# --------------------------------------------------------------------------

# Every seed gets one of these 16 configurations (cycled), so each label kind,
# container, weighting and number of sensitive columns is covered many times.
_CONFIGS = list(
    itertools.product(("int", "str"), ("numpy", "pandas"), (False, True), (1, 2))
)
SEEDS = range(40)


def _random_case(seed):
    """Random binary predictions for 2-6 groups where every rate is defined.

    Each group holds the four rows (y_true, y_pred) = (1,1), (0,1), (1,0), (0,0),
    so its TPR, FPR and selection rate lie strictly between 0 and 1: no rate is
    undefined and no ratio compares two zeros (where we deliberately differ).
    """
    label_kind, container, weighted, n_columns = _CONFIGS[seed % len(_CONFIGS)]
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(2, 7))
    pool = np.arange(-20, 80)
    if n_columns == 1:
        groups = [(int(v),) for v in rng.choice(pool, n_groups, replace=False)]
    else:
        a = rng.choice(pool, 3, replace=False)
        b = rng.choice(pool, 3, replace=False)
        combos = list(itertools.product(a.tolist(), b.tolist()))
        groups = [combos[i] for i in rng.choice(len(combos), n_groups, replace=False)]
    y_true, y_pred, rows = [], [], []
    for g in groups:
        size = int(rng.integers(8, 40))
        y = (rng.random(size) < rng.uniform(0.2, 0.8)).astype(int)
        p = np.where(rng.random(size) < rng.uniform(0.1, 0.5), 1 - y, y)
        y[:4], p[:4] = [1, 0, 1, 0], [1, 1, 0, 0]
        y_true.append(y)
        y_pred.append(p)
        rows += [g] * size
    perm = rng.permutation(len(rows))
    y_true = np.concatenate(y_true)[perm]
    y_pred = np.concatenate(y_pred)[perm]
    rows = [rows[i] for i in perm]
    columns = []
    for j in range(n_columns):
        col = [r[j] for r in rows]
        # String labels: the first column becomes strings (the second, if any,
        # stays int, so a DataFrame mixes column types).
        if label_kind == "str" and j == 0:
            col = [f"g{v}" for v in col]
        columns.append(np.array(col))
    weights = rng.uniform(0.1, 3.0, len(rows)) if weighted else None
    names = ["race", "sex"][:n_columns]
    if container == "numpy":
        sf = columns[0] if n_columns == 1 else np.column_stack(columns)
    else:
        index = rng.permutation(len(rows)) + 1000
        y_true = pd.Series(y_true, index=index)
        y_pred = pd.Series(y_pred, index=index)
        if weights is not None:
            weights = pd.Series(weights, index=index)
        if n_columns == 1:
            sf = pd.Series(columns[0], index=index, name=names[0])
        else:
            sf = pd.DataFrame(dict(zip(names, columns)), index=index)
    return {
        "y_true": y_true,
        "y_pred": y_pred,
        "sensitive_features": sf,
        "sample_weight": weights,
    }


def _assert_close(ours, theirs, what):
    assert abs(ours - theirs) <= TOL, f"{what}: ours={ours!r} fairlearn={theirs!r}"


@pytest.mark.parametrize("seed", SEEDS)
def test_demographic_parity_agrees_with_fairlearn(seed):
    case = _random_case(seed)
    pairs = [
        (demographic_parity_difference, flm.demographic_parity_difference),
        (demographic_parity_ratio, flm.demographic_parity_ratio),
    ]
    for (ours, theirs), method in itertools.product(pairs, METHODS):
        _assert_close(
            ours(**case, method=method),
            theirs(**case, method=method),
            f"{ours.__name__} {method}",
        )


def _agg_for_seed(seed):
    # fairlearn's equalized odds costs ~50-100 ms a call, so each seed checks one
    # agg (both functions, both methods). Alternating with a shift every 16
    # seeds gives each of the 16 configurations both aggs across the 40 seeds.
    return AGGS[(seed + seed // len(_CONFIGS)) % 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_equalized_odds_agrees_with_fairlearn(seed):
    case = _random_case(seed)
    agg = _agg_for_seed(seed)
    pairs = [
        (equalized_odds_difference, flm.equalized_odds_difference),
        (equalized_odds_ratio, flm.equalized_odds_ratio),
    ]
    for (ours, theirs), method in itertools.product(pairs, METHODS):
        _assert_close(
            ours(**case, method=method, agg=agg),
            theirs(**case, method=method, agg=agg),
            f"{ours.__name__} {method} {agg}",
        )


def _error_rate(y_true, y_pred, sample_weight=None):
    # accuracy_score normalises by the total weight: this is
    # sum(w * [y != yhat]) / sum(w), the weighted error rate.
    return 1.0 - accuracy_score(y_true, y_pred, sample_weight=sample_weight)


@pytest.mark.parametrize("seed", SEEDS)
def test_error_rate_balance_agrees_with_fairlearn_metricframe(seed):
    case = _random_case(seed)
    w = case["sample_weight"]
    frame = flm.MetricFrame(
        metrics=_error_rate,
        y_true=case["y_true"],
        y_pred=case["y_pred"],
        sensitive_features=case["sensitive_features"],
        sample_params=None if w is None else {"sample_weight": w},
    )
    for method in METHODS:
        _assert_close(
            error_rate_balance_difference(**case, method=method),
            frame.difference(method=method),
            f"error_rate_balance_difference {method}",
        )


def test_random_cases_cover_every_configuration():
    # Guards the generator: the agreement tests above must really see
    # pandas and numpy, weights, string labels and two sensitive columns.
    kinds = set()
    for seed in SEEDS:
        case = _random_case(seed)
        sf = case["sensitive_features"]
        kinds.add(
            (
                type(sf).__name__,
                np.ndim(sf),
                case["sample_weight"] is None,
                np.asarray(sf).dtype.kind,
            )
        )
        enc = check_sensitive_features(sf)
        assert 2 <= enc.n_groups <= 6
    assert {k[0] for k in kinds} == {"ndarray", "Series", "DataFrame"}
    assert {k[1] for k in kinds} == {1, 2}
    assert {k[2] for k in kinds} == {True, False}
    assert {"U", "i"} <= {k[3] for k in kinds}
    for config in range(len(_CONFIGS)):
        seeds = [s for s in SEEDS if s % len(_CONFIGS) == config]
        assert {_agg_for_seed(s) for s in seeds} == set(AGGS)


# --------------------------------------------------------------------------
# 2. Undefined rates and documented deviations from fairlearn
# --------------------------------------------------------------------------

# Group "b" has no positive y_true, so its TPR is undefined.
#   a: y=1,1,0,0       p=1,0,1,0       TPR 1/2, FPR 1/2
#   b: y=0,0,0,0       p=1,0,0,0       TPR  - , FPR 1/4
#   c: y=1,1,1,1,0,0   p=1,1,1,1,1,0   TPR  1 , FPR 1/2
# overall TPR = 5/6, overall FPR = 3/8.
_UNDEF = {
    "y_true": np.concatenate([[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1, 0, 0]]),
    "y_pred": np.concatenate([[1, 0, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1, 1, 0]]),
    "sensitive_features": np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 6),
}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (equalized_odds_difference, flm.equalized_odds_difference),
        (equalized_odds_ratio, flm.equalized_odds_ratio),
    ],
)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("agg", AGGS)
def test_undefined_tpr_warns_and_matches_fairlearn(ours, theirs, method, agg):
    expected = theirs(**_UNDEF, method=method, agg=agg)
    with pytest.warns(UndefinedMetricWarning, match=r"true positive rate.*'b'") as rec:
        value = ours(**_UNDEF, method=method, agg=agg)
    _assert_close(value, expected, ours.__name__)
    # The warning points at the caller (this file), not inside the package.
    assert rec[0].filename == __file__


def test_fairlearn_sets_undefined_tpr_to_zero():
    # The premise of zero_division="warn": fairlearn's TPR of group b is 0.
    frame = flm.MetricFrame(metrics=flm.true_positive_rate, **_UNDEF)
    assert frame.by_group["b"] == 0.0


def test_zero_division_zero_matches_fairlearn_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = equalized_odds_difference(**_UNDEF, zero_division=0.0)
    _assert_close(value, flm.equalized_odds_difference(**_UNDEF), "zero_division=0")


@pytest.mark.parametrize(
    ("func", "kwargs", "expected"),
    [
        # TPRs {1/2, 1}: gap 1/2; FPRs {1/2, 1/4, 1/2}: gap 1/4.
        (equalized_odds_difference, {}, 0.5),
        (equalized_odds_difference, {"agg": "mean"}, (0.5 + 0.25) / 2),
        # |1/2 - 5/6| = 1/3 is the largest TPR gap; FPR gaps are 1/8.
        (equalized_odds_difference, {"method": "to_overall"}, 1 / 3),
        # TPR ratio (1/2)/1, FPR ratio (1/4)/(1/2).
        (equalized_odds_ratio, {}, 0.5),
        # TPR ratios to 5/6: 3/5 and 5/6; FPR ratios to 3/8: 3/4, 2/3, 3/4.
        (equalized_odds_ratio, {"method": "to_overall"}, 3 / 5),
        (
            equalized_odds_ratio,
            {"method": "to_overall", "agg": "mean"},
            (3 / 5 + 2 / 3) / 2,
        ),
    ],
)
def test_zero_division_nan_leaves_group_out(func, kwargs, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = func(**_UNDEF, zero_division=np.nan, **kwargs)
    assert value == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("zero_division", ["foo", "Warn", None, 2, -1, 0.5, [0]])
@pytest.mark.parametrize("func", [equalized_odds_difference, equalized_odds_ratio])
@pytest.mark.parametrize("defined", [True, False])
def test_invalid_zero_division_raises(func, zero_division, defined):
    # Validated whether or not some rate is actually undefined.
    data = _UNDEF if not defined else _two_groups_all_defined()
    with pytest.raises(ValueError, match="zero_division"):
        func(**data, zero_division=zero_division)


def _two_groups_all_defined():
    return {
        "y_true": np.array([1, 0, 1, 0, 1, 0, 1, 0]),
        "y_pred": np.array([1, 0, 0, 1, 1, 1, 1, 0]),
        "sensitive_features": np.array([0] * 4 + [1] * 4),
    }


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        # TPR defined only for group 0 (group 1 has no positives).
        ([1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 1, 0, 1, 1, 1, 0]),
        # FPR defined only for group 0 (group 1 has no negatives).
        ([1, 1, 0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 1, 1, 0]),
    ],
)
@pytest.mark.parametrize("func", [equalized_odds_difference, equalized_odds_ratio])
@pytest.mark.parametrize("agg", AGGS)
def test_rate_defined_for_one_group_only_is_nan_whichever_rate(
    func, y_true, y_pred, agg
):
    # With zero_division=nan one rate compares a single group: no comparison,
    # so the result is undefined, whether TPR or FPR is the incomplete one.
    value = func(
        y_true,
        y_pred,
        sensitive_features=[0] * 4 + [1] * 4,
        zero_division=np.nan,
        agg=agg,
    )
    assert np.isnan(value)


@pytest.mark.parametrize("method", METHODS)
def test_ratio_of_two_zero_rates_is_one_where_fairlearn_gives_nan(method):
    y_true = np.array([1, 0, 1, 0, 1, 0])
    y_pred = np.zeros(6, dtype=int)
    sf = np.array([0, 0, 1, 1, 2, 2])
    theirs = flm.demographic_parity_ratio(
        y_true, y_pred, sensitive_features=sf, method=method
    )
    assert np.isnan(theirs)
    ours = demographic_parity_ratio(
        y_true, y_pred, sensitive_features=sf, method=method
    )
    assert ours == 1.0


def test_equalized_odds_ratio_with_both_tpr_zero_uses_one():
    # TPR 0 and 0 (ratio 1 by convention); FPR 1/2 and 1 (ratio 1/2).
    y_true = [1, 0, 0, 1, 0, 0]
    y_pred = [0, 1, 0, 0, 1, 1]
    sf = [0, 0, 0, 1, 1, 1]
    assert equalized_odds_ratio(y_true, y_pred, sensitive_features=sf) == 0.5
    assert equalized_odds_ratio(
        y_true, y_pred, sensitive_features=sf, agg="mean"
    ) == pytest.approx((1 + 0.5) / 2)


@pytest.mark.parametrize("func", [*DIFFERENCES, *RATIOS])
def test_single_group_raises_where_fairlearn_returns_zero(func):
    y_true = [1, 0, 1, 0]
    y_pred = [1, 0, 0, 1]
    sf = ["a"] * 4
    if func is demographic_parity_difference:
        assert (
            flm.demographic_parity_difference(y_true, y_pred, sensitive_features=sf)
            == 0
        )
    with pytest.raises(
        ValueError, match=r"sensitive_features has 1 distinct.*at least 2"
    ):
        func(y_true, y_pred, sensitive_features=sf)


# --------------------------------------------------------------------------
# 3. optimal_transport_distance
# --------------------------------------------------------------------------


def _two_group_scores(seed, n_a=17, n_b=23):
    rng = np.random.default_rng(seed)
    a = rng.beta(2, 5, n_a)
    b = rng.beta(4, 3, n_b)
    scores = np.concatenate([a, b])
    sf = np.array(["a"] * n_a + ["b"] * n_b)
    perm = rng.permutation(len(scores))
    return scores[perm], sf[perm], rng


@pytest.mark.parametrize("seed", range(5))
def test_otd_p1_matches_scipy(seed):
    scores, sf, _ = _two_group_scores(seed)
    expected = wasserstein_distance(scores[sf == "a"], scores[sf == "b"])
    ours = optimal_transport_distance(None, scores, sensitive_features=sf)
    assert ours == pytest.approx(expected, rel=TOL, abs=TOL)


@pytest.mark.parametrize("seed", range(5))
def test_otd_p1_weighted_matches_scipy(seed):
    scores, sf, rng = _two_group_scores(seed)
    w = rng.uniform(0.0, 4.0, len(scores))
    a, b = sf == "a", sf == "b"
    expected = wasserstein_distance(scores[a], scores[b], w[a], w[b])
    ours = optimal_transport_distance(
        np.zeros(len(scores)), scores, sensitive_features=sf, sample_weight=w
    )
    assert ours == pytest.approx(expected, rel=TOL, abs=TOL)


@pytest.mark.parametrize("seed", range(5))
def test_otd_p2_equal_sizes_matches_sorted_coupling(seed):
    # For two empirical measures with n equally weighted atoms each, the
    # optimal coupling matches order statistics: W_2 = sqrt(mean(diff**2)).
    scores, sf, _ = _two_group_scores(seed, n_a=20, n_b=20)
    a, b = np.sort(scores[sf == "a"]), np.sort(scores[sf == "b"])
    expected = np.sqrt(np.mean((a - b) ** 2))
    ours = optimal_transport_distance(None, scores, sensitive_features=sf, p=2)
    assert ours == pytest.approx(expected, rel=TOL, abs=TOL)


def test_otd_returns_wp_not_wp_to_the_p():
    # Couplings 0->1 and 1->3 (sorted): W_2 = sqrt((1 + 4) / 2), W_2**2 = 2.5.
    value = optimal_transport_distance(
        None, [0.0, 1.0, 1.0, 3.0], sensitive_features=[0, 0, 1, 1], p=2
    )
    assert value == pytest.approx(np.sqrt(2.5), rel=TOL)
    # p=3: diffs 1 and 2, W_3 = ((1 + 8) / 2) ** (1/3).
    value = optimal_transport_distance(
        None, [0.0, 1.0, 1.0, 3.0], sensitive_features=[0, 0, 1, 1], p=3
    )
    assert value == pytest.approx(4.5 ** (1 / 3), rel=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_otd_between_groups_is_max_pairwise(weighted):
    rng = np.random.default_rng(7)
    sizes = {"x": 11, "y": 15, "z": 9, "w": 13}
    sf = np.repeat(list(sizes), list(sizes.values()))
    scores = np.concatenate(
        [rng.normal(loc, 1.0, n) for loc, n in zip([0, 0.3, 2.0, -1.0], sizes.values())]
    )
    w = rng.uniform(0.5, 2.0, len(sf)) if weighted else np.ones(len(sf))
    expected = max(
        wasserstein_distance(scores[sf == g], scores[sf == h], w[sf == g], w[sf == h])
        for g, h in itertools.combinations(sizes, 2)
    )
    ours = optimal_transport_distance(
        None, scores, sensitive_features=sf, sample_weight=w if weighted else None
    )
    assert ours == pytest.approx(expected, rel=TOL, abs=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_otd_to_overall_is_max_distance_to_pooled(weighted):
    rng = np.random.default_rng(8)
    sf = np.repeat(["x", "y", "z"], [10, 20, 7])
    scores = rng.normal(size=len(sf)) + (sf == "z") * 1.5
    w = rng.uniform(0.5, 2.0, len(sf)) if weighted else np.ones(len(sf))
    expected = max(
        wasserstein_distance(scores[sf == g], scores, w[sf == g], w)
        for g in ["x", "y", "z"]
    )
    ours = optimal_transport_distance(
        None,
        scores,
        sensitive_features=sf,
        method="to_overall",
        sample_weight=w if weighted else None,
    )
    assert ours == pytest.approx(expected, rel=TOL, abs=TOL)
    between = optimal_transport_distance(None, scores, sensitive_features=sf)
    assert ours < between


def test_otd_intersectional_dataframe():
    rng = np.random.default_rng(9)
    sf = pd.DataFrame(
        {"race": rng.choice(["r", "s"], 60), "sex": rng.choice([0, 1], 60)}
    )
    scores = rng.random(60)
    keys = list(zip(sf["race"], sf["sex"]))
    groups = sorted(set(keys))
    masks = [np.array([k == g for k in keys]) for g in groups]
    expected = max(
        wasserstein_distance(scores[m1], scores[m2])
        for m1, m2 in itertools.combinations(masks, 2)
    )
    ours = optimal_transport_distance(None, scores, sensitive_features=sf)
    assert ours == pytest.approx(expected, rel=TOL, abs=TOL)


def test_otd_zero_weight_group_raises_naming_group():
    with pytest.raises(ValueError, match=r"group 'b'.*zero total sample_weight"):
        optimal_transport_distance(
            None,
            [0.1, 0.2, 0.3, 0.4],
            sensitive_features=["a", "a", "b", "b"],
            sample_weight=[1.0, 1.0, 0.0, 0.0],
        )


@pytest.mark.parametrize("as_list", [False, True])
def test_otd_predict_proba_output_raises_helpfully(as_list):
    proba = np.column_stack([np.linspace(0, 1, 6), 1 - np.linspace(0, 1, 6)])
    y_score = proba.tolist() if as_list else proba
    with pytest.raises(ValueError, match=r"y_score must be 1-D.*\[:, 1\]"):
        optimal_transport_distance(None, y_score, sensitive_features=[0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("p", [0.5, 0, -1, np.nan, True, "2"])
def test_otd_invalid_p_raises(p):
    with pytest.raises(ValueError, match="p must be a real number >= 1"):
        optimal_transport_distance(
            None, [0.1, 0.2, 0.3, 0.4], sensitive_features=[0, 0, 1, 1], p=p
        )


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_otd_non_finite_scores_raise(bad):
    with pytest.raises(ValueError, match="y_score contains NaN or infinite"):
        optimal_transport_distance(
            None, [0.1, bad, 0.3, 0.4], sensitive_features=[0, 0, 1, 1]
        )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_otd_shift_invariance_and_scale_equivariance(method, p):
    scores, sf, rng = _two_group_scores(3)
    sf = sf.copy()
    sf[:5] = "c"  # three groups
    w = rng.uniform(0.5, 2.0, len(scores))

    def otd(s):
        return optimal_transport_distance(
            None, s, sensitive_features=sf, p=p, method=method, sample_weight=w
        )

    base = otd(scores)
    assert base > 0
    assert otd(scores + 3.25) == pytest.approx(base, rel=1e-9)
    assert otd(scores * 4.0) == pytest.approx(4.0 * base, rel=1e-9)
    assert otd(scores * -0.5) == pytest.approx(0.5 * base, rel=1e-9)


def test_otd_identical_distributions_is_zero():
    block = np.array([0.1, 0.7, 0.3, 0.3, 0.9])
    scores = np.tile(block, 3)
    sf = np.repeat(["a", "b", "c"], len(block))
    for method in METHODS:
        value = optimal_transport_distance(
            None, scores, sensitive_features=sf, method=method
        )
        assert value == pytest.approx(0.0, abs=TOL)


# --------------------------------------------------------------------------
# 4. Property-based tests
# --------------------------------------------------------------------------

_fast = settings(max_examples=40, deadline=None, database=None)


@st.composite
def grouped_data(draw, max_groups=5):
    """Groups as consecutive blocks; every group has both classes in y_true."""
    k = draw(st.integers(2, max_groups))
    sizes = draw(st.lists(st.integers(2, 9), min_size=k, max_size=k))
    n = sum(sizes)
    y_true = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y_pred = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    starts = np.cumsum([0, *sizes[:-1]])
    y_true[starts], y_true[starts + 1] = 1, 0
    weights = draw(
        st.none()
        | st.lists(st.floats(0.1, 10.0, allow_nan=False), min_size=n, max_size=n).map(
            np.array
        )
    )
    groups = np.repeat(np.arange(k), sizes)
    return y_true, y_pred, groups, weights


def _all_metrics(y_true, y_pred, sf, w, zero_division=np.nan):
    out = {}
    for method in METHODS:
        for f in (demographic_parity_difference, demographic_parity_ratio):
            out[f.__name__, method] = f(
                y_true, y_pred, sensitive_features=sf, method=method, sample_weight=w
            )
        out["erb", method] = error_rate_balance_difference(
            y_true, y_pred, sensitive_features=sf, method=method, sample_weight=w
        )
        for f, agg in itertools.product(
            (equalized_odds_difference, equalized_odds_ratio), AGGS
        ):
            out[f.__name__, method, agg] = f(
                y_true,
                y_pred,
                sensitive_features=sf,
                method=method,
                sample_weight=w,
                agg=agg,
                zero_division=zero_division,
            )
    return out


def _assert_same_metrics(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=TOL, nan_ok=True), key


@_fast
@given(data=grouped_data(), perm_seed=st.integers(0, 2**32 - 1))
def test_property_row_permutation_invariance(data, perm_seed):
    y_true, y_pred, groups, w = data
    perm = np.random.default_rng(perm_seed).permutation(len(y_true))
    scores = y_pred + 0.37 * y_true
    before = _all_metrics(y_true, y_pred, groups, w)
    after = _all_metrics(
        y_true[perm], y_pred[perm], groups[perm], None if w is None else w[perm]
    )
    _assert_same_metrics(before, after)
    otd = optimal_transport_distance(
        None, scores, sensitive_features=groups, sample_weight=w
    )
    otd_perm = optimal_transport_distance(
        None,
        scores[perm],
        sensitive_features=groups[perm],
        sample_weight=None if w is None else w[perm],
    )
    assert otd_perm == pytest.approx(otd, abs=1e-9)


@_fast
@given(
    data=grouped_data(),
    new_labels=st.one_of(
        st.lists(st.integers(-(10**6), 10**6), min_size=5, max_size=5, unique=True),
        st.lists(st.text(min_size=1, max_size=4), min_size=5, max_size=5, unique=True),
    ),
)
def test_property_group_relabeling_invariance(data, new_labels):
    # Any injective relabeling (int -> int, int -> str) changes the group
    # order but not the groups, so no metric may change.
    y_true, y_pred, groups, w = data
    relabeled = np.array(new_labels)[groups]
    assert len(np.unique(relabeled)) == len(np.unique(groups))
    _assert_same_metrics(
        _all_metrics(y_true, y_pred, groups, w),
        _all_metrics(y_true, y_pred, relabeled, w),
    )


@_fast
@given(data=grouped_data())
def test_property_bounds(data):
    y_true, y_pred, groups, w = data
    values = _all_metrics(y_true, y_pred, groups, w, zero_division="warn")
    for key, value in values.items():
        assert 0.0 <= value <= 1.0, key


@_fast
@given(data=grouped_data(max_groups=4), n_groups=st.integers(2, 4))
def test_property_group_blind_predictions_are_fair(data, n_groups):
    # The same block of (y_true, y_pred, weight) repeated for every group:
    # every group has the same distribution, so each gap is 0 and each ratio 1.
    y_true, y_pred, _, w = data
    n = len(y_true)
    tile = np.tile
    groups = np.repeat([f"g{i}" for i in range(n_groups)], n)
    weights = None if w is None else tile(w, n_groups)
    values = _all_metrics(
        tile(y_true, n_groups), tile(y_pred, n_groups), groups, weights
    )
    for key, value in values.items():
        expected = 1.0 if "ratio" in key[0] else 0.0
        assert value == pytest.approx(expected, abs=TOL), key
    scores = tile(y_pred + 0.25 * y_true, n_groups)
    assert optimal_transport_distance(
        None, scores, sensitive_features=groups, sample_weight=weights
    ) == pytest.approx(0.0, abs=TOL)


@_fast
@given(data=grouped_data())
def test_property_to_overall_at_most_between_groups(data):
    # The overall rate is a weighted mean of the group rates, so it lies between
    # their min and max: |s_a - s| <= max - min.
    y_true, y_pred, groups, w = data
    values = _all_metrics(y_true, y_pred, groups, w)
    for name in ("demographic_parity_difference", "erb"):
        assert values[name, "to_overall"] <= values[name, "between_groups"] + TOL
    # Likewise min/max <= s_a/s and s/s_a for min <= s <= max.
    ratio = "demographic_parity_ratio"
    assert values[ratio, "to_overall"] >= values[ratio, "between_groups"] - TOL
    for agg in AGGS:
        assert (
            values["equalized_odds_difference", "to_overall", agg]
            <= values["equalized_odds_difference", "between_groups", agg] + TOL
        )
        assert (
            values["equalized_odds_ratio", "to_overall", agg]
            >= values["equalized_odds_ratio", "between_groups", agg] - TOL
        )


# --------------------------------------------------------------------------
# 5. group_report
# --------------------------------------------------------------------------


def _report_data(seed=11):
    rng = np.random.default_rng(seed)
    sf = np.repeat(["p", "q", "r"], [30, 25, 40])
    y_true = (rng.random(len(sf)) < 0.5).astype(int)
    y_pred = np.where(rng.random(len(sf)) < 0.3, 1 - y_true, y_true)
    y_true[[0, 1, 30, 31, 55, 56]] = [1, 0, 1, 0, 1, 0]
    y_pred[[0, 1, 30, 31, 55, 56]] = [1, 1, 1, 1, 1, 1]
    w = rng.uniform(0.2, 3.0, len(sf))
    return y_true, y_pred, sf, w


@pytest.mark.parametrize("weighted", [False, True])
def test_group_report_matches_sklearn_per_group(weighted):
    y_true, y_pred, sf, w = _report_data()
    w = w if weighted else None
    report = group_report(y_true, y_pred, sensitive_features=sf, sample_weight=w)
    assert isinstance(report, GroupReport)
    assert report.groups == ["p", "q", "r", "overall"]
    masks = [sf == g for g in ["p", "q", "r"]] + [np.ones(len(sf), dtype=bool)]
    ww = np.ones(len(sf)) if w is None else w
    for i, m in enumerate(masks):
        yt, yp, wi = y_true[m], y_pred[m], None if w is None else w[m]
        expected = {
            "n": ww[m].sum(),
            "selection_rate": (ww[m] * yp).sum() / ww[m].sum(),
            "tpr": recall_score(yt, yp, sample_weight=wi),
            "fpr": 1.0 - recall_score(yt, yp, pos_label=0, sample_weight=wi),
            "accuracy": accuracy_score(yt, yp, sample_weight=wi),
            "f1": f1_score(yt, yp, sample_weight=wi),
        }
        for column, value in expected.items():
            assert report[column][i] == pytest.approx(value, rel=TOL, abs=TOL), (
                report.groups[i],
                column,
            )
    assert set(report.columns) == {
        "n",
        "selection_rate",
        "tpr",
        "fpr",
        "accuracy",
        "f1",
    }


def test_group_report_undefined_is_nan():
    # Group "b" has no positives: TPR undefined (NaN), FPR 1/4 defined.
    report = group_report(**_UNDEF)
    b = report.groups.index("b")
    assert np.isnan(report["tpr"][b])
    assert report["fpr"][b] == 0.25
    others = [i for i, g in enumerate(report.groups) if g != "b"]
    assert np.all(np.isfinite(report["tpr"][others]))


def test_group_report_intersectional_groups_and_names():
    sf = pd.DataFrame({"race": ["x", "x", "y", "y"] * 2, "sex": [0, 1] * 4})
    report = group_report(
        [1, 0, 1, 0, 0, 1, 0, 1], [1, 1, 0, 0, 1, 0, 1, 0], sensitive_features=sf
    )
    assert report.groups == [("x", 0), ("x", 1), ("y", 0), ("y", 1), "overall"]
    assert report.sensitive_feature_names == ["race", "sex"]
    np.testing.assert_array_equal(report["n"], [2, 2, 2, 2, 8])


def test_group_report_to_frame():
    y_true, y_pred, sf, w = _report_data()
    report = group_report(y_true, y_pred, sensitive_features=sf, sample_weight=w)
    frame = report.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["p", "q", "r", "overall"]
    assert frame.index.name == "group"
    assert list(frame.columns) == list(report.columns)
    for column in report.columns:
        np.testing.assert_array_equal(frame[column].to_numpy(), report[column])


def test_group_report_markdown_and_str():
    report = group_report(**_UNDEF)
    lines = report.to_markdown().splitlines()
    # header + separator + one line per group + the overall row
    assert len(lines) == 2 + 3 + 1
    assert lines[0].startswith("| group | n |")
    assert set(lines[1]) <= {"|", "-", ":"}
    for line, group in zip(lines[2:], ["a", "b", "c", "overall"]):
        assert line.startswith(f"| {group} |")
        assert line.count("|") == 2 + len(report.columns)
    assert "nan" in lines[3]  # group b's TPR
    text = str(report)
    for group in ["a", "b", "c", "overall"]:
        assert any(line.split()[0] == group for line in text.splitlines())
    assert "GroupReport" in repr(report)


# --------------------------------------------------------------------------
# 6. make_fairness_scorer
# --------------------------------------------------------------------------


def _classification_data(n=150, seed=0):
    rng = np.random.default_rng(seed)
    sf = rng.choice(["u", "v", "w"], n)
    X = np.column_stack(
        [rng.normal(size=n), rng.normal(size=n), (sf == "u") + rng.normal(0, 0.3, n)]
    )
    y = (X[:, 0] + X[:, 2] + rng.normal(0, 0.5, n) > 0.5).astype(int)
    return X, y, sf


@pytest.mark.parametrize(
    ("name", "func", "sign"),
    [
        ("demographic_parity_difference", demographic_parity_difference, -1),
        ("demographic_parity_ratio", demographic_parity_ratio, 1),
        ("equalized_odds_difference", equalized_odds_difference, -1),
        ("equalized_odds_ratio", equalized_odds_ratio, 1),
        ("error_rate_balance_difference", error_rate_balance_difference, -1),
    ],
)
def test_scorer_direct_call_is_signed_metric(name, func, sign):
    X, y, sf = _classification_data()
    clf = LogisticRegression().fit(X, y)
    expected = func(y, clf.predict(X), sensitive_features=sf)
    assert 0 < expected < 1
    score = make_fairness_scorer(name)(clf, X, y, sensitive_features=sf)
    assert score == pytest.approx(sign * expected, abs=TOL)


def test_scorer_forwards_sample_weight():
    X, y, sf = _classification_data()
    w = np.random.default_rng(1).uniform(0.1, 5.0, len(y))
    clf = LogisticRegression().fit(X, y)
    expected = demographic_parity_difference(
        y, clf.predict(X), sensitive_features=sf, sample_weight=w
    )
    assert expected != demographic_parity_difference(
        y, clf.predict(X), sensitive_features=sf
    )
    scorer = make_fairness_scorer("demographic_parity_difference")
    assert scorer(clf, X, y, sensitive_features=sf, sample_weight=w) == pytest.approx(
        -expected, abs=TOL
    )


def test_otd_scorer_uses_predict_proba_positive_column():
    X, y, sf = _classification_data()
    clf = LogisticRegression().fit(X, y)
    scorer = make_fairness_scorer("optimal_transport_distance")
    expected = optimal_transport_distance(
        y, clf.predict_proba(X)[:, 1], sensitive_features=sf
    )
    on_labels = optimal_transport_distance(y, clf.predict(X), sensitive_features=sf)
    assert abs(expected - on_labels) > 1e-3
    assert scorer(clf, X, y, sensitive_features=sf) == pytest.approx(-expected, abs=TOL)


class _ColumnStub(ClassifierMixin, BaseEstimator):
    """predict_proba columns are (0, X[:, 0]): not complementary on purpose,
    so the scored column can be told apart (a distance cannot tell s from 1-s).
    """

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        return np.column_stack([np.zeros(len(X)), X[:, 0]])

    def predict(self, X):
        return (np.asarray(X)[:, 0] > 0.5).astype(int)


def test_otd_scorer_takes_column_one_not_zero():
    X = np.array([[0.1], [0.2], [0.6], [0.9]])
    y = np.array([0, 1, 0, 1])
    sf = ["a", "a", "b", "b"]
    stub = _ColumnStub().fit(X, y)
    # Column 1 per group: {0.1, 0.2} vs {0.6, 0.9}: W_1 = (0.5 + 0.7) / 2.
    score = make_fairness_scorer("optimal_transport_distance")(
        stub, X, y, sensitive_features=sf
    )
    assert score == pytest.approx(-0.6, abs=TOL)


def test_scorer_fixed_kwargs_are_forwarded():
    X, y, sf = _classification_data()
    clf = LogisticRegression().fit(X, y)
    pred = clf.predict(X)
    between = demographic_parity_difference(y, pred, sensitive_features=sf)
    overall = demographic_parity_difference(
        y, pred, sensitive_features=sf, method="to_overall"
    )
    assert abs(between - overall) > 1e-3
    scorer = make_fairness_scorer("demographic_parity_difference", method="to_overall")
    assert scorer(clf, X, y, sensitive_features=sf) == pytest.approx(-overall, abs=TOL)
    eo = make_fairness_scorer("equalized_odds_ratio", agg="mean")
    assert eo(clf, X, y, sensitive_features=sf) == pytest.approx(
        equalized_odds_ratio(y, pred, sensitive_features=sf, agg="mean"), abs=TOL
    )


def test_scorer_explicit_greater_is_better_overrides_default():
    X, y, sf = _classification_data()
    clf = LogisticRegression().fit(X, y)
    expected = demographic_parity_difference(y, clf.predict(X), sensitive_features=sf)
    scorer = make_fairness_scorer(
        "demographic_parity_difference", greater_is_better=True
    )
    assert scorer(clf, X, y, sensitive_features=sf) == pytest.approx(expected, abs=TOL)


def test_scorer_custom_callable():
    X, y, sf = _classification_data()
    clf = LogisticRegression().fit(X, y)
    pred = clf.predict(X)

    def positives_in_u(y_true, y_pred, *, sensitive_features, scale=1.0):
        return scale * float(np.sum(y_pred[np.asarray(sensitive_features) == "u"]))

    scorer = make_fairness_scorer(positives_in_u, greater_is_better=False, scale=0.5)
    expected = 0.5 * pred[sf == "u"].sum()
    assert expected > 0
    assert scorer(clf, X, y, sensitive_features=sf) == pytest.approx(-expected)


def test_scorer_without_sensitive_features_raises():
    X, y, _ = _classification_data()
    clf = LogisticRegression().fit(X, y)
    scorer = make_fairness_scorer("demographic_parity_difference")
    with pytest.raises(
        ValueError, match=r"needs sensitive_features.*enable_metadata_routing"
    ):
        scorer(clf, X, y)


def test_scorer_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="not a known fairness metric") as exc:
        make_fairness_scorer("statistical_parity")
    for name in [
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
        "error_rate_balance_difference",
        "optimal_transport_distance",
    ]:
        assert name in str(exc.value)


def test_scorer_callable_requires_greater_is_better():
    with pytest.raises(ValueError, match="greater_is_better is required"):
        make_fairness_scorer(lambda y_true, y_pred, *, sensitive_features: 0.0)


def test_scorer_rejects_non_callable_non_string():
    with pytest.raises(TypeError, match="metric must be a string or a callable"):
        make_fairness_scorer(3)


def test_grid_search_routes_test_fold_groups_to_scorer():
    # Routing setup: the scorer requests sensitive_features by default, so
    # GridSearchCV.fit(..., sensitive_features=s) has a consumer and routes the
    # *test fold's* groups to it. LogisticRegression.fit has no such
    # parameter, so it neither requests nor receives it; set_fit_request would
    # even raise (checked in the next test). Routing is enabled only inside
    # config_context, never globally.
    X, y, sf = _classification_data(n=180, seed=3)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    base = LogisticRegression()
    grid = {"C": [0.01, 1.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            base,
            grid,
            scoring={
                "dp": make_fairness_scorer("demographic_parity_difference"),
                "acc": "accuracy",
            },
            refit="acc",
            cv=cv,
        )
        search.fit(X, y, sensitive_features=sf)
    results = search.cv_results_
    all_folds = []
    for i, params in enumerate(results["params"]):
        folds = []
        for k, (train, test) in enumerate(cv.split(X, y)):
            est = clone(base).set_params(**params).fit(X[train], y[train])
            dp = demographic_parity_difference(
                y[test], est.predict(X[test]), sensitive_features=sf[test]
            )
            folds.append(-dp)
            assert results[f"split{k}_test_dp"][i] == pytest.approx(-dp, abs=TOL)
        assert results["mean_test_dp"][i] == pytest.approx(np.mean(folds), abs=TOL)
        all_folds += folds
    assert min(all_folds) < 0  # the comparison is not vacuous
    assert len(set(np.round(all_folds, 12))) > 1


def test_grid_search_single_fairness_scorer_with_routing():
    X, y, sf = _classification_data(n=120, seed=4)
    cv = KFold(n_splits=3, shuffle=True, random_state=1)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            LogisticRegression(),
            {"C": [1.0]},
            scoring=make_fairness_scorer("demographic_parity_ratio"),
            cv=cv,
        ).fit(X, y, sensitive_features=sf)
    expected = [
        demographic_parity_ratio(
            y[test],
            LogisticRegression().fit(X[train], y[train]).predict(X[test]),
            sensitive_features=sf[test],
        )
        for train, test in cv.split(X, y)
    ]
    assert search.cv_results_["mean_test_score"][0] == pytest.approx(
        np.mean(expected), abs=TOL
    )


def test_routing_needs_a_consumer_of_sensitive_features():
    # Why no set_fit_request: LogisticRegression.fit cannot take the groups,
    # and metadata that no child requests is refused by the router.
    X, y, sf = _classification_data(n=60)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match="sensitive_features"):
            LogisticRegression().set_fit_request(sensitive_features=True)
        scorer = make_fairness_scorer(
            "demographic_parity_difference"
        ).set_score_request(sensitive_features=False)
        search = GridSearchCV(
            LogisticRegression(),
            {"C": [1.0]},
            scoring={"dp": scorer, "acc": "accuracy"},
            refit="acc",
            cv=3,
        )
        with pytest.raises(TypeError, match="not routed to any object"):
            search.fit(X, y, sensitive_features=sf)


@pytest.mark.parametrize("multimetric", [False, True])
def test_grid_search_without_routing_raises_helpful_error(multimetric):
    # With routing off, the groups cannot reach the scorer; the scorer says
    # how to enable routing. error_score="raise" surfaces it (with the default
    # error_score=nan, scikit-learn turns scorer errors into NaN + a warning).
    X, y, _ = _classification_data(n=60)
    scorer = make_fairness_scorer("demographic_parity_difference")
    scoring = {"dp": scorer, "acc": "accuracy"} if multimetric else scorer
    with sklearn.config_context(enable_metadata_routing=False):
        search = GridSearchCV(
            LogisticRegression(),
            {"C": [1.0]},
            scoring=scoring,
            refit="acc" if multimetric else True,
            cv=3,
            error_score="raise",
        )
        with pytest.raises(ValueError, match="enable_metadata_routing"):
            search.fit(X, y)


# --------------------------------------------------------------------------
# 7. Bad inputs
# --------------------------------------------------------------------------

_G = [0, 0, 1, 1]


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "match"),
    [
        (
            demographic_parity_difference,
            (None, [1, 0, np.nan, 1]),
            {},
            "y_pred contains NaN",
        ),
        (
            demographic_parity_difference,
            (None, np.array([1, 0, pd.NA, 1], dtype=object)),
            {},
            "y_pred contains missing",
        ),
        (
            demographic_parity_difference,
            (None, [1, 0, None, 1]),
            {},
            "y_pred contains missing",
        ),
        (
            equalized_odds_difference,
            ([1, 0, np.nan, 1], [1, 0, 1, 1]),
            {},
            "y_true contains NaN",
        ),
        (
            equalized_odds_ratio,
            ([1, 0, None, 1], [1, 0, 1, 1]),
            {},
            "y_true contains missing",
        ),
        (
            demographic_parity_difference,
            (None, np.ones((4, 2))),
            {},
            "y_pred must be 1-D",
        ),
        (
            demographic_parity_difference,
            (None, [[1, 0], [0, 1], [1, 1], [0, 0]]),
            {},
            "y_pred must be 1-D",
        ),
        (
            equalized_odds_difference,
            ([1, 0, 1, 0], np.ones((4, 2))),
            {},
            "y_pred must be 1-D",
        ),
        (
            equalized_odds_difference,
            (np.ones((4, 3)), [1, 0, 1, 0]),
            {},
            "y_true must be 1-D",
        ),
        (
            demographic_parity_difference,
            (None, [1, 0, 1]),
            {},
            "sensitive_features has 4 rows but 3 samples",
        ),
        (
            equalized_odds_difference,
            ([1, 0, 1], [1, 0, 1, 0]),
            {},
            r"y_true, y_pred and sample_weight.*inconsistent",
        ),
        (
            demographic_parity_difference,
            ([1, 0, 1], [1, 0, 1, 0]),
            {},
            r"y_true, y_pred and sample_weight.*inconsistent",
        ),
        (
            demographic_parity_ratio,
            (None, [1, 0, 1, 0]),
            {"sample_weight": [1, 1, 1]},
            r"y_true, y_pred and sample_weight.*inconsistent",
        ),
        (
            demographic_parity_difference,
            (None, []),
            {"sensitive_features": []},
            "y_pred is empty",
        ),
        (
            demographic_parity_difference,
            (None, [0, 1, 2, 1]),
            {},
            r"y_pred hold 3 distinct labels \(\[0, 1, 2\]\).*binary",
        ),
        (
            equalized_odds_difference,
            ([0, 1, 2, 1], [0, 1, 1, 1]),
            {},
            "y_true and y_pred hold 3 distinct labels",
        ),
        (
            demographic_parity_difference,
            (None, ["no", "yes", "no", "yes"]),
            {},
            "pass pos_label",
        ),
        (
            equalized_odds_difference,
            (["no", "yes", "no", "yes"], ["no", "yes", "yes", "yes"]),
            {},
            "pass pos_label",
        ),
        (
            demographic_parity_difference,
            (None, ["no", "yes", "no", "yes"]),
            {"pos_label": "maybe"},
            "pos_label='maybe' is not one of the labels",
        ),
        (
            demographic_parity_difference,
            (None, [0, 1, 0, 1]),
            {"pos_label": 2},
            "pos_label=2 is not one of the labels",
        ),
        (
            demographic_parity_difference,
            (None, [1, 0, 1, 0]),
            {"method": "overall"},
            "method must be one of",
        ),
        (
            equalized_odds_difference,
            ([1, 0, 1, 0], [1, 0, 1, 0]),
            {"method": None},
            "method must be one of",
        ),
        (
            error_rate_balance_difference,
            ([1, 0, 1, 0], [1, 0, 1, 0]),
            {"method": "between"},
            "method must be one of",
        ),
        (
            optimal_transport_distance,
            (None, [0.1, 0.2, 0.3, 0.4]),
            {"method": "pairwise"},
            "method must be one of",
        ),
        (
            equalized_odds_difference,
            ([1, 0, 1, 0], [1, 0, 1, 0]),
            {"agg": "max"},
            "agg must be one of",
        ),
        (
            equalized_odds_ratio,
            ([1, 0, 1, 0], [1, 0, 1, 0]),
            {"agg": "min"},
            "agg must be one of",
        ),
        (
            demographic_parity_difference,
            (None, [1, 0, 1, 0]),
            {"sample_weight": [1, -1, 1, 1]},
            "sample_weight must be finite and non-negative",
        ),
        (
            equalized_odds_difference,
            ([1, 0, 1, 0], [1, 0, 1, 0]),
            {"sample_weight": [1, np.nan, 1, 1]},
            "sample_weight must be finite and non-negative",
        ),
        (
            optimal_transport_distance,
            (None, [0.1, 0.2, 0.3, 0.4]),
            {"sample_weight": [1, -1, 1, 1]},
            "sample_weight must be finite and non-negative",
        ),
        (
            equalized_odds_difference,
            ([1, 1, 1, 1], [1, 0, 1, 0]),
            {},
            r"false positive rate is undefined.*y_true needs both classes",
        ),
        (
            equalized_odds_ratio,
            ([0, 0, 0, 0], [1, 0, 1, 0]),
            {},
            r"true positive rate is undefined.*y_true needs both classes",
        ),
        (equalized_odds_difference, (None, [1, 0, 1, 0]), {}, "y_true is required"),
        (group_report, (None, [1, 0, 1, 0]), {}, "y_true is required"),
        (
            group_report,
            ([1, 0, 1, 0], [1, 0, 1]),
            {},
            r"y_true, y_pred and sample_weight.*inconsistent",
        ),
        (
            optimal_transport_distance,
            ([0, 1, 0], [0.1, 0.2, 0.3, 0.4]),
            {},
            r"y_true, y_score and sample_weight.*inconsistent",
        ),
        (
            optimal_transport_distance,
            (None, []),
            {"sensitive_features": []},
            "y_score is empty",
        ),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_bad_inputs_raise_naming_the_argument(func, args, kwargs, match):
    kwargs = {"sensitive_features": _G, **kwargs}
    with pytest.raises(ValueError, match=match):
        func(*args, **kwargs)


@pytest.mark.parametrize(
    "sf",
    [
        [0, None, 1, 1],
        ["a", None, "b", "b"],
        np.array([0.0, np.nan, 1.0, 1.0]),
        pd.Series(["a", np.nan, "b", "b"]),
        pd.Series([0, pd.NA, 1, 1], dtype="Int64"),
        pd.Series(["a", pd.NA, "b", "b"], dtype="string"),
        pd.Series(pd.Categorical(["a", None, "b", "b"])),
        pd.DataFrame({"race": ["a", "a", "b", "b"], "sex": [0.0, 1.0, np.nan, 1.0]}),
        {"race": ["a", "a", "b", None]},
    ],
    ids=lambda v: type(v).__name__,
)
@pytest.mark.parametrize(
    "func",
    [
        demographic_parity_difference,
        equalized_odds_difference,
        optimal_transport_distance,
    ],
)
def test_missing_sensitive_features_raise(func, sf):
    with pytest.raises(ValueError, match="sensitive_features contains missing values"):
        func([1, 0, 1, 0], [1, 0, 0, 1], sensitive_features=sf)


@pytest.mark.parametrize(
    "sf",
    [
        pd.Series([0, "a", 1, "b"], dtype=object),
        np.array([0, "a", 1, "b"], dtype=object),
        pd.DataFrame(
            {
                "race": ["a", "b", "a", "b"],
                "sex": pd.Series([0, "m", 0, "m"], dtype=object),
            }
        ),
        {"sex": [0, "m", 0, "m"]},
    ],
    ids=lambda v: type(v).__name__,
)
def test_mixed_types_in_sensitive_column_raise(sf):
    with pytest.raises(
        ValueError, match=r"sensitive_features column '.*' mixes value types"
    ):
        demographic_parity_difference(None, [1, 0, 0, 1], sensitive_features=sf)


@pytest.mark.parametrize(
    "sf",
    [None, "group", 3, np.zeros((4, 1, 1))],
    ids=["None", "str", "int", "3d"],
)
def test_sensitive_features_not_array_like_raises(sf):
    with pytest.raises(ValueError, match="sensitive_features"):
        demographic_parity_difference(None, [1, 0, 0, 1], sensitive_features=sf)


@pytest.mark.parametrize("container", [list, np.array, pd.Series])
def test_string_labels_with_pos_label_equal_binary_encoding(container):
    rng = np.random.default_rng(5)
    y01 = rng.integers(0, 2, 60)
    p01 = rng.integers(0, 2, 60)
    y01[:4], p01[:4] = [1, 0, 1, 0], [1, 1, 0, 0]
    sf = np.array(["a", "b", "c"] * 20)
    y_str = container(np.where(y01 == 1, "hired", "rejected").tolist())
    p_str = container(np.where(p01 == 1, "hired", "rejected").tolist())
    for func in [*DIFFERENCES, *RATIOS]:
        for method in METHODS:
            expected = func(y01, p01, sensitive_features=sf, method=method)
            got = func(
                y_str, p_str, sensitive_features=sf, method=method, pos_label="hired"
            )
            assert got == expected, func.__name__
    # The other label as positive flips every selection: DP difference unchanged
    # (1 - s_a), but the ratio changes; both still equal the 0/1 encoding.
    assert demographic_parity_ratio(
        None, p_str, sensitive_features=sf, pos_label="rejected"
    ) == demographic_parity_ratio(None, 1 - p01, sensitive_features=sf)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        (
            np.array([True, False, True, False] * 2),
            np.array([True, True, False, False] * 2),
        ),
        (np.array([1, -1, 1, -1] * 2), np.array([1, 1, -1, -1] * 2)),
        (np.array([1.0, 0.0, 1.0, 0.0] * 2), np.array([1.0, 1.0, 0.0, 0.0] * 2)),
    ],
    ids=["bool", "pm1", "float"],
)
def test_default_positive_label_is_one(y_true, y_pred):
    y01 = (y_true == 1).astype(int)
    p01 = (y_pred == 1).astype(int)
    sf = [0] * 4 + [1, 1, 1, 0]
    for func in [*DIFFERENCES, *RATIOS]:
        assert func(y_true, y_pred, sensitive_features=sf) == func(
            y01, p01, sensitive_features=sf
        ), func.__name__


def test_demographic_parity_ignores_y_true_except_length():
    y_pred = [1, 1, 0, 0, 1, 0, 0, 0]
    sf = ["a"] * 4 + ["b"] * 4
    # a selects 2/4, b 1/4 (hand-derived)
    for y_true in (None, ["x"] * 8, [0.5] * 8):
        assert (
            demographic_parity_difference(y_true, y_pred, sensitive_features=sf) == 0.25
        )
        assert demographic_parity_ratio(y_true, y_pred, sensitive_features=sf) == 0.5


# --------------------------------------------------------------------------
# 8. check_sensitive_features
# --------------------------------------------------------------------------


def test_check_sensitive_features_1d_sorted_codes():
    enc = check_sensitive_features(np.array([3, 1, 2, 1, 3]))
    assert enc.groups == [1, 2, 3]
    assert all(type(g) is int for g in enc.groups)
    np.testing.assert_array_equal(enc.codes, [2, 0, 1, 0, 2])
    assert enc.codes.dtype == np.intp
    assert enc.names == ["sensitive_feature_0"]
    assert enc.n_groups == 3


def test_check_sensitive_features_strings_roundtrip():
    values = ["b", "c", "a", "b", "c", "c"]
    enc = check_sensitive_features(values)
    assert enc.groups == sorted(set(values))
    assert [enc.groups[c] for c in enc.codes] == values


def test_check_sensitive_features_series_name():
    enc = check_sensitive_features(pd.Series(["f", "m", "f"], name="sex"))
    assert enc.names == ["sex"]
    assert enc.groups == ["f", "m"]
    np.testing.assert_array_equal(enc.codes, [0, 1, 0])
    unnamed = check_sensitive_features(pd.Series(["f", "m", "f"]))
    assert unnamed.names == ["sensitive_feature_0"]


def test_check_sensitive_features_2d_array_intersectional():
    X = np.array([[1, 0], [0, 1], [1, 0], [0, 0], [1, 1]])
    enc = check_sensitive_features(X)
    assert enc.groups == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert enc.names == ["sensitive_feature_0", "sensitive_feature_1"]
    assert [enc.groups[c] for c in enc.codes] == [tuple(r) for r in X.tolist()]


def test_check_sensitive_features_dataframe_keeps_column_types():
    df = pd.DataFrame({"race": ["y", "x", "y", "x"], "age": [30, 30, 20, 30]})
    enc = check_sensitive_features(df)
    assert enc.names == ["race", "age"]
    assert enc.groups == [("x", 30), ("y", 20), ("y", 30)]
    assert [enc.groups[c] for c in enc.codes] == [
        ("y", 30),
        ("x", 30),
        ("y", 20),
        ("x", 30),
    ]
    assert all(type(g[1]) is int for g in enc.groups)


def test_check_sensitive_features_dict():
    enc = check_sensitive_features({"race": ["x", "y", "x"], "sex": [1, 0, 0]})
    assert enc.names == ["race", "sex"]
    assert enc.groups == [("x", 0), ("x", 1), ("y", 0)]
    np.testing.assert_array_equal(enc.codes, [1, 2, 0])
    single = check_sensitive_features({"sex": ["m", "f", "m"]})
    assert single.names == ["sex"]
    assert single.groups == ["f", "m"]


def test_check_sensitive_features_single_column_frame_is_not_tuples():
    enc = check_sensitive_features(pd.DataFrame({"sex": ["m", "f"]}))
    assert enc.groups == ["f", "m"]
    assert enc.names == ["sex"]


def test_check_sensitive_features_errors():
    with pytest.raises(ValueError, match="sensitive_features has 3 rows but 4 samples"):
        check_sensitive_features(["a", "b", "a"], 4)
    with pytest.raises(
        ValueError, match=r"1 distinct group\(s\) \('a'\) but at least 2"
    ):
        check_sensitive_features(["a", "a"], min_groups=2)
    with pytest.raises(ValueError, match="sensitive_features is empty"):
        check_sensitive_features([])
    with pytest.raises(ValueError, match="sensitive_features is required"):
        check_sensitive_features(None)
    with pytest.raises(ValueError, match="columns have different lengths"):
        check_sensitive_features({"a": [1, 2], "b": [1, 2, 3]})
    with pytest.raises(ValueError, match="groups contains missing values"):
        check_sensitive_features([1.0, np.nan], name="groups")
    # min_groups=1 (the default) accepts a single group.
    assert check_sensitive_features(["a", "a"]).groups == ["a"]


@pytest.mark.parametrize(
    "values", [["a", "b", np.nan, "a"], [1, "1", "a", "a"]], ids=["nan", "mixed"]
)
def test_check_sensitive_features_list_with_nan_or_mixed_types(values):
    with pytest.raises(ValueError, match=r"missing values|mixes value types"):
        check_sensitive_features(values)


@pytest.mark.parametrize(
    "groups",
    [
        np.array([3, 1, 3, 2, 1]),
        np.array([-5, 7, -5, 0], dtype=np.int32),
        np.array([True, False, True]),
        np.array([2**40, 1, 2**40]),  # a range too wide to count
        np.array([4, 4, 4], dtype=np.uint8),
    ],
)
def test_integer_groups_encode_as_numpy_unique_does(groups):
    encoding = check_sensitive_features(groups)
    uniques, codes = np.unique(groups, return_inverse=True)
    assert encoding.groups == uniques.tolist()
    assert [type(g) for g in encoding.groups] == [type(u) for u in uniques.tolist()]
    np.testing.assert_array_equal(encoding.codes, codes)
