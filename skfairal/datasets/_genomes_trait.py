"""A binary trait simulated on genotypes (1000 Genomes by default), confounded."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state

from ..utils import is_missing
from ._genomes import load_1000genomes

_MIN_MAF = 0.05


def _check_fraction(value, name: str, *, closed_low: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    low_ok = value >= 0 if closed_low else value > 0
    if not (low_ok and value < 1):
        bounds = "[0, 1)" if closed_low else "(0, 1)"
        raise ValueError(f"{name} must be in {bounds}, got {value}.")
    return float(value)


def make_1000genomes_trait(
    n_causal: int = 100,
    *,
    genotypes=None,
    populations=None,
    feature_names=None,
    heritability: float = 0.5,
    confounding: float = 0.3,
    prevalence: float = 0.3,
    random_state=None,
) -> Bunch:
    """A binary trait simulated on real genotypes (1000 Genomes by default).

    The 2,504 genotypes of :func:`load_1000genomes` (or the user's
    ``genotypes``, with their ``populations``) get a liability

    ``L = G + C + E``,

    thresholded at its ``1 - prevalence`` quantile (the liability-threshold
    model of quantitative genetics):

    - **G**, the genetic part: ``n_causal`` SNPs drawn at random among those
      with minor-allele frequency >= 0.05, each with a normal effect on its
      standardised genotype, scaled so that ``Var(G) = heritability``;
    - **C**, the confounder: a non-genetic term shared within each
      super-population (or each of the user's ``populations``: one normal
      draw per population, as an
      environment or a recruitment bias would be), scaled so that
      ``Var(C) = confounding``. Ancestry tells it apart, and ancestry shows
      in thousands of SNPs, so a model can predict the trait from those SNPs
      instead of the causal ones: the shortcut a causal representation must
      resist;
    - **E**, noise with ``Var(E) = 1 - heritability - confounding``.

    Parameters
    ----------
    n_causal : int, default=100
        Number of causal SNPs.
    genotypes : array-like of shape (n_samples, n_snps) or None, default=None
        The user's genotypes: alternative-allele dosages in [0, 2] (0, 1 or 2
        copies; imputed fractional dosages are accepted), no missing values,
        as :func:`read_vcf_genotypes` returns them. None uses the embedded
        1000 Genomes matrix.
    populations : array-like of shape (n_samples,) or None, default=None
        The population of each of ``genotypes``' samples (at least two
        distinct labels; a population panel's super-population column, for
        instance): the level at which the confounder is shared. Required
        with ``genotypes``, and only with it.
    feature_names : sequence of str or None, default=None
        Names of ``genotypes``' columns (variant ids); None names them
        ``"snp0"``, ``"snp1"``, ... Only with ``genotypes``.
    heritability : float in [0, 1), default=0.5
        Share of the liability's variance due to the causal SNPs.
    confounding : float in [0, 1), default=0.3
        Share due to the ancestry-correlated, non-genetic term;
        ``heritability + confounding`` must be below 1.
    prevalence : float in (0, 1), default=0.3
        Share of cases (``y = 1``).
    random_state : int, RandomState instance or None, default=None
        Seeds the causal SNPs, their effects, the confounder and the noise.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        data : ndarray of shape (n_samples, n_snps)
            Genotypes (0, 1 or 2 copies of the alternative allele): the
            embedded (2504, 22684) uint8 matrix, or ``genotypes`` as given.
        target : ndarray of shape (n_samples,), dtype=int64
            The trait.
        super_pop : ndarray of shape (n_samples,), dtype=object
            Super-population (AFR, AMR, EAS, EUR, SAS), or ``populations``:
            the sensitive feature.
        european : ndarray of shape (n_samples,), dtype=object
            ``"EUR"`` where ``super_pop`` is ``"EUR"``, else ``"non-EUR"``:
            the binary view of it.
        causal_snps : ndarray of shape (n_causal,), dtype=intp
            Column indices of the causal SNPs (sorted).
        effects : ndarray of shape (n_causal,)
            Their effects on the standardised genotypes.
        genetic, confounder, noise : ndarray of shape (n_samples,)
            The three parts of the liability.
        threshold : float
            The liability above which a sample is a case: re-drawing the
            confounder and thresholding ``genetic + confounder + noise`` at
            it simulates the same people in another environment.
        feature_names : list of str
            SNP ids.

    Raises
    ------
    ValueError
        If an argument is invalid; the message names it.

    Examples
    --------
    >>> from skfairal.datasets import make_1000genomes_trait
    >>> trait = make_1000genomes_trait(n_causal=50, random_state=0)
    >>> trait.data.shape, round(float(trait.target.mean()), 2)
    ((2504, 22684), 0.3)
    >>> len(trait.causal_snps), sorted(set(trait.european))
    (50, ['EUR', 'non-EUR'])

    On genotypes of one's own (here a random 300 x 500 matrix in two
    populations):

    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> G = rng.binomial(2, rng.uniform(0.1, 0.9, size=500), size=(300, 500))
    >>> pops = np.repeat(["EUR", "AFR"], 150)
    >>> mine = make_1000genomes_trait(20, genotypes=G, populations=pops, random_state=0)
    >>> mine.data.shape, int(mine.target.sum()), mine.feature_names[:2]
    ((300, 500), 90, ['snp0', 'snp1'])
    """
    X, super_pop, names = _genotypes_and_populations(
        genotypes, populations, feature_names
    )
    if isinstance(n_causal, bool) or not isinstance(n_causal, Integral):
        raise ValueError(f"n_causal must be an integer, got {n_causal!r}.")
    frequency = X.mean(axis=0, dtype=np.float64) / 2
    eligible = np.flatnonzero(np.minimum(frequency, 1 - frequency) >= _MIN_MAF)
    if not 1 <= n_causal <= len(eligible):
        raise ValueError(
            f"n_causal must be between 1 and {len(eligible)} (the SNPs with "
            f"minor-allele frequency >= {_MIN_MAF}), got {n_causal}."
        )
    heritability = _check_fraction(heritability, "heritability", closed_low=True)
    confounding = _check_fraction(confounding, "confounding", closed_low=True)
    prevalence = _check_fraction(prevalence, "prevalence", closed_low=False)
    if heritability + confounding >= 1:
        raise ValueError(
            f"heritability + confounding must be below 1 (the rest is noise), got "
            f"{heritability} + {confounding}."
        )
    rng = check_random_state(random_state)

    causal = np.sort(rng.choice(eligible, n_causal, replace=False))
    dosage = X[:, causal].astype(np.float64)
    p = frequency[causal]
    standardised = (dosage - 2 * p) / np.sqrt(2 * p * (1 - p))
    effects = rng.normal(size=n_causal)
    genetic = _scaled(standardised @ effects, heritability)

    populations, codes = np.unique(super_pop, return_inverse=True)
    offsets = rng.normal(size=len(populations))
    confounder = _scaled(offsets[codes], confounding)
    noise = rng.normal(scale=np.sqrt(1 - heritability - confounding), size=len(codes))

    liability = genetic + confounder + noise
    # Exactly the requested share of cases (ties aside): rank, then cut.
    n_cases = max(1, round(prevalence * len(liability)))
    y = np.zeros(len(liability), dtype=np.int64)
    cases = np.argsort(-liability, kind="stable")[:n_cases]
    y[cases] = 1
    # The effects are reported on the scale that G was built on.
    scale = np.std(standardised @ effects)
    return Bunch(
        data=X,
        target=y,
        super_pop=super_pop,
        european=np.where(super_pop == "EUR", "EUR", "non-EUR").astype(object),
        causal_snps=causal.astype(np.intp),
        effects=effects * np.sqrt(heritability) / scale if scale > 0 else effects,
        genetic=genetic,
        confounder=confounder,
        noise=noise,
        threshold=float(liability[cases].min()),
        feature_names=names,
    )


def _genotypes_and_populations(genotypes, populations, feature_names):
    """(genotype matrix, population labels, column names), validated: the
    embedded 1000 Genomes data when ``genotypes`` is None."""
    if genotypes is None:
        for name, value in (
            ("populations", populations),
            ("feature_names", feature_names),
        ):
            if value is not None:
                raise ValueError(
                    f"{name} describes the user's genotypes; pass genotypes too "
                    "(without them the embedded 1000 Genomes data are used)."
                )
        genomes = load_1000genomes()
        super_pop = np.asarray(genomes.sensitive_features[:, 0], dtype=object)
        return genomes.data, super_pop, list(genomes.feature_names)
    if sp.issparse(genotypes):
        genotypes = genotypes.toarray()
    X = np.asarray(genotypes)
    if X.ndim != 2 or X.dtype.kind not in "biuf" or min(X.shape) < 1:
        raise ValueError(
            "genotypes must be a non-empty numeric matrix of shape (n_samples, "
            f"n_snps); got shape {X.shape} and dtype {X.dtype}."
        )
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        raise ValueError(
            "genotypes has missing (NaN) or infinite values; impute or drop "
            "them first (read_vcf_genotypes states its rule for missing calls)."
        )
    if X.min() < 0 or X.max() > 2:
        raise ValueError(
            "genotypes must be alternative-allele dosages in [0, 2]; got values "
            f"from {X.min()} to {X.max()}."
        )
    if populations is None:
        raise ValueError(
            "populations is required with genotypes: the confounder is shared "
            "within each population."
        )
    super_pop = np.asarray(populations, dtype=object)
    if super_pop.shape != (len(X),):
        raise ValueError(
            f"populations must have one label per sample ({len(X)}); got shape "
            f"{super_pop.shape}."
        )
    if any(is_missing(value) for value in super_pop):
        raise ValueError("populations has missing labels.")
    if len(set(super_pop)) < 2:
        raise ValueError(
            "populations must name at least 2 populations (a confounder shared "
            f"within one population is no confounder); got {sorted(set(super_pop))}."
        )
    if feature_names is None:
        names = [f"snp{j}" for j in range(X.shape[1])]
    else:
        names = [str(name) for name in feature_names]
        if len(names) != X.shape[1]:
            raise ValueError(
                f"feature_names must name the {X.shape[1]} columns of genotypes; "
                f"got {len(names)} names."
            )
    return X, super_pop, names


def _scaled(values: np.ndarray, variance: float) -> np.ndarray:
    """``values`` centred and scaled to the given variance (0 stays 0)."""
    centred = values - values.mean()
    spread = centred.std()
    if variance == 0 or spread == 0:
        return np.zeros_like(centred)
    return centred * np.sqrt(variance) / spread
