"""Genotypes of the 2,504 individuals of the 1000 Genomes Project, phase 3."""

import gzip

import numpy as np
from sklearn.utils import Bunch

from ..utils import import_optional
from ._base import DatasetFileError, object_matrix, read_descr, read_embedded

__all__ = ["load_1000genomes"]

_GENOTYPES = "GRCH37.sites.bin.gz"
_SITES = "GRCH37.sites.gz"
_PANEL = "integrated_call_samples_v3.20130502.ALL.panel.gz"
_PANEL_COLUMNS = ["sample", "pop", "super_pop", "gender"]
GENOMES_SENSITIVE = ["super_pop", "pop", "gender"]
_N_SAMPLES = 2504
_N_SITES = 23770
# Sites per block of the transpose: a whole-matrix transposed copy of uint8 is
# cache-hostile (about 6x slower than copying blocks of a few hundred sites).
_BLOCK = 512


def _read_panel() -> dict[str, np.ndarray]:
    lines = gzip.decompress(read_embedded(_PANEL)).decode("ascii").splitlines()
    header = lines[0].split("\t")[: len(_PANEL_COLUMNS)]
    if header != _PANEL_COLUMNS:
        raise DatasetFileError(f"Unexpected panel header {header!r}.", filename=_PANEL)
    # The header carries two empty trailing fields; sample lines do not.
    records = [line.split("\t")[: len(_PANEL_COLUMNS)] for line in lines[1:] if line]
    panel = {
        name: np.array(values, dtype=object)
        for name, values in zip(_PANEL_COLUMNS, zip(*records))
    }
    if len(records) != _N_SAMPLES or len(set(panel["sample"])) != _N_SAMPLES:
        raise DatasetFileError(
            f"The panel lists {len(records)} rows "
            f"({len(set(panel['sample']))} distinct samples), expected {_N_SAMPLES}.",
            filename=_PANEL,
        )
    return panel


def _read_genotypes() -> tuple[np.ndarray, np.ndarray]:
    """Samples x polymorphic sites uint8 matrix and the kept site ids."""
    site_ids = gzip.decompress(read_embedded(_SITES)).decode("ascii").split()
    raw = gzip.decompress(read_embedded(_GENOTYPES))
    if len(site_ids) != _N_SITES or len(raw) != _N_SITES * _N_SAMPLES:
        raise DatasetFileError(
            f"{_GENOTYPES} holds {len(raw)} bytes and {_SITES} lists "
            f"{len(site_ids)} sites; expected {_N_SITES} sites x {_N_SAMPLES} "
            "samples.",
            filename=_GENOTYPES,
        )
    # Stored site-major: one row of 2,504 sample genotypes per site.
    by_site = np.frombuffer(raw, dtype=np.uint8).reshape(_N_SITES, _N_SAMPLES)
    low, high = by_site.min(axis=1), by_site.max(axis=1)
    if high.max() > 2:
        raise DatasetFileError(
            f"{_GENOTYPES} holds allele counts above 2.", filename=_GENOTYPES
        )
    kept = np.flatnonzero(low != high)
    genotypes = np.empty((_N_SAMPLES, kept.size), dtype=np.uint8)
    for start in range(0, kept.size, _BLOCK):
        block = kept[start : start + _BLOCK]
        genotypes[:, start : start + block.size] = by_site[block].T
    return genotypes, np.array(site_ids, dtype=object)[kept]


def load_1000genomes(*, as_frame: bool = False) -> Bunch:
    """Load genotypes and ancestry labels of the 1000 Genomes phase 3 samples.

    2,504 individuals from 26 populations in 5 super-populations (AFR, AMR,
    EAS, EUR, SAS), genotyped at 22,684 polymorphic autosomal exome SNPs: each
    entry is the number (0, 1 or 2) of alternate alleles, with no missing
    values. The matrix is the one the peddy package ships (23,770 SNPs with
    allele frequency in (0.04, 0.95)); the 1,086 SNPs that do not vary across
    the 2,504 samples are dropped. Rows follow the IGSR sample panel. The data
    ship with skfairal (compressed, checksum-verified on every load).

    There is no phenotype. ``target`` is the super-population, which is fine
    for ancestry prediction; a fairness task across ancestries needs a trait
    simulated from chosen causal SNPs: see :func:`make_1000genomes_trait`.

    Read more in ``load_1000genomes().DESCR``.

    Parameters
    ----------
    as_frame : bool, default=False
        If True, return pandas objects (requires pandas): ``data`` is a
        DataFrame of uint8 columns named by SNP id, ``target`` a ``category``
        Series named ``"super_pop"``, ``sensitive_features`` a DataFrame of
        ``category`` columns, and ``frame`` holds ``data`` plus the
        ``super_pop`` column.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (2504, 22684), dtype=uint8, or DataFrame
            Alternate-allele counts, C-contiguous.
        target : ndarray of shape (2504,), dtype=object, or Series
            The super-population code of each sample (str).
        target_names : list of str
            The five super-population codes, sorted.
        sensitive_features : ndarray of shape (2504, 3), dtype=object, or DataFrame
            ``super_pop``, ``pop`` and ``gender`` (``"female"``/``"male"``).
        sensitive_feature_names : list of str
            ``["super_pop", "pop", "gender"]``.
        feature_names : ndarray of shape (22684,), dtype=object
            SNP ids ``chrom:pos:ref:alt`` (GRCh37), in column order.
        sample_ids : ndarray of shape (2504,), dtype=object
            IGSR sample ids (``HG00096``, ...), in row order.
        frame : DataFrame or None
            ``data`` with the ``super_pop`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance and citations.

    Raises
    ------
    DatasetFileError
        If an embedded file is missing or fails its checksum.

    Examples
    --------
    >>> from skfairal.datasets import load_1000genomes
    >>> genomes = load_1000genomes()
    >>> genomes.data.shape, genomes.data.dtype
    ((2504, 22684), dtype('uint8'))
    >>> genomes.target_names
    ['AFR', 'AMR', 'EAS', 'EUR', 'SAS']
    >>> genomes.feature_names[0], genomes.sample_ids[0]
    ('1:69761:A:T', 'HG00096')
    """
    # Fail before any parsing when pandas is missing.
    pd = (
        import_optional("pandas", purpose="as_frame=True", extra="bench")
        if as_frame
        else None
    )
    panel = _read_panel()
    genotypes, feature_names = _read_genotypes()
    super_pop = panel["super_pop"]
    bunch = Bunch(
        feature_names=feature_names,
        sample_ids=panel["sample"],
        sensitive_feature_names=list(GENOMES_SENSITIVE),
        target_names=sorted(set(super_pop)),
        frame=None,
        DESCR=read_descr("genomes"),
    )
    if as_frame:
        # One constructor call over the uint8 block, without copying it.
        data = pd.DataFrame(genotypes, columns=feature_names, copy=False)
        sensitive = pd.DataFrame(
            {name: pd.Categorical(panel[name]) for name in GENOMES_SENSITIVE}
        )
        target = sensitive["super_pop"].copy()
        bunch.update(
            data=data,
            target=target,
            sensitive_features=sensitive,
            frame=pd.concat([data, target], axis=1),
        )
    else:
        bunch.update(
            data=genotypes,
            target=super_pop,
            sensitive_features=object_matrix([panel[n] for n in GENOMES_SENSITIVE]),
        )
    return bunch
