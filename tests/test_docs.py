"""The documentation: complete API reference, tested examples, offline build.

The fast tests check that ``doc/api.rst`` lists every public object, that
every public docstring has an ``Examples`` section (the suite runs them as
doctests), that the ``>>>`` examples of the documentation pages pass, and that
the offline intersphinx inventories are what their generator writes. The slow
test builds the site exactly as ``python3 dev.py docs`` does.
"""

import doctest
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skfairal

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
# Folders of doc/ that the build writes or that hold no pages.
GENERATED = {"_build", "generated", "auto_examples", "gen_modules", "_templates"}


def _public_subpackages() -> list[str]:
    return sorted(
        name
        for _, name, is_package in pkgutil.iter_modules(skfairal.__path__)
        if is_package and not name.startswith("_")
    )


def _public_names() -> list[str]:
    """Every public object by its public dotted name (``skfairal.query.X``)."""
    names = [f"skfairal.{n}" for n in skfairal.__all__ if n in skfairal._OBJECTS]
    for sub in _public_subpackages():
        module = importlib.import_module(f"skfairal.{sub}")
        for name in module.__all__:
            # The top-level re-exports (FairActiveClassifier) are listed once,
            # under their top-level name.
            if skfairal._OBJECTS.get(name) != sub:
                names.append(f"skfairal.{sub}.{name}")
    return names


def _api_entries() -> list[str]:
    """The dotted names api.rst's autosummary tables list."""
    entries, module = [], None
    in_table = False
    for line in (DOC / "api.rst").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module = stripped.split("::", 1)[1].strip()
        in_table = stripped == ".. autosummary::" or (
            in_table and (not stripped or line.startswith("   "))
        )
        if in_table and line.startswith("   ") and not stripped.startswith(":"):
            entries.append(f"{module}.{stripped.lstrip('~')}")
    return entries


def _resolve(name: str):
    obj = importlib.import_module("skfairal")
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_every_subpackage_has_an_all():
    for sub in _public_subpackages():
        module = importlib.import_module(f"skfairal.{sub}")
        assert module.__all__, f"skfairal.{sub} has an empty __all__"


def test_api_reference_lists_every_public_object():
    entries = _api_entries()
    missing = sorted(set(_public_names()) - set(entries))
    assert not missing, f"doc/api.rst does not list {missing}"
    assert len(entries) == len(set(entries)), "doc/api.rst lists a name twice"


def test_api_reference_lists_only_public_objects():
    stale = sorted(set(_api_entries()) - set(_public_names()))
    assert not stale, f"doc/api.rst lists {stale}, not in any public __all__"


@pytest.mark.parametrize("name", _public_names())
def test_public_docstring_has_an_examples_section(name):
    doc = inspect.getdoc(_resolve(name)) or ""
    assert re.search(r"^Examples\n--------\n", doc, re.M), (
        f"the docstring of {name} has no Examples section"
    )
    assert ">>>" in doc.split("Examples\n--------\n", 1)[1], (
        f"the Examples section of {name} holds no doctest"
    )


def _pages_with_examples() -> list[Path]:
    pages = []
    for path in sorted(DOC.rglob("*.rst")):
        if GENERATED.isdisjoint(path.relative_to(DOC).parts) and ">>>" in (
            path.read_text()
        ):
            pages.append(path)
    return pages


@pytest.mark.parametrize(
    "page", _pages_with_examples(), ids=lambda p: str(p.relative_to(DOC))
)
def test_doc_page_examples(page):
    text = page.read_text()
    test = doctest.DocTestParser().get_doctest(
        text, globs={}, name=page.name, filename=str(page), lineno=0
    )
    report = []
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def _inventory_generator():
    path = DOC / "_inventories" / "make_inventories.py"
    spec = importlib.util.spec_from_file_location("make_inventories", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_inventories_are_what_the_generator_writes():
    generator = _inventory_generator()
    for name, spec in generator.PROJECTS.items():
        expected = generator.inventory_bytes(
            spec["project"], spec["version"], spec["objects"]
        )
        path = DOC / "_inventories" / f"{name}.inv"
        assert path.read_bytes() == expected, (
            f"{path.name} is stale: run python doc/_inventories/make_inventories.py"
        )


def test_inventories_load_in_sphinx():
    from sphinx.util.inventory import InventoryFile

    generator = _inventory_generator()
    for name, spec in generator.PROJECTS.items():
        data = (DOC / "_inventories" / f"{name}.inv").read_bytes()
        inventory = InventoryFile.loads(data, uri="https://example.org")
        loaded = {(role, obj) for role, objs in inventory.data.items() for obj in objs}
        assert loaded == {(role, obj) for obj, role, *_ in spec["objects"]}


def test_intersphinx_is_offline():
    # Each project's only inventory location is a local file.
    spec = importlib.util.spec_from_file_location("conf", DOC / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    for name, (_, locations) in conf.intersphinx_mapping.items():
        assert len(locations) == 1
        assert Path(locations[0]).is_file(), f"no local inventory for {name}"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    # The build of `python3 dev.py docs`, into a temporary folder.
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    args = [*dev.SPHINX_ARGS[:-1], str(tmp_path / "html")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", *args, "-d", str(tmp_path / "doctrees")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "WARNING" not in output, output[-20000:]
    assert "ERROR" not in output, output[-20000:]
    html = tmp_path / "html"
    for page in (
        "index.html",
        "getting_started.html",
        "choosing_a_strategy.html",
        "api.html",
        "datasets.html",
        "changelog.html",
        "auto_examples/index.html",
        "generated/skfairal.FairActiveClassifier.html",
    ):
        assert (html / page).is_file(), page
    # The inventories hold only objects the pages link to.
    links = set()
    for page in html.rglob("*.html"):
        links |= set(re.findall(r'href="(https://[^"]+)"', page.read_text()))
    generator = _inventory_generator()
    spec = importlib.util.spec_from_file_location("conf", DOC / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    for project, inventory in generator.PROJECTS.items():
        base = conf.intersphinx_mapping[project][0]
        for name, _, uri, *_ in inventory["objects"]:
            url = f"{base}/{uri.replace('$', name)}"
            assert url in links, f"{project}.inv lists {name}, linked from no page"
