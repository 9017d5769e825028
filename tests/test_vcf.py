"""read_vcf_genotypes: which sites are kept, what each call counts as, bad files.

Every test writes its own small VCF; the expected matrices are written out by
hand.
"""

import gzip
import re
import sys

import cyvcf2  # the vcf extra, which the test extra includes
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skfairal.datasets import (
    DatasetFileError,
    DatasetNotFoundError,
    read_vcf_genotypes,
)

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=1>",
    "##contig=<ID=X>",
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
]
N_HEADER_LINES = len(HEADER) + 1  # and the #CHROM line


def _vcf_text(records, samples=("S1", "S2", "S3")):
    """A VCF file's text; fields in ``records`` are separated by spaces."""
    columns = "#CHROM POS ID REF ALT QUAL FILTER INFO FORMAT " + " ".join(samples)
    lines = [*HEADER, columns, *records]
    return "".join(line.replace(" ", "\t") + "\n" for line in lines)


def _write(tmp_path, records, name="test.vcf", **kwargs):
    path = tmp_path / name
    path.write_text(_vcf_text(records, **kwargs))
    return path


def _record(pos, calls, *, ref="A", alt="G", vid=None, chrom="1"):
    vid = vid or f"rs{pos}"
    return f"{chrom} {pos} {vid} {ref} {alt} . PASS . GT {calls}"


MIXED = [
    _record(100, "0/0 0/1 1/1"),
    _record(200, "0/0 0/1 1/2", alt="T,C"),  # multi-allelic
    _record(300, "0/1 0/0 1/1", ref="AT", alt="A"),  # deletion
    _record(400, "0/1 0/0 0/0", ref="C", alt="CTT"),  # insertion
    _record(500, "0/1 0/0 0/0", ref="C", alt="<DEL>"),
    _record(600, "0/1 0/0 0/0", ref="C", alt="*"),
    _record(700, "0/0 0/0 0/0", ref="C", alt="."),
    _record(800, "1/0 1/1 0/0", ref="c", alt="t", vid="."),
    _record(900, "0/0 0/0 0/0", ref="G", alt="A", vid="."),
]


def test_keeps_only_biallelic_snps(tmp_path):
    genotypes = read_vcf_genotypes(_write(tmp_path, MIXED))
    np.testing.assert_array_equal(
        genotypes.data,
        np.array([[0, 1, 0], [1, 2, 0], [2, 0, 0]], np.uint8),
        strict=True,
    )
    assert genotypes.data.flags.c_contiguous
    assert genotypes.skipped == {
        "multiallelic": 1,
        "not_snp": 5,
        "low_call_rate": 0,
        "monomorphic": 0,
    }
    assert genotypes.sample_ids.tolist() == ["S1", "S2", "S3"]
    # The ID field, or chrom:pos:ref:alt where it is ".".
    assert genotypes.feature_names.tolist() == ["rs100", "1:800:C:T", "1:900:G:A"]
    assert genotypes.chrom.tolist() == ["1", "1", "1"]
    np.testing.assert_array_equal(genotypes.pos, np.array([100, 800, 900]), strict=True)
    assert genotypes.ref.tolist() == ["A", "C", "G"]
    assert genotypes.alt.tolist() == ["G", "T", "A"]
    np.testing.assert_array_equal(genotypes.call_rate, [1.0, 1.0, 1.0])


def test_drop_monomorphic(tmp_path):
    genotypes = read_vcf_genotypes(_write(tmp_path, MIXED), drop_monomorphic=True)
    np.testing.assert_array_equal(genotypes.data, [[0, 1], [1, 2], [2, 0]])
    assert genotypes.feature_names.tolist() == ["rs100", "1:800:C:T"]
    assert genotypes.skipped["monomorphic"] == 1


def test_phased_and_unphased_calls_give_the_same_dosages(tmp_path):
    unphased = _write(tmp_path, [_record(1, "0/0 0/1 1/0"), _record(2, "1/1 0/0 0/1")])
    phased = _write(
        tmp_path,
        [_record(1, "0|0 0|1 1|0"), _record(2, "1|1 0|0 0/1")],
        name="phased.vcf",
    )
    expected = [[0, 2], [1, 0], [1, 1]]
    np.testing.assert_array_equal(read_vcf_genotypes(unphased).data, expected)
    np.testing.assert_array_equal(read_vcf_genotypes(phased).data, expected)


def test_haploid_calls_count_as_homozygous(tmp_path):
    # A male's chrX: haploid calls among diploid ones, and an all-haploid site.
    path = _write(
        tmp_path,
        [_record(1, "0/1 1 0", chrom="X"), _record(2, "1 0 1", chrom="X")],
    )
    np.testing.assert_array_equal(
        read_vcf_genotypes(path).data, [[1, 2], [2, 0], [0, 2]]
    )
    # A missing haploid call is missing like any other.
    missing = _write(tmp_path, [_record(1, "0/1 . 1", chrom="X")], name="m.vcf")
    genotypes = read_vcf_genotypes(missing, missing="nan", min_call_rate=0)
    np.testing.assert_array_equal(genotypes.data, [[1.0], [np.nan], [2.0]])


MISSING = [
    _record(1, "0/0 0/1 1/1"),
    _record(2, "./. 0/1 1/1"),  # call rate 2/3
    _record(3, ".|. . 1/1"),  # 1/3
    _record(4, "./1 0/. 1/1"),  # a half-missing call is missing: 1/3
    _record(5, "./. . .|."),  # nothing called
]


def test_missing_error_names_the_line_and_sample(tmp_path):
    path = _write(tmp_path, MISSING)
    line = N_HEADER_LINES + 2
    with pytest.raises(ValueError, match=rf"line {line} .*sample 'S1'.*missing='drop'"):
        read_vcf_genotypes(path)


def test_missing_drop_skips_sites_with_a_missing_call(tmp_path):
    genotypes = read_vcf_genotypes(_write(tmp_path, MISSING), missing="drop")
    np.testing.assert_array_equal(
        genotypes.data, np.array([[0], [1], [2]], np.uint8), strict=True
    )
    assert genotypes.skipped["low_call_rate"] == 4


def test_missing_mean_fills_the_site_mean_above_the_call_rate(tmp_path):
    path = _write(tmp_path, MISSING)
    genotypes = read_vcf_genotypes(path, missing="mean", min_call_rate=0.6)
    np.testing.assert_array_equal(
        genotypes.data, [[0.0, 1.5], [1.0, 1.0], [2.0, 2.0]], strict=True
    )
    assert genotypes.data.dtype == np.float64
    np.testing.assert_allclose(genotypes.call_rate, [1.0, 2 / 3])
    assert genotypes.skipped["low_call_rate"] == 3
    # The default threshold (0.95) keeps only the fully called site; a zero
    # threshold keeps all but the site with no call at all.
    assert read_vcf_genotypes(path, missing="mean").feature_names.tolist() == ["rs1"]
    every = read_vcf_genotypes(path, missing="mean", min_call_rate=0, dtype="float32")
    np.testing.assert_array_equal(
        every.data,
        np.array([[0, 1.5, 2, 2], [1, 1, 2, 2], [2, 2, 2, 2]], dtype=np.float32),
        strict=True,
    )
    assert every.skipped["low_call_rate"] == 1


def test_missing_nan_leaves_nan(tmp_path):
    path = _write(tmp_path, MISSING)
    genotypes = read_vcf_genotypes(path, missing="nan", min_call_rate=0.3)
    nan = np.nan
    np.testing.assert_array_equal(
        genotypes.data,
        [[0, nan, nan, nan], [1, 1, nan, nan], [2, 2, 2, 2]],
    )
    np.testing.assert_allclose(genotypes.call_rate, [1, 2 / 3, 1 / 3, 1 / 3])


def test_many_sites_with_missing_calls(tmp_path):
    # More sites than one transposition block, missing calls scattered.
    rng = np.random.default_rng(0)
    n_sites = 1300
    dosage = rng.integers(0, 3, size=(n_sites, 3))
    missing = rng.random((n_sites, 3)) < 0.1
    missing[:, 2] = False  # every site keeps a call
    text = {0: "0/0", 1: "0/1", 2: "1/1"}
    records = [
        _record(i + 1, " ".join("./." if m else text[d] for d, m in zip(row, miss)))
        for i, (row, miss) in enumerate(zip(dosage, missing))
    ]
    path = _write(tmp_path, records)
    genotypes = read_vcf_genotypes(path, missing="mean", min_call_rate=0)
    masked = np.ma.masked_array(dosage, missing)
    expected = np.where(missing, masked.mean(axis=1, keepdims=True).data, dosage)
    np.testing.assert_allclose(genotypes.data, expected.T)
    kept = read_vcf_genotypes(path, missing="drop")
    complete = ~missing.any(axis=1)
    np.testing.assert_array_equal(kept.data, dosage[complete].T)
    assert kept.pos.tolist() == (np.flatnonzero(complete) + 1).tolist()


def test_samples_selects_and_orders_rows(tmp_path):
    path = _write(tmp_path, [_record(1, "0/0 0/1 1/1"), _record(2, "./. 1/1 0/1")])
    genotypes = read_vcf_genotypes(path, samples=["S3", "S2"])
    np.testing.assert_array_equal(genotypes.data, [[2, 1], [1, 2]])
    assert genotypes.sample_ids.tolist() == ["S3", "S2"]
    with pytest.raises(ValueError, match=r"1 id\(s\) absent from .*'S9'"):
        read_vcf_genotypes(path, samples=["S1", "S9"])
    with pytest.raises(ValueError, match=r"samples lists \['S1'\] more than once"):
        read_vcf_genotypes(path, samples=["S1", "S1"])
    with pytest.raises(TypeError, match="samples must be a list of sample ids"):
        read_vcf_genotypes(path, samples="S1")
    with pytest.raises(ValueError, match="samples must be a non-empty list"):
        read_vcf_genotypes(path, samples=[])


def test_compressed_and_bcf_files_read_the_same(tmp_path):
    records = [*MIXED, _record(1000, "0|1 1|1 0|0")]
    plain = _write(tmp_path, records)
    expected = read_vcf_genotypes(plain)
    gzipped = tmp_path / "test.vcf.gz"
    gzipped.write_bytes(gzip.compress(plain.read_bytes()))
    paths = [gzipped]
    for name, mode in [("test.bgz.vcf.gz", "wz"), ("test.bcf", "wb")]:
        reader = cyvcf2.VCF(str(plain))
        writer = cyvcf2.Writer(str(tmp_path / name), reader, mode=mode)
        for variant in reader:
            writer.write_record(variant)
        writer.close()
        reader.close()
        paths.append(tmp_path / name)
    assert (tmp_path / "test.bgz.vcf.gz").read_bytes()[12:14] == b"BC"  # BGZF
    for path in paths:
        genotypes = read_vcf_genotypes(path)
        assert genotypes.keys() == expected.keys()
        for key, value in expected.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(genotypes[key], value, strict=True)
            else:
                assert genotypes[key] == value


GOOD = _record(10, "0/0 0/1 1/1")
MALFORMED = {
    "too few columns": "1 20 rs20 A G . PASS . GT 0/0 0/1",
    "a non-numeric POS": "1 abc rs20 A G . PASS . GT 0/0 0/1 1/1",
    "a GT that is not a number": "1 20 rs20 A G . PASS . GT 0/x 0/1 1/1",
    "an allele index above the ALT count": "1 20 rs20 A G . PASS . GT 0/0 0/2 1/1",
    "a triploid call": "1 20 rs20 A G . PASS . GT 0/0 0/1/1 1/1",
    "no GT field": "1 20 rs20 A G . PASS . DP 3 4 5",
    "an empty line": "",
}


@pytest.mark.parametrize("compress", [False, True], ids=["vcf", "vcf.gz"])
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_line_names_its_number(tmp_path, kind, compress):
    text = _vcf_text([GOOD, GOOD, MALFORMED[kind], GOOD])
    path = tmp_path / ("bad.vcf.gz" if compress else "bad.vcf")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    line = N_HEADER_LINES + 3
    shown = repr(MALFORMED[kind].replace(" ", "\t"))[:40]
    content = "an empty line" if kind == "an empty line" else re.escape(shown)
    with pytest.raises(DatasetFileError, match=rf"bad\.vcf.*, line {line} \({content}"):
        read_vcf_genotypes(path)


def test_malformed_line_among_selected_samples(tmp_path):
    # htslib parses only the selected samples' columns: S3's is the one missing.
    path = _write(tmp_path, [GOOD, MALFORMED["too few columns"]])
    with pytest.raises(DatasetFileError, match=rf"line {N_HEADER_LINES + 2} "):
        read_vcf_genotypes(path, samples=["S3"])
    genotypes = read_vcf_genotypes(path, samples=["S2", "S1"])
    np.testing.assert_array_equal(genotypes.data, [[1, 1], [0, 0]])


def test_trailing_empty_line_is_an_error(tmp_path):
    path = _write(tmp_path, [GOOD])
    path.write_text(path.read_text() + "\n")
    with pytest.raises(DatasetFileError, match=r"an empty line\): the CHROM"):
        read_vcf_genotypes(path)


def test_unreadable_files(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not found"):
        read_vcf_genotypes(tmp_path / "absent.vcf")
    junk = tmp_path / "junk.vcf"
    junk.write_text("not a VCF\n")
    with pytest.raises(DatasetFileError, match="not a VCF or BCF file"):
        read_vcf_genotypes(junk)
    no_chrom_line = tmp_path / "header.vcf"
    no_chrom_line.write_text("##fileformat=VCFv4.2\n1\t1\t.\tA\tG\t.\t.\t.\tGT\t0/0\n")
    with pytest.raises(DatasetFileError, match="header cannot be parsed"):
        read_vcf_genotypes(no_chrom_line)
    sites_only = tmp_path / "sites.vcf"
    sites_only.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    with pytest.raises(ValueError, match="holds no samples"):
        read_vcf_genotypes(sites_only)


def test_header_only_file_gives_an_empty_matrix(tmp_path):
    genotypes = read_vcf_genotypes(_write(tmp_path, []))
    assert genotypes.data.shape == (3, 0)
    assert genotypes.data.dtype == np.uint8
    assert genotypes.feature_names.shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"missing": "impute"}, ValueError, "missing must be one of"),
        (
            {"min_call_rate": 1.5},
            ValueError,
            r"min_call_rate must be a number in \[0, 1\]",
        ),
        ({"min_call_rate": True}, ValueError, "min_call_rate must be a number"),
        ({"drop_monomorphic": 1}, TypeError, "drop_monomorphic must be a bool"),
        ({"dtype": "U3"}, ValueError, "dtype must be an integer or float dtype"),
        ({"missing": "mean", "dtype": np.uint8}, ValueError, "must be a float dtype"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        read_vcf_genotypes(_write(tmp_path, [GOOD]), **kwargs)


def test_missing_cyvcf2_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cyvcf2", None)
    with pytest.raises(ImportError, match=r"requires cyvcf2.*skfairal\[vcf\]"):
        read_vcf_genotypes(_write(tmp_path, [GOOD]))


def test_data_feeds_a_scikit_learn_estimator(tmp_path):
    records = [_record(1, "0/0 0/1 1/1 1/1"), _record(2, "0/1 0/0 1/1 ./.")]
    path = _write(tmp_path, records, samples=("A", "B", "C", "D"))
    for missing in ("drop", "mean"):
        X = read_vcf_genotypes(path, missing=missing, min_call_rate=0.7).data
        model = LogisticRegression().fit(X, [0, 0, 1, 1])
        assert model.predict(X).shape == (4,)
