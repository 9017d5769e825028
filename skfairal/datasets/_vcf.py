"""Alternate-allele dosages of the bi-allelic SNPs of a VCF file, read with cyvcf2."""

import gzip
import numbers
import zlib
from collections import Counter
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import DTypeLike
from sklearn.utils import Bunch

from ..utils import import_optional
from ._base import DatasetFileError, DatasetNotFoundError

__all__ = ["read_vcf_genotypes"]

_MISSING_RULES = ("error", "drop", "mean", "nan")
_BASES = frozenset("ACGT")
# No dosage exceeds 2, so 255 can mark an uncalled genotype in the uint8 rows.
_UNCALLED = 255
# htslib's genotype arrays: -1 is a missing allele, -2 pads a call shorter
# than the site's widest one (a haploid call among diploid ones).
_MISSING_ALLELE = -1
_PADDING = -2
# Sites per block when the site-major rows become sample-major columns: a
# whole transposed copy is cache-hostile (see _genomes.py).
_BLOCK = 512
_SHOWN_CHARS = 80


def _check_params(samples, missing, min_call_rate, drop_monomorphic, dtype):
    """Validate the arguments; return the requested sample ids and the dtype."""
    if missing not in _MISSING_RULES:
        raise ValueError(f"missing must be one of {_MISSING_RULES}, got {missing!r}.")
    if (
        isinstance(min_call_rate, bool)
        or not isinstance(min_call_rate, numbers.Real)
        or not 0 <= min_call_rate <= 1
    ):
        raise ValueError(
            f"min_call_rate must be a number in [0, 1], got {min_call_rate!r}."
        )
    if not isinstance(drop_monomorphic, bool):
        raise TypeError(f"drop_monomorphic must be a bool, got {drop_monomorphic!r}.")
    if dtype is None:
        dtype = np.float64 if missing in {"mean", "nan"} else np.uint8
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be a numpy dtype, got {dtype!r}.") from exc
    if dtype.kind not in "iuf":
        raise ValueError(f"dtype must be an integer or float dtype, got {dtype}.")
    if missing in {"mean", "nan"} and dtype.kind != "f":
        raise ValueError(
            f"missing={missing!r} fills in non-integer values, so dtype must be a "
            f"float dtype, got {dtype}."
        )
    if samples is not None:
        if isinstance(samples, str) or not isinstance(samples, Sequence):
            raise TypeError(
                f"samples must be a list of sample ids, got {type(samples).__name__}."
            )
        samples = list(samples)
        if not samples or not all(isinstance(s, str) for s in samples):
            raise ValueError("samples must be a non-empty list of str sample ids.")
        repeated = sorted(s for s, count in Counter(samples).items() if count > 1)
        if repeated:
            raise ValueError(f"samples lists {repeated} more than once.")
    return samples, dtype


def _open_binary(path: Path):
    """Open ``path`` for reading bytes, through gzip when it is compressed."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    # bgzip output is a series of gzip members, which the gzip module reads.
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


def _describe_record(path: Path, record: int) -> str:
    """Say where the ``record``-th record (1-based) of ``path`` is, and show it.

    htslib reports neither line numbers nor the text of a bad line, so both are
    recovered here; this reads the file again, which only an error pays for.
    """
    try:
        with _open_binary(path) as file:
            n_header, in_header = 0, True
            for lineno, line in enumerate(file, start=1):
                if lineno == 1 and line.startswith(b"BCF"):
                    return f"record {record} (BCF holds no text lines)"
                if in_header and line.startswith(b"#"):
                    n_header = lineno
                    continue
                in_header = False
                if lineno == n_header + record:
                    text = line.decode("ascii", "replace").rstrip("\r\n")
                    if not text.strip():
                        return f"line {lineno} (an empty line)"
                    if len(text) > _SHOWN_CHARS:
                        text = text[:_SHOWN_CHARS] + "..."
                    return f"line {lineno} ({text!r})"
    except (OSError, EOFError, zlib.error):
        pass
    return (
        f"record {record} (a line past the end of the readable text: the file "
        "is truncated or its compression is damaged)"
    )


def _malformed(path: Path, record: int, reason: str) -> DatasetFileError:
    where = _describe_record(path, record)
    return DatasetFileError(f"{path}, {where}: {reason}", filename=path.name)


class _BadCall(ValueError):
    """A call that no bi-allelic diploid or haploid site can hold."""

    def __init__(self, reason: str, sample: int):
        super().__init__(reason, sample)
        self.reason, self.sample = reason, sample


def _dosages(alleles: np.ndarray) -> np.ndarray:
    """Alternate-allele counts of one bi-allelic site, ``_UNCALLED`` where missing.

    ``alleles`` is htslib's (n_samples, max_ploidy) array of allele indices.
    Raises _BadCall on an allele index above 1 or a call of ploidy above 2.
    """
    if alleles.shape[1] > 2:
        extra = np.flatnonzero((alleles[:, 2:] != _PADDING).any(axis=1))
        if extra.size:
            raise _BadCall(
                "a call of ploidy above 2 (only haploid and diploid calls are "
                "supported)",
                int(extra[0]),
            )
        alleles = alleles[:, :2]
    first = alleles[:, 0]
    # An all-haploid site has one allele column: pad it like htslib does.
    second = np.full_like(first, _PADDING) if alleles.shape[1] == 1 else alleles[:, 1]
    too_high = np.flatnonzero((first > 1) | (second > 1))
    if too_high.size:
        raise _BadCall(
            "an allele index above 1 at a site with one ALT allele", int(too_high[0])
        )
    haploid = second == _PADDING
    uncalled = (first < 0) | (second == _MISSING_ALLELE)
    # A haploid call counts as homozygous (0 or 2), as PLINK 1 stores it, so
    # that hemizygous and diploid carriers share one scale.
    alt_first = (first == 1).astype(np.uint8)
    # uint8 before adding: numpy's bool + bool is a logical or.
    dosage = np.where(haploid, 2 * alt_first, alt_first + (second == 1))
    dosage = dosage.astype(np.uint8, copy=False)
    dosage[uncalled] = _UNCALLED
    return dosage


def _open_vcf(cyvcf2, path: Path, samples: list[str] | None):
    """Open ``path`` with cyvcf2, restricted to ``samples`` when given."""
    if not path.is_file():
        raise DatasetNotFoundError(
            f"VCF file {str(path)!r} not found.", filename=path.name, searched=[path]
        )
    try:
        vcf = cyvcf2.VCF(str(path))
    except OSError as exc:
        raise DatasetFileError(
            f"{path} is not a VCF or BCF file that htslib can read ({exc}).",
            filename=path.name,
        ) from exc
    except Exception as exc:  # cyvcf2 raises a bare Exception on a bad header
        raise DatasetFileError(
            f"{path}: the VCF header cannot be parsed ({exc}; htslib printed the "
            "reason on standard error). The header must end with a tab-separated "
            "#CHROM line naming each sample once.",
            filename=path.name,
        ) from exc
    in_file = list(vcf.samples)
    if not in_file:
        vcf.close()
        raise ValueError(f"{path} holds no samples (a sites-only VCF).")
    if samples is None:
        return vcf, in_file
    known = set(in_file)
    unknown = [s for s in samples if s not in known]
    if unknown:
        vcf.close()
        shown = ", ".join(map(repr, unknown[:5])) + (
            ", ..." if len(unknown) > 5 else ""
        )
        raise ValueError(
            f"samples names {len(unknown)} id(s) absent from {path}: {shown}."
        )
    # htslib keeps the file's order; the caller's order is restored later.
    vcf.set_samples(samples)
    return vcf, list(vcf.samples)


def read_vcf_genotypes(
    path: str | PathLike,
    *,
    samples: Sequence[str] | None = None,
    missing: Literal["error", "drop", "mean", "nan"] = "error",
    min_call_rate: float = 0.95,
    drop_monomorphic: bool = False,
    dtype: DTypeLike | None = None,
) -> Bunch:
    r"""Read the bi-allelic SNPs of a VCF file as a samples x SNPs dosage matrix.

    Each entry is the number (0, 1 or 2) of alternate alleles a sample carries
    at a SNP, as in :func:`load_1000genomes`, so the matrix goes straight into
    a scikit-learn estimator. The file may be plain text, gzip- or
    bgzip-compressed (``.vcf``, ``.vcf.gz``, as IGSR distributes the 1000
    Genomes data) or BCF. Reading needs the optional package cyvcf2
    (``pip install 'skfairal[vcf]'``).

    Which sites are kept, and what a call counts as:

    - Only bi-allelic SNPs are kept: one ALT allele, and REF and ALT each a
      single base A, C, G or T (case-insensitive). Multi-allelic sites (ALT
      lists several alleles) and other variants (indels, symbolic alleles
      such as ``<DEL>``, ``*``, ``N``, or ALT ``.``) are skipped and counted
      in ``skipped``. Split multi-allelic sites beforehand
      (``bcftools norm -m-``) to keep their SNPs.
    - Only the GT field is read; QUAL, FILTER and INFO are ignored, so filter
      sites beforehand (``bcftools view -f PASS``) if needed.
    - Phased (``0|1``) and unphased (``0/1``) calls give the same dosage.
    - A haploid call (chrX and chrY in males, chrM) counts as homozygous:
      ``0`` gives 0 and ``1`` gives 2, as PLINK 1 stores it, so that a
      hemizygous carrier and a homozygous diploid carrier share one scale.
    - A call with any missing allele (``./.``, ``.|.``, ``.``, ``./1``) is
      missing, and ``missing`` says what happens to it (see below). The call
      rate of a site is the share of the selected samples with a called
      genotype.

    Parameters
    ----------
    path : str or path-like
        The VCF (or BCF) file.
    samples : list of str, default=None
        Sample ids to read, in the order the rows should have; by default
        every sample, in the file's order. htslib then parses only these
        samples' columns, so a line malformed in another sample's column goes
        unnoticed.
    missing : {"error", "drop", "mean", "nan"}, default="error"
        The rule for missing calls:

        - ``"error"``: raise at the first missing call, naming its line.
        - ``"drop"``: skip every site with a missing call.
        - ``"mean"``: skip sites whose call rate is below ``min_call_rate``
          and fill each remaining missing call with the mean dosage of the
          site's called samples (the usual imputation of GWAS and genomic
          prediction; it keeps the column mean).
        - ``"nan"``: skip sites as ``"mean"`` does and leave NaN, for a
          scikit-learn ``SimpleImputer`` fitted inside a pipeline (so no
          information crosses a train/test split) or an estimator that
          accepts NaN, such as ``HistGradientBoostingClassifier``.

        A site with no called genotype at all is always skipped.
    min_call_rate : float, default=0.95
        With ``missing="mean"`` or ``"nan"``, sites called in fewer than this
        share of the samples are skipped (PLINK's ``--geno 0.05``). Unused by
        the other rules.
    drop_monomorphic : bool, default=False
        If True, also skip sites where every called sample has the same
        dosage (among the selected samples), as :func:`load_1000genomes`
        does. Off by default, so that files read separately (train and test
        cohorts) keep the same columns.
    dtype : numpy dtype, default=None
        dtype of ``data``: ``uint8`` by default for ``"error"`` and
        ``"drop"``, ``float64`` for ``"mean"`` and ``"nan"`` (which need a
        float dtype).

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, n_snps)
            Alternate-allele dosages, C-contiguous, rows in ``sample_ids``
            order and columns in the file's order.
        sample_ids : ndarray of shape (n_samples,), dtype=object
            The sample ids (str), in row order.
        feature_names : ndarray of shape (n_snps,), dtype=object
            The variant id of each column: the ID field, or
            ``chrom:pos:ref:alt`` where it is ``.`` (the form of
            :func:`load_1000genomes`'s ``feature_names``).
        chrom, ref, alt : ndarray of shape (n_snps,), dtype=object
            The CHROM field, and REF and ALT in upper case.
        pos : ndarray of shape (n_snps,), dtype=int64
            The POS field (1-based).
        call_rate : ndarray of shape (n_snps,), dtype=float64
            Share of the samples called at each kept SNP (1.0 unless
            ``missing`` is ``"mean"`` or ``"nan"``).
        skipped : dict of str to int
            Sites skipped, by reason: ``"multiallelic"``, ``"not_snp"``,
            ``"low_call_rate"`` (which counts the sites ``"drop"`` skips) and
            ``"monomorphic"``.

    Raises
    ------
    ImportError
        If cyvcf2 is not installed.
    DatasetNotFoundError
        If ``path`` is not a file.
    DatasetFileError
        If the file is not VCF or BCF, its header cannot be parsed, or a line
        is malformed (wrong number of columns, a non-numeric POS, a GT such
        as ``0/x`` or ``0/2`` at a bi-allelic site, an empty line) or holds a
        call of ploidy above 2. The message names the file and the line, and
        shows it.
    ValueError
        If the file has no samples, ``samples`` names an id absent from it,
        or, with ``missing="error"``, at the first missing call (naming its
        line and sample).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfairal.datasets import read_vcf_genotypes
    >>> lines = [
    ...     "##fileformat=VCFv4.2",
    ...     "##contig=<ID=1>",
    ...     '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    ...     "#CHROM POS ID REF ALT QUAL FILTER INFO FORMAT S1 S2 S3",
    ...     "1 100 rs1 A G . PASS . GT 0|0 0|1 1|1",
    ...     "1 200 . C T . PASS . GT 0/1 ./. 1/1",
    ...     "1 300 rs3 C T,G . PASS . GT 0/1 0/2 1/1",
    ...     "1 400 rs4 AT A . PASS . GT 0/1 0/0 1/1",
    ... ]
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "tiny.vcf"
    >>> _ = path.write_text("".join(line.replace(" ", "\t") + "\n" for line in lines))

    The multi-allelic site and the indel are skipped; by default a missing
    call is an error, ``"drop"`` skips its site and ``"mean"`` fills it in:

    >>> genotypes = read_vcf_genotypes(path, missing="drop")
    >>> genotypes.data
    array([[0],
           [1],
           [2]], dtype=uint8)
    >>> genotypes.feature_names, genotypes.skipped
    (array(['rs1'], dtype=object),
     {'multiallelic': 1, 'not_snp': 1, 'low_call_rate': 1, 'monomorphic': 0})
    >>> genotypes = read_vcf_genotypes(path, missing="mean", min_call_rate=0.5)
    >>> genotypes.data
    array([[0. , 1. ],
           [1. , 1.5],
           [2. , 2. ]])
    >>> list(genotypes.feature_names), genotypes.call_rate.round(2)
    (['rs1', '1:200:C:T'], array([1.  , 0.67]))

    Rows follow ``samples``, and call rates count those samples only: without
    S2, the second site has no missing call.

    >>> read_vcf_genotypes(path, samples=["S3", "S1"]).data
    array([[2, 2],
           [0, 1]], dtype=uint8)
    >>> folder.cleanup()
    """
    samples, dtype = _check_params(
        samples, missing, min_call_rate, drop_monomorphic, dtype
    )
    path = Path(path)
    cyvcf2 = import_optional("cyvcf2", purpose="read_vcf_genotypes", extra="vcf")
    vcf, read_ids = _open_vcf(cyvcf2, path, samples)
    sample_ids = read_ids if samples is None else samples
    # Rows come in the file's order; ``order`` puts them in the caller's.
    position = {sample: i for i, sample in enumerate(read_ids)}
    order = np.array([position[s] for s in sample_ids], dtype=np.intp)
    n_samples = len(sample_ids)
    skipped = {"multiallelic": 0, "not_snp": 0, "low_call_rate": 0, "monomorphic": 0}
    rows, fills, call_rates = [], [], []
    chroms, positions, refs, alts, names = [], [], [], [], []
    record = 0
    iterator = iter(vcf)
    try:
        while True:
            record += 1
            try:
                variant = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # cyvcf2 raises a bare Exception
                raise _malformed(
                    path,
                    record,
                    "htslib cannot parse it (wrong number of columns, a bad POS "
                    "or GT, or truncated compression; htslib printed the reason "
                    "on standard error).",
                ) from exc
            chrom = variant.CHROM
            if not chrom:
                # htslib leaves the fields of such a record (an empty line)
                # unset: reading REF from it crashes the interpreter.
                raise _malformed(path, record, "the CHROM field is empty.")
            alt_alleles = variant.ALT
            if len(alt_alleles) > 1:
                skipped["multiallelic"] += 1
                continue
            ref = variant.REF.upper()
            alt = alt_alleles[0].upper() if alt_alleles else "."
            if ref not in _BASES or alt not in _BASES or ref == alt:
                skipped["not_snp"] += 1
                continue
            try:
                calls = variant.genotype
            except Exception as exc:  # cyvcf2 raises a bare Exception
                raise _malformed(path, record, "the record has no GT field.") from exc
            try:
                # The array's last column is the phase flag, which is ignored.
                dosage = _dosages(calls.array()[:, :-1])[order]
            except _BadCall as exc:
                raise _malformed(
                    path, record, f"sample {read_ids[exc.sample]!r} has {exc.reason}."
                ) from None
            called = dosage != _UNCALLED
            n_called = int(np.count_nonzero(called))
            fill = np.nan
            if n_called < n_samples:
                if missing == "error":
                    first = sample_ids[int(np.flatnonzero(~called)[0])]
                    where = _describe_record(path, record)
                    raise ValueError(
                        f"{path}, {where}: sample {first!r} has a missing call. "
                        "Pass missing='drop' to skip sites with missing calls, or "
                        "'mean' or 'nan' to fill them in."
                    )
                if (
                    missing == "drop"
                    or n_called == 0
                    or n_called / n_samples < min_call_rate
                ):
                    skipped["low_call_rate"] += 1
                    continue
                if missing == "mean":
                    fill = dosage[called].mean()
            if drop_monomorphic:
                values = dosage[called]
                if values.min() == values.max():
                    skipped["monomorphic"] += 1
                    continue
            pos = variant.POS
            rows.append(dosage)
            fills.append(fill)
            call_rates.append(n_called / n_samples)
            chroms.append(chrom)
            positions.append(pos)
            refs.append(ref)
            alts.append(alt)
            names.append(variant.ID or f"{chrom}:{pos}:{ref}:{alt}")
    finally:
        vcf.close()
    return Bunch(
        data=_sample_major(rows, fills, n_samples, dtype),
        sample_ids=np.array(sample_ids, dtype=object),
        feature_names=np.array(names, dtype=object),
        chrom=np.array(chroms, dtype=object),
        pos=np.array(positions, dtype=np.int64),
        ref=np.array(refs, dtype=object),
        alt=np.array(alts, dtype=object),
        call_rate=np.array(call_rates, dtype=np.float64),
        skipped=skipped,
    )


def _sample_major(rows, fills, n_samples, dtype) -> np.ndarray:
    """Stack per-site dosage rows into samples x sites, filling uncalled ones."""
    data = np.empty((n_samples, len(rows)), dtype=dtype)
    for start in range(0, len(rows), _BLOCK):
        block = np.array(rows[start : start + _BLOCK])
        stop = start + block.shape[0]
        uncalled = block == _UNCALLED
        if uncalled.any():
            # Only float dtypes get here: the other rules keep no missing call.
            block = block.astype(dtype)
            fill = np.asarray(fills[start:stop], dtype=dtype)[:, None]
            block = np.where(uncalled, fill, block)
        data[:, start:stop] = block.T
    return data
