"""Architecture rules: the layers of the package and what may import what.

``[tool.importlinter]`` in pyproject.toml holds the layer contracts; import-linter checks them
(``lint-imports --no-cache``). Its import graph counts every import statement, those inside
functions too, so the rules that hinge on *where* an import sits are checked here, on the syntax
trees of the source files:

- no module imports another package's private names or private modules;
- only ``nlpipe.neural`` imports torch, transformers, safetensors or tokenizers at module level
  (inside a function or method they are fine: that is how ``import nlpipe`` stays torch-free);
- for the same reason, only ``nlpipe.neural`` itself imports ``nlpipe.neural`` at module level.
"""

import ast
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nlpipe"
HEAVY = ("torch", "transformers", "safetensors", "tokenizers")
NEURAL = "nlpipe.neural"


def _is_private(name):
    """``_x`` is private; ``__x__`` (``__version__``, ``__init__``) is not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@functools.cache
def _sources():
    """``(path relative to the repository, syntax tree)`` of every module of the package."""
    paths = sorted(PACKAGE.rglob("*.py"))
    assert paths, f"no Python files under {PACKAGE}"
    return [(path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in paths]


def _package_of(relpath):
    """The package a file belongs to: its folder (``nlpipe/_persist.py`` belongs to ``nlpipe``)."""
    return ".".join(Path(relpath).parent.parts)


def _resolve(relpath, node):
    """Absolute name of the module an ``ImportFrom`` node names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = _package_of(relpath).split(".")
    if node.level - 1 >= len(base):
        return ""  # beyond the top-level package: not ours to judge
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_package(parts):
    """Whether ``nlpipe.x.y`` (as parts) is a package (a folder) rather than a module or a name."""
    return ROOT.joinpath(*parts).is_dir()


def _imported_names(relpath, node):
    """Dotted names an import statement reaches: ``from a.b import c`` reaches ``a.b.c``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = _resolve(relpath, node)
    if not module:
        return []
    return [f"{module}.{alias.name}" if alias.name != "*" else module for alias in node.names]


def _private_violation(importer_package, dotted):
    """Why importing ``dotted`` from ``importer_package`` breaks privacy, or None if it does not.

    Each private component of ``dotted`` (a private module, or a private name at the end) belongs
    to the package that encloses it: for ``nlpipe.text._spacy._import_spacy`` that is
    ``nlpipe.text``; for ``nlpipe.metrics._TOKEN`` it is ``nlpipe`` (metrics.py is a module of the
    package ``nlpipe``), for ``nlpipe.base._x`` with ``nlpipe/base/`` a package, ``nlpipe.base``.
    Only that package's own files, or the files inside the private module itself, may import it.
    """
    parts = dotted.split(".")
    if parts[0] != "nlpipe":
        return None
    if dotted == "nlpipe._version.__version__":
        return None  # the version string may be read from anywhere
    for i in range(1, len(parts)):
        if not _is_private(parts[i]):
            continue
        prefix = parts[:i]
        owner = ".".join(prefix if _is_package(prefix) else prefix[:-1])
        inside = ".".join(parts[: i + 1])
        if importer_package == owner or importer_package == inside or importer_package.startswith(inside + "."):
            continue
        is_module = i < len(parts) - 1 or _is_package(parts[: i + 1]) or ROOT.joinpath(*prefix, parts[i] + ".py").exists()
        kind = "module" if is_module else "name"
        return f"private {kind} {parts[i]} of package {owner}"
    return None


def _module_level_imports(tree):
    """Import statements (and ``importlib.import_module``/``__import__`` calls) outside function bodies."""
    found = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue  # runs when called, not when the module is imported
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif (
                isinstance(child, ast.Call)
                and child.args
                and isinstance(child.args[0], ast.Constant)
                and isinstance(child.args[0].value, str)
                and ast.unparse(child.func) in ("importlib.import_module", "import_module", "__import__")
            ):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _describe(node):
    return ast.unparse(node).replace("\n", " ")


def test_import_linter_contracts():
    """The [tool.importlinter] contracts of pyproject.toml hold (layers; nothing imports cli or testing)."""
    pytest.importorskip("importlinter")
    cmd = [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--no-cache",  # no .import_linter_cache folder in the repository
        "--no-logo",
    ]  # run in the repository root, where lint-imports reads pyproject.toml and imports nlpipe from
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode:
        pytest.fail(f"lint-imports failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False)


def test_no_private_imports_across_packages():
    """No module imports a private name or private module that belongs to another package."""
    problems = []
    for relpath, tree in _sources():
        importer_package = _package_of(relpath)
        for node in ast.walk(tree):  # every import, inside functions too
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            whys = [_private_violation(importer_package, dotted) for dotted in _imported_names(relpath, node)]
            whys = list(dict.fromkeys(why for why in whys if why))  # once each, in order
            if whys:
                problems.append(f"{relpath}:{node.lineno}: {_describe(node)}  ({'; '.join(whys)})")
    assert not problems, "imports of another package's private names or modules:\n" + "\n".join(problems)


def test_heavy_libraries_imported_at_module_level_only_by_neural():
    """torch/transformers/safetensors/tokenizers at module level only in nlpipe/neural/."""
    problems = []
    for relpath, tree in _sources():
        if relpath.startswith("nlpipe/neural/"):
            continue
        for node in _module_level_imports(tree):
            if isinstance(node, ast.Call):
                names = [node.args[0].value]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                names = [node.module or ""] if not node.level else []
            if any(name.split(".")[0] in HEAVY for name in names):
                problems.append(f"{relpath}:{node.lineno}: {_describe(node)}")
    assert not problems, (
        "module-level imports of torch/transformers/safetensors/tokenizers outside nlpipe/neural/ "
        "(import them inside the function that needs them):\n" + "\n".join(problems)
    )


def test_nlpipe_neural_imported_at_module_level_only_by_itself():
    """Importing nlpipe.neural imports torch, so outside nlpipe/neural/ it is imported inside functions only."""
    problems = []
    for relpath, tree in _sources():
        if relpath.startswith("nlpipe/neural/"):
            continue
        for node in _module_level_imports(tree):
            if isinstance(node, ast.Call):
                names = [node.args[0].value]
            else:
                names = _imported_names(relpath, node)
            if any(name == NEURAL or name.startswith(NEURAL + ".") for name in names):
                problems.append(f"{relpath}:{node.lineno}: {_describe(node)}")
    assert not problems, (
        "module-level imports of nlpipe.neural (which imports torch) outside nlpipe/neural/ "
        "(import it inside the function that needs it):\n" + "\n".join(problems)
    )
