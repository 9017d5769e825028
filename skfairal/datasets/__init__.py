"""Real datasets and synthetic biased problems for fairness experiments.

Adult and the 1000 Genomes genotypes ship with the package (compressed, checked
against their SHA-256 on every load), so they work offline. COMPAS has no
license and is not shipped: :func:`load_compas` reads a copy the user
downloaded from ProPublica. :func:`read_vcf_genotypes` reads the
genotypes of any VCF file (with the optional cyvcf2).
"""

from ._adult import load_adult
from ._base import ChecksumMismatchError, DatasetFileError, DatasetNotFoundError
from ._compas import load_compas
from ._genomes import load_1000genomes
from ._genomes_trait import make_1000genomes_trait
from ._synthetic import make_biased_classification
from ._vcf import read_vcf_genotypes

__all__ = [
    "ChecksumMismatchError",
    "DatasetFileError",
    "DatasetNotFoundError",
    "load_1000genomes",
    "load_adult",
    "load_compas",
    "make_1000genomes_trait",
    "make_biased_classification",
    "read_vcf_genotypes",
]
