"""A binary trait simulated on the 1000 Genomes genotypes, confounded by ancestry."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

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
    heritability: float = 0.5,
    confounding: float = 0.3,
    prevalence: float = 0.3,
    random_state=None,
) -> Bunch:
    """A binary trait simulated on the real 1000 Genomes genotypes.

    The 2,504 genotypes of :func:`load_1000genomes` get a liability

    ``L = G + C + E``,

    thresholded at its ``1 - prevalence`` quantile (the liability-threshold
    model of quantitative genetics):

    - **G**, the genetic part: ``n_causal`` SNPs drawn at random among those
      with minor-allele frequency >= 0.05, each with a normal effect on its
      standardised genotype, scaled so that ``Var(G) = heritability``;
    - **C**, the confounder: a non-genetic term shared within each
      super-population (one normal draw per super-population, as an
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
        data : ndarray of shape (2504, 22684), dtype=uint8
            Genotypes (0, 1 or 2 copies of the alternative allele).
        target : ndarray of shape (2504,), dtype=int64
            The trait.
        super_pop : ndarray of shape (2504,), dtype=object
            Super-population (AFR, AMR, EAS, EUR, SAS): the sensitive feature.
        european : ndarray of shape (2504,), dtype=object
            ``"EUR"`` or ``"non-EUR"``: the binary view of it.
        causal_snps : ndarray of shape (n_causal,), dtype=intp
            Column indices of the causal SNPs (sorted).
        effects : ndarray of shape (n_causal,)
            Their effects on the standardised genotypes.
        genetic, confounder, noise : ndarray of shape (2504,)
            The three parts of the liability.
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
    """
    genomes = load_1000genomes()
    X = genomes.data
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

    super_pop = np.asarray(genomes.sensitive_features[:, 0], dtype=object)
    populations, codes = np.unique(super_pop, return_inverse=True)
    offsets = rng.normal(size=len(populations))
    confounder = _scaled(offsets[codes], confounding)
    noise = rng.normal(scale=np.sqrt(1 - heritability - confounding), size=len(codes))

    liability = genetic + confounder + noise
    # Exactly the requested share of cases (ties aside): rank, then cut.
    n_cases = round(prevalence * len(liability))
    y = np.zeros(len(liability), dtype=np.int64)
    y[np.argsort(-liability, kind="stable")[:n_cases]] = 1
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
        feature_names=list(genomes.feature_names),
    )


def _scaled(values: np.ndarray, variance: float) -> np.ndarray:
    """``values`` centred and scaled to the given variance (0 stays 0)."""
    centred = values - values.mean()
    spread = centred.std()
    if variance == 0 or spread == 0:
        return np.zeros_like(centred)
    return centred * np.sqrt(variance) / spread
