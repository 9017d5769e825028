"""Tests of skfairal.datasets: the real-data loaders and the synthetic generator."""

import csv
import gzip
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skfairal.datasets import (
    ChecksumMismatchError,
    DatasetFileError,
    DatasetNotFoundError,
    _base,
    load_1000genomes,
    load_adult,
    load_compas,
    make_biased_classification,
)

# The raw data: $SKFAIRAL_DATA, else shared/data next to the repository checkout
# (where CI and the developers' machines have it).
SHARED_DATA = Path(
    os.environ.get("SKFAIRAL_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
COMPAS_FILE = SHARED_DATA / "compas" / "compas-scores-two-years.csv"

ADULT_FEATURES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
]
COMPAS_FEATURES = [
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "c_charge_desc",
]
# Columns of the raw COMPAS file that identify people or leak the outcome.
COMPAS_FORBIDDEN = {
    "id",
    "name",
    "first",
    "last",
    "dob",
    "c_case_number",
    "r_case_number",
    "vr_case_number",
    "is_recid",
    "is_violent_recid",
    "violent_recid",
    "r_charge_degree",
    "r_charge_desc",
    "decile_score",
    "score_text",
    "v_decile_score",
    "two_year_recid",
    "event",
}


def _is_nan(value) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _nan_mask(array: np.ndarray) -> np.ndarray:
    # Only NaN differs from itself; one C loop instead of a Python one.
    return array != array


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def adult():
    return load_adult()


@pytest.fixture(scope="module")
def adult_frame():
    pytest.importorskip("pandas")
    return load_adult(as_frame=True)


@pytest.fixture(scope="module")
def genomes():
    return load_1000genomes()


@pytest.fixture(scope="module")
def genomes_frame():
    pytest.importorskip("pandas")
    return load_1000genomes(as_frame=True)


@pytest.fixture(scope="module")
def compas_dir():
    if not COMPAS_FILE.is_file():
        pytest.skip(
            f"COMPAS file not found at {COMPAS_FILE}: put ProPublica's file there "
            "(compas-analysis repository) or set SKFAIRAL_DATA to run these tests."
        )
    return COMPAS_FILE.parent


@pytest.fixture(scope="module")
def compas(compas_dir):
    return load_compas(data_home=compas_dir)


@pytest.fixture(scope="module")
def compas_frame(compas_dir):
    pytest.importorskip("pandas")
    return load_compas(data_home=compas_dir, as_frame=True)


@pytest.fixture
def no_compas_env(monkeypatch):
    monkeypatch.delenv("SKFAIRAL_DATA", raising=False)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the embedded data folder that the loaders read instead."""
    for name in _base.EMBEDDED_FILES:
        shutil.copyfile(_base.DATA_DIR / name, tmp_path / name)
    monkeypatch.setattr(_base, "DATA_DIR", tmp_path)
    return tmp_path


# ------------------------------------------------------------------ embedded files
def test_registry_covers_every_shipped_file():
    shipped = {p.name for p in _base.DATA_DIR.iterdir()} - {"README.md"}
    assert shipped == set(_base.EMBEDDED_FILES)
    for name, sha256 in _base.EMBEDDED_FILES.items():
        assert _sha256(_base.DATA_DIR / name) == sha256, name
    assert not any("compas" in name.lower() for name in shipped)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} not found")
def test_embedded_copies_match_the_originals():
    sums = dict(
        line.split()[::-1]
        for line in (SHARED_DATA / "SHA256SUMS").read_text().splitlines()
    )
    pairs = {
        "adult/adult.data": "adult.data.gz",
        "adult/adult.test": "adult.test.gz",
        "1kg/GRCH37.sites": "GRCH37.sites.gz",
        "1kg/integrated_call_samples_v3.20130502.ALL.panel": (
            "integrated_call_samples_v3.20130502.ALL.panel.gz"
        ),
    }
    for original, copy in pairs.items():
        raw = gzip.decompress((_base.DATA_DIR / copy).read_bytes())
        assert hashlib.sha256(raw).hexdigest() == sums[original], copy
    for name in ("GRCH37.sites.bin.gz", "LICENSE.peddy"):
        assert _sha256(_base.DATA_DIR / name) == sums[f"1kg/{name}"], name


def test_corrupted_embedded_file_names_file_and_folder(data_copy):
    path = data_copy / "adult.data.gz"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ChecksumMismatchError, match=r"adult\.data\.gz") as info:
        load_adult()
    message = str(info.value)
    assert str(data_copy) in message
    assert "reinstall" in message
    assert info.value.expected == _base.EMBEDDED_FILES["adult.data.gz"]
    assert info.value.actual != info.value.expected
    assert isinstance(info.value, DatasetFileError)
    assert isinstance(info.value, OSError)


def test_corruption_is_detected_on_every_load(data_copy):
    # A first good load must not let a later corrupted file through.
    load_adult()
    (data_copy / "adult.test.gz").write_bytes(b"not the file")
    with pytest.raises(ChecksumMismatchError, match=r"adult\.test\.gz"):
        load_adult()


def test_missing_embedded_file_names_file_and_folder(data_copy):
    (data_copy / "GRCH37.sites.bin.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"GRCH37\.sites\.bin\.gz") as info:
        load_1000genomes()
    assert str(data_copy) in str(info.value)
    assert "reinstall" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.filename == "GRCH37.sites.bin.gz"
    assert info.value.searched == [data_copy / "GRCH37.sites.bin.gz"]


def test_read_embedded_rejects_unknown_names():
    with pytest.raises(KeyError, match="not an embedded dataset file"):
        _base.read_embedded("compas-scores-two-years.csv")


# --------------------------------------------------------------------------- Adult
def test_loaders_need_pandas_only_for_frames(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    for loader in (load_adult, load_1000genomes, load_compas):
        with pytest.raises(ImportError, match="as_frame=True requires pandas"):
            loader(as_frame=True)
    assert load_adult().data.shape == (48842, 14)


def test_adult_shapes_and_dtypes(adult):
    assert adult.data.shape == (48842, 14)
    assert adult.data.dtype == object
    assert adult.feature_names == ADULT_FEATURES
    assert adult.target.shape == (48842,)
    assert adult.target.dtype == np.int64
    assert set(np.unique(adult.target)) == {0, 1}
    assert adult.target_names == ["<=50K", ">50K"]
    assert adult.target.mean() == pytest.approx(0.239, abs=0.001)
    assert adult.frame is None
    assert "Kohavi" in adult.DESCR
    assert "CC BY 4.0" in adult.DESCR


def test_adult_feature_kinds(adult):
    assert sorted(adult.categorical_features + adult.numerical_features) == sorted(
        ADULT_FEATURES
    )
    assert len(adult.numerical_features) == 6
    for j, name in enumerate(adult.feature_names):
        values = adult.data[:, j]
        if name in adult.numerical_features:
            assert all(type(v) is float for v in values), name
            assert not any(np.isnan(v) for v in values), name
        else:
            assert all(type(v) is str or _is_nan(v) for v in values), name
            assert "?" not in set(values), name


def test_adult_train_test_split_and_missing_rows(adult):
    assert adult.is_test.dtype == bool
    assert not adult.is_test[:32561].any()
    assert adult.is_test[32561:].all()
    has_missing = _nan_mask(adult.data).any(axis=1)
    assert has_missing[~adult.is_test].sum() == 2399
    assert has_missing[adult.is_test].sum() == 1221
    missing_columns = {
        name
        for name, missing in zip(adult.feature_names, _nan_mask(adult.data).T)
        if missing.any()
    }
    assert missing_columns == {"workclass", "occupation", "native-country"}


def test_adult_test_labels_lose_their_dot(adult):
    # Every label of adult.test ends with a dot; all must be read, none dropped.
    raw = gzip.decompress((_base.DATA_DIR / "adult.test.gz").read_bytes())
    assert adult.target[adult.is_test].sum() == raw.count(b", >50K.\n")
    assert (adult.target[adult.is_test] == 0).sum() == raw.count(b", <=50K.\n")
    assert not any(name.endswith(".") for name in adult.target_names)


def test_adult_sensitive_features(adult):
    assert adult.sensitive_feature_names == ["sex", "race"]
    assert adult.sensitive_features.shape == (48842, 2)
    assert adult.sensitive_features.dtype == object
    for j, name in enumerate(adult.sensitive_feature_names):
        column = adult.data[:, adult.feature_names.index(name)]
        np.testing.assert_array_equal(adult.sensitive_features[:, j], column)
    assert set(adult.sensitive_features[:, 0]) == {"Female", "Male"}
    assert len(set(adult.sensitive_features[:, 1])) == 5


def test_adult_works_in_a_column_transformer(adult):
    numeric = [adult.feature_names.index(f) for f in adult.numerical_features]
    categorical = [adult.feature_names.index(f) for f in adult.categorical_features]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ]
        ),
        LogisticRegression(max_iter=500),
    )
    train = np.flatnonzero(~adult.is_test)[:3000]
    test = np.flatnonzero(adult.is_test)[:3000]
    model.fit(adult.data[train], adult.target[train])
    assert model.score(adult.data[test], adult.target[test]) > 0.8


def test_adult_as_frame(adult, adult_frame):
    import pandas as pd

    data = adult_frame.data
    assert isinstance(data, pd.DataFrame)
    assert list(data.columns) == ADULT_FEATURES
    for name in ADULT_FEATURES:
        expected = "int64" if name in adult.numerical_features else "category"
        assert data[name].dtype == expected, name
    assert data.isna().sum().to_dict() == {
        name: int(count)
        for name, count in zip(ADULT_FEATURES, _nan_mask(adult.data).sum(axis=0))
    }
    # Round trip: the frame holds the same values as the array.
    for j, name in enumerate(ADULT_FEATURES):
        column = data[name].astype(object).where(data[name].notna(), np.nan)
        if name in adult.numerical_features:
            np.testing.assert_array_equal(column.to_numpy(float), adult.data[:, j])
        else:
            present = data[name].notna().to_numpy()
            np.testing.assert_array_equal(
                column.to_numpy()[present], adult.data[present, j]
            )
    assert isinstance(adult_frame.target, pd.Series)
    assert adult_frame.target.name == "income"
    assert adult_frame.target.dtype == "int64"
    np.testing.assert_array_equal(adult_frame.target.to_numpy(), adult.target)
    sensitive = adult_frame.sensitive_features
    assert list(sensitive.columns) == ["sex", "race"]
    assert all(dtype == "category" for dtype in sensitive.dtypes)
    assert list(adult_frame.frame.columns) == [*ADULT_FEATURES, "income"]
    np.testing.assert_array_equal(adult_frame.frame["income"], adult.target)
    np.testing.assert_array_equal(adult_frame.is_test, adult.is_test)


# ------------------------------------------------------------------- 1000 Genomes
def test_genomes_matrix(genomes):
    X = genomes.data
    assert X.shape == (2504, 22684)
    assert X.dtype == np.uint8
    assert X.flags.c_contiguous
    # Allele counts 0, 1 and 2 all occur, nothing else (bincount: no sort).
    counts = np.bincount(X.ravel())
    assert counts.size == 3
    assert np.all(counts > 0)
    # No monomorphic site is left.
    assert np.all(X.min(axis=0) != X.max(axis=0))


def test_genomes_columns_are_the_polymorphic_sites_in_order(genomes):
    sites = gzip.decompress((_base.DATA_DIR / "GRCH37.sites.gz").read_bytes())
    all_ids = sites.decode().split()
    raw = gzip.decompress((_base.DATA_DIR / "GRCH37.sites.bin.gz").read_bytes())
    by_site = np.frombuffer(raw, np.uint8).reshape(-1, 2504)
    kept = np.flatnonzero(by_site.min(axis=1) != by_site.max(axis=1))
    assert len(all_ids) - kept.size == 1086
    names = genomes.feature_names
    assert isinstance(names, np.ndarray)
    assert names.shape == (22684,)
    assert len(set(names)) == 22684
    np.testing.assert_array_equal(names, np.array(all_ids, dtype=object)[kept])
    assert all(len(name.split(":")) == 4 for name in names[:100])
    # Compared site-major: the transposed comparison is 3x slower.
    assert np.array_equal(genomes.data.T, by_site[kept])


def test_genomes_rows_follow_the_panel(genomes):
    panel = gzip.decompress(
        (
            _base.DATA_DIR / "integrated_call_samples_v3.20130502.ALL.panel.gz"
        ).read_bytes()
    )
    rows = [line.split("\t") for line in panel.decode().splitlines()[1:]]
    np.testing.assert_array_equal(genomes.sample_ids, [r[0] for r in rows])
    np.testing.assert_array_equal(
        genomes.sensitive_features, [[r[2], r[1], r[3]] for r in rows]
    )
    assert genomes.sample_ids[0] == "HG00096"
    assert len(set(genomes.sample_ids)) == 2504


def test_genomes_labels(genomes):
    assert genomes.sensitive_feature_names == ["super_pop", "pop", "gender"]
    assert genomes.sensitive_features.shape == (2504, 3)
    assert genomes.sensitive_features.dtype == object
    super_pop, pop, gender = genomes.sensitive_features.T
    names, counts = np.unique(super_pop, return_counts=True)
    assert dict(zip(names, counts)) == {
        "AFR": 661,
        "AMR": 347,
        "EAS": 504,
        "EUR": 503,
        "SAS": 489,
    }
    names, counts = np.unique(gender, return_counts=True)
    assert dict(zip(names, counts)) == {"female": 1271, "male": 1233}
    assert len(set(pop)) == 26
    np.testing.assert_array_equal(genomes.target, super_pop)
    assert genomes.target_names == ["AFR", "AMR", "EAS", "EUR", "SAS"]
    assert "simulat" in genomes.DESCR
    assert "Nature 526" in genomes.DESCR
    assert "peddy" in genomes.DESCR


def test_genomes_as_frame(genomes, genomes_frame):
    import pandas as pd

    data = genomes_frame.data
    assert isinstance(data, pd.DataFrame)
    assert data.shape == (2504, 22684)
    assert set(data.dtypes) == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(data.columns, genomes.feature_names)
    np.testing.assert_array_equal(data.to_numpy(), genomes.data)
    target = genomes_frame.target
    assert isinstance(target, pd.Series)
    assert target.name == "super_pop"
    assert target.dtype == "category"
    np.testing.assert_array_equal(target.astype(str), genomes.target)
    sensitive = genomes_frame.sensitive_features
    assert list(sensitive.columns) == ["super_pop", "pop", "gender"]
    assert all(dtype == "category" for dtype in sensitive.dtypes)
    assert genomes_frame.frame.shape == (2504, 22685)
    assert genomes_frame.frame.columns[-1] == "super_pop"


# -------------------------------------------------------------------------- COMPAS
def test_compas_shapes_and_dtypes(compas):
    assert compas.data.shape == (6172, 10)
    assert compas.data.dtype == object
    assert compas.feature_names == COMPAS_FEATURES
    assert compas.target.dtype == np.int64
    assert set(np.unique(compas.target)) == {0, 1}
    assert compas.target.mean() == pytest.approx(0.455, abs=0.001)
    assert compas.target_names == ["no recidivism", "recidivism"]
    assert compas.decile_score.dtype == np.int64
    assert compas.decile_score.min() == 1
    assert compas.decile_score.max() == 10
    assert set(compas.score_text) == {"Low", "Medium", "High"}
    assert sorted(compas.categorical_features + compas.numerical_features) == sorted(
        COMPAS_FEATURES
    )
    for j, name in enumerate(compas.feature_names):
        if name in compas.numerical_features:
            assert all(type(v) is float for v in compas.data[:, j]), name
    charge_desc = compas.data[:, compas.feature_names.index("c_charge_desc")]
    assert _nan_mask(charge_desc).sum() == 5
    assert "ProPublica" in compas.DESCR


def test_compas_applies_propublica_filter(compas):
    with COMPAS_FILE.open(newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [
        r
        for r in rows
        if r["days_b_screening_arrest"]
        and abs(float(r["days_b_screening_arrest"])) <= 30
        and r["is_recid"] != "-1"
        and r["c_charge_degree"] != "O"
        and r["score_text"] != "N/A"
    ]
    assert len(rows) == 7214
    assert len(kept) == 6172
    labels = [int(r["two_year_recid"]) for r in kept]
    np.testing.assert_array_equal(compas.target, labels)
    np.testing.assert_array_equal(compas.data[:, 1], [float(r["age"]) for r in kept])


def test_compas_drops_identifying_and_leaking_columns(compas, compas_frame):
    assert not COMPAS_FORBIDDEN & set(compas.feature_names)
    assert not COMPAS_FORBIDDEN & set(compas_frame.frame.columns) - {"two_year_recid"}
    # No person's name or date of birth survives anywhere in the data.
    with COMPAS_FILE.open(newline="") as f:
        reader = csv.DictReader(f)
        identifying = {v for r in reader for k in ("name", "dob") for v in [r[k]]}
    values = set(compas.data.ravel().tolist()) | set(compas.sensitive_features.ravel())
    assert not identifying & {v for v in values if isinstance(v, str)}


def test_compas_sensitive_features(compas):
    assert compas.sensitive_feature_names == ["sex", "race"]
    assert compas.sensitive_features.shape == (6172, 2)
    assert compas.sensitive_features.dtype == object
    for j, name in enumerate(compas.sensitive_feature_names):
        column = compas.data[:, compas.feature_names.index(name)]
        np.testing.assert_array_equal(compas.sensitive_features[:, j], column)
    races, counts = np.unique(compas.sensitive_features[:, 1], return_counts=True)
    assert dict(zip(races, counts))["African-American"] == 3175


def test_compas_as_frame(compas, compas_frame):
    import pandas as pd

    data = compas_frame.data
    assert isinstance(data, pd.DataFrame)
    assert list(data.columns) == COMPAS_FEATURES
    for name in COMPAS_FEATURES:
        expected = "int64" if name in compas.numerical_features else "category"
        assert data[name].dtype == expected, name
    assert list(data["age_cat"].cat.categories) == [
        "Less than 25",
        "25 - 45",
        "Greater than 45",
    ]
    assert data["c_charge_desc"].isna().sum() == 5
    np.testing.assert_array_equal(data["age"].to_numpy(float), compas.data[:, 1])
    np.testing.assert_array_equal(data["race"].astype(str), compas.data[:, 3])
    assert compas_frame.target.name == "two_year_recid"
    np.testing.assert_array_equal(compas_frame.target, compas.target)
    assert list(compas_frame.sensitive_features.columns) == ["sex", "race"]
    assert list(compas_frame.frame.columns) == [*COMPAS_FEATURES, "two_year_recid"]
    assert compas_frame.score_text.cat.ordered
    np.testing.assert_array_equal(compas_frame.decile_score, compas.decile_score)


def test_compas_data_home_accepts_both_layouts(compas, compas_dir, no_compas_env):
    for home in (compas_dir, compas_dir.parent, str(compas_dir / COMPAS_FILE.name)):
        bunch = load_compas(data_home=home)
        np.testing.assert_array_equal(bunch.target, compas.target)


@pytest.mark.parametrize("layout", ["folder", "parent"])
def test_compas_env_var(compas, compas_dir, monkeypatch, layout):
    home = compas_dir if layout == "folder" else compas_dir.parent
    monkeypatch.setenv("SKFAIRAL_DATA", str(home))
    np.testing.assert_array_equal(load_compas().target, compas.target)


def test_compas_data_home_wins_over_env_var(compas, compas_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("SKFAIRAL_DATA", str(tmp_path))
    assert load_compas(data_home=compas_dir).data.shape == (6172, 10)


def test_compas_missing_without_any_location(no_compas_env):
    with pytest.raises(DatasetNotFoundError) as info:
        load_compas()
    message = str(info.value)
    for expected in (
        "compas-scores-two-years.csv",
        "SKFAIRAL_DATA",
        "data_home",
        "github.com/propublica/compas-analysis",
    ):
        assert expected in message


def test_compas_missing_in_data_home_says_where(tmp_path, no_compas_env):
    with pytest.raises(FileNotFoundError) as info:
        load_compas(data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "compas-scores-two-years.csv") in message
    assert str(tmp_path / "compas" / "compas-scores-two-years.csv") in message
    assert "SKFAIRAL_DATA" in message
    assert "data_home" in message


def test_compas_missing_in_env_dir_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("SKFAIRAL_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="SKFAIRAL_DATA") as info:
        load_compas()
    assert str(tmp_path) in str(info.value)


def test_compas_checksum_mismatch(tmp_path, compas_dir, no_compas_env):
    raw = (compas_dir / COMPAS_FILE.name).read_bytes()
    (tmp_path / COMPAS_FILE.name).write_bytes(raw.replace(b"Male", b"MALE", 1))
    pattern = re.escape(COMPAS_FILE.name)
    with pytest.raises(ChecksumMismatchError, match=pattern) as info:
        load_compas(data_home=tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "propublica" in str(info.value).lower()


# ---------------------------------------------------------------------- synthetic
def test_make_biased_classification_output():
    X, y, groups = make_biased_classification(500, n_features=7, random_state=0)
    assert X.shape == (500, 7)
    assert X.dtype == np.float64
    assert y.shape == groups.shape == (500,)
    assert y.dtype == groups.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert set(np.unique(groups)) == {0, 1}


def test_make_biased_classification_is_deterministic():
    a = make_biased_classification(300, random_state=42)
    b = make_biased_classification(300, random_state=np.random.RandomState(42))
    c = make_biased_classification(300, random_state=43)
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[0], c[0])


def test_make_biased_classification_group_proportions_and_base_rates():
    proportions, rates = (0.5, 0.3, 0.2), (0.6, 0.4, 0.1)
    _, y, groups = make_biased_classification(
        2000,
        group_proportions=proportions,
        base_rates=rates,
        label_noise=0.05,
        random_state=0,
    )
    np.testing.assert_allclose(np.bincount(groups) / 2000, proportions, atol=1e-3)
    observed = [y[groups == g].mean() for g in range(3)]
    np.testing.assert_allclose(observed, rates, atol=0.01)


@pytest.mark.parametrize("seed", range(5))
def test_make_biased_classification_defaults_are_biased(seed):
    X, y, groups = make_biased_classification(random_state=seed)
    pred = LogisticRegression().fit(X, y).predict(X)
    selection = [pred[groups == g].mean() for g in (0, 1)]
    assert selection[0] - selection[1] > 0.1


@pytest.mark.parametrize("seed", range(10))
def test_make_biased_classification_every_group_has_both_classes(seed):
    _, y, groups = make_biased_classification(200, random_state=seed)
    for g in (0, 1):
        assert set(y[groups == g]) == {0, 1}


def test_make_biased_classification_label_noise_and_proxy():
    # Class signal in group g shrinks by (1 - 2 * noise); the proxy tracks g.
    n, class_sep, shift, noise = 40_000, 1.0, 0.8, (0.0, 0.25, 0.5)
    X, y, groups = make_biased_classification(
        n,
        n_features=5,
        group_proportions=(0.4, 0.3, 0.3),
        base_rates=0.5,
        label_noise=noise,
        group_shift=shift,
        class_sep=class_sep,
        random_state=0,
    )
    score = X[:, :-1].sum(axis=1) / 2  # projection on the class direction
    for g, e in enumerate(noise):
        in_g = groups == g
        gap = score[in_g & (y == 1)].mean() - score[in_g & (y == 0)].mean()
        assert gap == pytest.approx(2 * class_sep * (1 - 2 * e), abs=0.06)
        assert X[in_g, -1].mean() == pytest.approx(shift * (2 * g - 2), abs=0.05)
    X0, _, groups0 = make_biased_classification(n, group_shift=0.0, random_state=0)
    assert abs(X0[groups0 == 0, -1].mean() - X0[groups0 == 1, -1].mean()) < 0.05


@settings(max_examples=50, deadline=None)
@given(
    n_samples=st.integers(1, 500),
    weights=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
)
def test_make_biased_classification_group_sizes_are_exact(n_samples, weights):
    proportions = np.array(weights) / np.sum(weights)
    _, _, groups = make_biased_classification(
        n_samples,
        group_proportions=proportions,
        base_rates=0.3,
        label_noise=0.0,
        random_state=0,
    )
    counts = np.bincount(groups, minlength=len(weights))
    assert counts.sum() == n_samples
    assert np.all(np.abs(counts - n_samples * proportions) < 1)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 10.5}, "n_samples"),
        ({"n_features": 1}, "n_features"),
        ({"group_proportions": (0.7, 0.4)}, "group_proportions"),
        ({"group_proportions": (1.2, -0.2)}, "group_proportions"),
        ({"group_proportions": ()}, "group_proportions"),
        ({"group_proportions": "ab"}, "group_proportions"),
        ({"base_rates": (0.5, 0.2, 0.1)}, "base_rates"),
        ({"base_rates": (0.5, 1.5)}, "base_rates"),
        ({"base_rates": (0.5, float("nan"))}, "base_rates"),
        ({"label_noise": (0.1,)}, "label_noise"),
        ({"label_noise": -0.1}, "label_noise"),
        ({"group_shift": float("inf")}, "group_shift"),
        ({"class_sep": -1.0}, "class_sep"),
    ],
)
def test_make_biased_classification_rejects_bad_input(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        make_biased_classification(**kwargs)


# --------------------------------------------------------------------------
# make_1000genomes_trait
# --------------------------------------------------------------------------


def test_genomes_trait_shapes_prevalence_and_causal_snps():
    from skfairal.datasets import make_1000genomes_trait

    trait = make_1000genomes_trait(n_causal=80, prevalence=0.25, random_state=0)
    assert trait.data.shape == (2504, 22684)
    assert trait.target.dtype == np.int64
    assert trait.target.sum() == round(0.25 * 2504)
    causal = trait.causal_snps
    assert len(causal) == 80
    assert np.all(np.diff(causal) > 0)
    frequency = trait.data[:, causal].mean(axis=0) / 2
    assert np.all(np.minimum(frequency, 1 - frequency) >= 0.05)
    assert set(trait.super_pop) == {"AFR", "AMR", "EAS", "EUR", "SAS"}
    np.testing.assert_array_equal(trait.european == "EUR", trait.super_pop == "EUR")


def test_genomes_trait_variance_components_and_confounder():
    from skfairal.datasets import make_1000genomes_trait

    trait = make_1000genomes_trait(heritability=0.4, confounding=0.35, random_state=1)
    assert np.var(trait.genetic) == pytest.approx(0.4)
    assert np.var(trait.confounder) == pytest.approx(0.35)
    assert np.var(trait.noise) == pytest.approx(0.25, rel=0.15)
    # The confounder is one value per super-population.
    for population in np.unique(trait.super_pop):
        values = trait.confounder[trait.super_pop == population]
        assert np.ptp(values) == pytest.approx(0.0, abs=1e-12)
    # The liability is the sum, and the cases are its top share.
    liability = trait.genetic + trait.confounder + trait.noise
    assert liability[trait.target == 1].min() >= liability[trait.target == 0].max()


def test_genomes_trait_ancestry_is_a_shortcut_only_when_confounded():
    from sklearn.metrics import roc_auc_score

    from skfairal.datasets import make_1000genomes_trait

    def ancestry_auc(confounding):
        trait = make_1000genomes_trait(confounding=confounding, random_state=2)
        # The best a model that knows only the super-population can do.
        rate = {
            p: trait.target[trait.super_pop == p].mean() for p in set(trait.super_pop)
        }
        score = np.array([rate[p] for p in trait.super_pop])
        return roc_auc_score(trait.target, score), trait

    confounded, trait = ancestry_auc(0.4)
    unconfounded, _ = ancestry_auc(0.0)
    assert confounded > 0.65
    assert unconfounded < 0.6
    # The causal SNPs carry the genetic part exactly.
    genotypes = trait.data[:, trait.causal_snps].astype(float)
    p = genotypes.mean(axis=0) / 2
    standardised = (genotypes - 2 * p) / np.sqrt(2 * p * (1 - p))
    genetic = standardised @ trait.effects
    np.testing.assert_allclose(genetic - genetic.mean(), trait.genetic, atol=1e-9)


def test_genomes_trait_is_reproducible():
    from skfairal.datasets import make_1000genomes_trait

    one = make_1000genomes_trait(n_causal=20, random_state=5)
    two = make_1000genomes_trait(n_causal=20, random_state=5)
    other = make_1000genomes_trait(n_causal=20, random_state=6)
    np.testing.assert_array_equal(one.target, two.target)
    np.testing.assert_array_equal(one.causal_snps, two.causal_snps)
    assert not np.array_equal(one.causal_snps, other.causal_snps)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_causal": 0}, "n_causal must be between 1 and"),
        ({"n_causal": 10**6}, "n_causal must be between 1 and"),
        ({"n_causal": 2.5}, "n_causal must be an integer"),
        ({"heritability": 1.2}, "heritability must be in"),
        ({"confounding": -0.1}, "confounding must be in"),
        ({"prevalence": 0.0}, r"prevalence must be in \(0, 1\)"),
        ({"heritability": 0.6, "confounding": 0.5}, "heritability \\+ confounding"),
    ],
)
def test_genomes_trait_bad_input(kwargs, match):
    from skfairal.datasets import make_1000genomes_trait

    with pytest.raises(ValueError, match=match):
        make_1000genomes_trait(**kwargs)


def test_genomes_trait_on_the_users_genotypes_matches_the_embedded_run():
    from skfairal.datasets import load_1000genomes, make_1000genomes_trait

    genomes = load_1000genomes()
    embedded = make_1000genomes_trait(n_causal=30, random_state=3)
    mine = make_1000genomes_trait(
        n_causal=30,
        genotypes=genomes.data,
        populations=genomes.sensitive_features[:, 0],
        feature_names=genomes.feature_names,
        random_state=3,
    )
    for key in ("target", "causal_snps", "effects", "genetic", "confounder"):
        np.testing.assert_array_equal(mine[key], embedded[key])
    assert mine.feature_names == embedded.feature_names
    assert mine.threshold == embedded.threshold


def test_genomes_trait_on_a_small_matrix_of_ones_own():
    from skfairal.datasets import make_1000genomes_trait

    rng = np.random.RandomState(0)
    frequencies = rng.uniform(0.1, 0.9, size=200)
    # Fractional (imputed) dosages are accepted.
    G = rng.binomial(2, frequencies, size=(120, 200)).astype(float)
    G[0, 0] = 1.4
    pops = np.array(["a", "b", "c"] * 40, dtype=object)
    trait = make_1000genomes_trait(
        10, genotypes=G, populations=pops, prevalence=0.2, random_state=0
    )
    assert trait.data.shape == (120, 200)
    assert trait.target.sum() == 24
    assert set(trait.european) == {"non-EUR"}
    assert trait.feature_names[:3] == ["snp0", "snp1", "snp2"]
    for population in ("a", "b", "c"):
        values = trait.confounder[pops == population]
        assert np.ptp(values) == pytest.approx(0.0, abs=1e-12)
    # The threshold reproduces the cases, so a re-drawn confounder can be
    # thresholded the same way.
    liability = trait.genetic + trait.confounder + trait.noise
    np.testing.assert_array_equal(trait.target, liability >= trait.threshold)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"populations": ["a", "b"]}, "populations describes the user's genotypes"),
        ({"genotypes": np.ones((4, 3))}, "populations is required"),
        (
            {"genotypes": np.full((4, 3), np.nan), "populations": list("aabb")},
            "genotypes has missing",
        ),
        (
            {"genotypes": np.full((4, 3), 3), "populations": list("aabb")},
            r"dosages in \[0, 2\]",
        ),
        ({"genotypes": np.ones(4), "populations": list("aabb")}, "genotypes must be"),
        (
            {"genotypes": np.ones((4, 3)), "populations": list("aab")},
            "one label per sample",
        ),
        (
            {"genotypes": np.ones((4, 3)), "populations": list("aaaa")},
            "at least 2 populations",
        ),
        (
            {
                "genotypes": np.ones((4, 3)),
                "populations": list("aabb"),
                "feature_names": ["x"],
            },
            "feature_names must name the 3 columns",
        ),
    ],
)
def test_genomes_trait_rejects_bad_genotypes(kwargs, match):
    from skfairal.datasets import make_1000genomes_trait

    with pytest.raises(ValueError, match=match):
        make_1000genomes_trait(n_causal=1, **kwargs)
