"""The documentation site (mkdocs.yml, docs/): nav, API coverage of every public name, links.

The fast tests read files only (no mkdocs needed). ``test_mkdocs_build_strict`` builds the site and is
``slow`` (about 10 s); CI builds it anyway with ``make docs``.
"""

import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nlpipe

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"
API = DOCS / "api"
# Public modules that have no API page, and why.
NOT_IN_API = {"cli": "the command line, documented in getting-started.md"}
DEVELOPER_API = {"base", "finetune", "neural"}

pytestmark = pytest.mark.skipif(not MKDOCS_YML.exists(), reason="no mkdocs.yml (installed package)")


def _nav_files():
    text = MKDOCS_YML.read_text(encoding="utf-8")
    nav = text[text.index("\nnav:"):]
    return re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?([\w./-]+\.md)\s*$", nav, re.M)


def _api_directives():
    """{identifier: page} for every ``::: identifier`` in docs/api/."""
    out = {}
    for page in API.glob("*.md"):
        for ident in re.findall(r"^:::\s+([\w.]+)", page.read_text(encoding="utf-8"), re.M):
            out[ident] = page.name
    return out


def _public_modules():
    return sorted(m.name for m in pkgutil.iter_modules(nlpipe.__path__) if not m.name.startswith("_"))


def test_nav_files_exist_and_every_page_is_in_the_nav():
    nav = _nav_files()
    assert "index.md" in nav and "api/nlpipe.md" in nav, nav
    missing = [f for f in nav if not (DOCS / f).is_file()]
    assert not missing, f"mkdocs.yml nav names files that do not exist: {missing}"
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert not pages - set(nav), f"pages missing from the nav: {sorted(pages - set(nav))}"
    assert re.search(r"^\s*- Benchmarks:", MKDOCS_YML.read_text(encoding="utf-8"), re.M), \
        "the Benchmarks section (filled by docs/hooks/repo_files.py) is gone from the nav"


def test_every_public_module_has_an_api_page():
    directives = _api_directives()
    for name in _public_modules():
        if name in NOT_IN_API:
            continue
        assert f"nlpipe.{name}" in directives, f"nlpipe.{name} has no `::: nlpipe.{name}` page in docs/api/"
        page = (API / directives[f"nlpipe.{name}"]).read_text(encoding="utf-8")
        assert "members:" not in page, f"docs/api/{directives[f'nlpipe.{name}']} restricts members: names may be hidden"
        assert ("Developer API" in page) == (name in DEVELOPER_API), name
        assert f"nlpipe.{name}: api/" in MKDOCS_YML.read_text(encoding="utf-8"), f"nlpipe.{name} is not in the nav"


@pytest.mark.parametrize("module", sorted(set(_public_modules()) - set(NOT_IN_API)))
def test_every_exported_name_is_documented(module):
    """Each ``__all__`` name has a docstring or is a constant (shown with its value: show_if_no_docstring)."""
    try:
        mod = importlib.import_module(f"nlpipe.{module}")
    except ImportError as exc:  # nlpipe.neural without torch: an extra that is not installed
        pytest.skip(f"nlpipe.{module} needs an extra: {exc}")
    assert getattr(mod, "__all__", None), f"nlpipe.{module} has no __all__: the API page would show nothing"
    for name in mod.__all__:
        obj = getattr(mod, name)
        if callable(obj) and (isinstance(obj, type) or hasattr(obj, "__code__")):
            assert obj.__doc__ and obj.__doc__.strip(), f"nlpipe.{module}.{name} has no docstring"


def test_top_level_names_are_in_the_api_reference():
    page = (API / "nlpipe.md").read_text(encoding="utf-8")
    directives = _api_directives()
    for name in nlpipe.__all__:
        if name == "__version__":
            assert "__version__" in page
        elif name in nlpipe._LAZY:
            module = nlpipe._LAZY[name]
            if module.startswith("nlpipe._"):  # save / load: documented on the top-level page
                assert directives.get(f"nlpipe.{name}") == "nlpipe.md", name
            else:  # listed with a link to the module page that documents it
                assert f"[`{name}`][{module}.{name}]" in page, name
                assert module in directives, module
        else:  # a submodule
            assert f"nlpipe.{name}" in directives, name


def _relative_links(text):
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.M | re.S)  # not inside code blocks
    return re.findall(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)", text)


def test_relative_links_in_docs_point_to_files():
    """Links are written as on GitHub (relative to the file); the site hook maps them, so they must exist."""
    broken = []
    for page in sorted(DOCS.rglob("*.md")):
        for link in _relative_links(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", link):
                continue
            if not (page.parent / link).exists():
                broken.append(f"{page.relative_to(ROOT)}: {link}")
    # benchmarks/results/*.md written by a benchmark run that has not finished are reported, not hidden
    assert not broken, broken


def test_docs_extra_lists_the_build_tools():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^docs = \[(.*?)\]", text, re.M | re.S).group(1)
    for tool in ("mkdocs", "mkdocs-material", "mkdocstrings", "mkdocstrings-python", "griffe"):
        assert re.search(rf'"{tool}>=', extra), tool
    assert "docs:" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make docs" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    """The real build, warnings as errors; then the rendered API sections are checked in the HTML."""
    pytest.importorskip("mkdocstrings_handlers.python")
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable)) or shutil.which("mkdocs")
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (pip install '.[docs]')")
    site = tmp_path / "site"
    run = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(site)], check=False, cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    text = (site / "api" / "text.html").read_text(encoding="utf-8")
    for section in ("Parameters:", "Attributes:", "Examples:", "<summary>See Also</summary>"):
        assert section in text, section
    assert 'id="nlpipe.text.TfidfSVMClassifier"' in text
    assert "%TRAINING%" not in (site / "api" / "generation.html").read_text(encoding="utf-8")
    assert 'id="nlpipe.save"' in (site / "api" / "nlpipe.html").read_text(encoding="utf-8")
    assert (site / "benchmarks" / "results" / "index.html").is_file()
    assert (site / "benchmarks" / "results" / "baselines.html").is_file()
