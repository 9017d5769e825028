"""Write the offline intersphinx inventories of the skfairal documentation.

The build machines have no network, so ``doc/conf.py`` points intersphinx at
the ``<project>.inv`` files beside this script instead of downloading each
project's ``objects.inv``. They are stand-ins: they list only the objects the
skfairal documentation references, each at the address (page and anchor) it
has on that project's published site, so the links in the built pages are
the ones the real inventories would give.

Run it after adding a reference to an object of another project::

    python doc/_inventories/make_inventories.py

The files are written in Sphinx's inventory format, version 2 (four header
lines, then zlib-compressed lines ``name domain:role priority uri dispname``,
``$`` in the URI standing for the name), byte for byte the same on every run.
"""

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Each project's page layout, from its documentation sources:
# - scikit-learn: one autosummary page per object under modules/generated/.
# - numpy: one autosummary page per object under reference/generated/.
# - torch: one autosummary page per object under generated/.
# - skorch: one automodule page per module (net.html, classifier.html).
# - POT: one autosummary page per module under gen_modules/.
# - Python: the library reference pages.


def _sklearn(name, role="class"):
    return name, f"py:{role}", f"modules/generated/{name}.html#$"


def _numpy(name, role="class"):
    return name, f"py:{role}", f"reference/generated/{name}.html#$"


def _torch(name, role="class"):
    return name, f"py:{role}", f"generated/{name}.html#$"


def _python(name, page, role="class"):
    return name, f"py:{role}", f"library/{page}.html#$"


PROJECTS = {
    "python": {
        "project": "Python",
        "version": "3.11",
        "objects": [
            _python("dict", "stdtypes"),
            _python("float", "functions"),
            _python("int", "functions"),
            _python("list", "stdtypes"),
            _python("str", "stdtypes"),
            _python("tuple", "stdtypes"),
            _python("OSError", "exceptions", "exception"),
        ],
    },
    "numpy": {
        "project": "NumPy",
        "version": "2.4",
        "objects": [
            _numpy("numpy.ndarray"),
            ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
        ],
    },
    "sklearn": {
        "project": "scikit-learn",
        "version": "1.9",
        "objects": [
            _sklearn("sklearn.base.clone", "function"),
            _sklearn("sklearn.compose.ColumnTransformer"),
            _sklearn("sklearn.config_context", "function"),
            _sklearn("sklearn.linear_model.LogisticRegression"),
            _sklearn("sklearn.model_selection.GridSearchCV"),
            _sklearn("sklearn.model_selection.cross_validate", "function"),
            _sklearn("sklearn.pipeline.Pipeline"),
            _sklearn("sklearn.pipeline.make_pipeline", "function"),
            _sklearn("sklearn.preprocessing.OneHotEncoder"),
            _sklearn("sklearn.preprocessing.StandardScaler"),
            _sklearn("sklearn.set_config", "function"),
            _sklearn("sklearn.utils.Bunch"),
            _sklearn("sklearn.utils._safe_indexing", "function"),
            _sklearn("sklearn.utils.multiclass.type_of_target", "function"),
            ("meta-estimator", "std:term", "glossary.html#term-meta-estimator"),
            (
                "metadata_routing",
                "std:label",
                "metadata_routing.html#metadata-routing",
                "Metadata Routing",
            ),
        ],
    },
    "torch": {
        "project": "PyTorch",
        "version": "2.13",
        "objects": [
            _torch("torch.nn.Module"),
            _torch("torch.nn.CrossEntropyLoss"),
            _torch("torch.optim.Adam"),
        ],
    },
    "skorch": {
        "project": "skorch",
        "version": "1.4",
        "objects": [
            ("skorch.net.NeuralNet", "py:class", "net.html#$"),
            ("skorch.classifier.NeuralNetClassifier", "py:class", "classifier.html#$"),
        ],
    },
    "ot": {
        "project": "POT Python Optimal Transport",
        "version": "0.9",
        "objects": [
            ("ot.wasserstein_1d", "py:function", "gen_modules/ot.html#$"),
        ],
    },
}


def inventory_bytes(project: str, version: str, objects) -> bytes:
    """One inventory, version 2, in the layout Sphinx writes."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    lines = []
    for entry in sorted(objects):
        name, role, uri = entry[:3]
        display = entry[3] if len(entry) > 3 else "-"
        # Sphinx gives labels and glossary terms priority -1, Python objects 1.
        priority = -1 if role.startswith("std:") else 1
        lines.append(f"{name} {role} {priority} {uri} {display}\n")
    return header + zlib.compress("".join(lines).encode(), 9)


def main() -> None:
    for name, spec in PROJECTS.items():
        path = HERE / f"{name}.inv"
        path.write_bytes(
            inventory_bytes(spec["project"], spec["version"], spec["objects"])
        )
        print(f"{path.name}: {len(spec['objects'])} objects")


if __name__ == "__main__":
    main()
