"""Public docstrings are numpydoc and agree with the signatures."""

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

import nlpipe
from nlpipe import datasets

pytest.importorskip("numpydoc")
from numpydoc.validate import validate  # noqa: E402

# PR01: a parameter is undocumented; PR02: a documented parameter does not exist;
# PR03: documented in another order; GL08: no docstring; SS01: no summary.
CHECKED = {"PR01", "PR02", "PR03", "GL08", "SS01"}

# Every name in these modules' __all__ is public: it needs a numpydoc docstring and a runnable example.
PUBLIC_MODULES = [
    "nlpipe",
    "nlpipe.base",
    "nlpipe.classification",
    "nlpipe.compression",
    "nlpipe.datasets",
    "nlpipe.exceptions",
    "nlpipe.finetune",
    "nlpipe.generation",
    "nlpipe.inference",
    "nlpipe.metrics",
    "nlpipe.neural",
    "nlpipe.question_answering",
    "nlpipe.serve",
    "nlpipe.sentiment",
    "nlpipe.summarization",
    "nlpipe.testing",
    "nlpipe.text",
]
# Modules that import an optional extra at module level.
_NEEDS = {"nlpipe.neural": "torch", "nlpipe.serve": "fastapi"}


def _public_modules():
    """The modules of PUBLIC_MODULES that import here (nlpipe.neural needs torch)."""
    for name in PUBLIC_MODULES:
        try:
            yield importlib.import_module(name)
        except ImportError:
            if name not in _NEEDS:
                raise


def _documented_by(klass, name, method):
    """The method whose docstring ``help`` shows for ``method``: itself, or the parent's it inherits.

    An override without a docstring (``Options.is_satisfied_by``) shows its parent's, as
    ``inspect.getdoc`` does; it is validated there, and must take the same parameters.
    """
    if method.__doc__ is not None:
        return method
    for parent in klass.__mro__[1:]:
        inherited = parent.__dict__.get(name)
        if inspect.isfunction(inherited) and inherited.__doc__ is not None:
            assert inspect.signature(inherited) == inspect.signature(method), (
                f"{method.__qualname__} inherits the docstring of {inherited.__qualname__} with other parameters")
            return inherited
    return method


def _public_objects():
    from nlpipe import summarization

    names = [(module, n) for module in _public_modules() for n in module.__all__] + [
        (summarization, n) for n in ("split_sentences", "oracle_labels")]
    for module, name in names:
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            yield f"{obj.__module__}.{obj.__qualname__}"
        if inspect.isclass(obj):
            yield f"{obj.__module__}.{obj.__qualname__}"
            for meth, member in inspect.getmembers(obj):
                if not meth.startswith("_") and inspect.isfunction(member) and member.__module__.startswith("nlpipe"):
                    if member.__qualname__.split(".")[0] in [c.__name__ for c in obj.__mro__]:
                        member = _documented_by(obj, meth, member)
                        yield f"{member.__module__}.{member.__qualname__}"
    for name in datasets.__all__:
        yield f"nlpipe.datasets.{name}"
    for name in ("pearson_r", "spearman_r", "rouge", "squad", "bleu", "chrf"):
        yield f"nlpipe.metrics.{name}"
    yield "nlpipe.question_answering._inputs.check_qa_inputs"
    yield "nlpipe.testing.make_question_answering"
    yield "nlpipe.cli.main"
    yield "nlpipe.testing.check_estimator_contract"


@pytest.mark.parametrize("name", sorted(set(_public_objects())))
def test_numpydoc(name):
    errors = [(code, msg) for code, msg in validate(name)["errors"] if code in CHECKED]
    assert not errors, errors


@pytest.mark.parametrize("cls", [getattr(nlpipe, n) for n in nlpipe.__all__ if inspect.isclass(getattr(nlpipe, n))])
def test_class_docstrings_have_required_sections(cls):
    doc = cls.__doc__
    for section in ("Parameters", "Attributes", "See Also", "Examples"):
        assert f"\n    {section}\n" in doc, f"{cls.__name__} docstring lacks {section}"
    assert ">>>" in doc



def _examples(doc):
    """The body of the numpydoc ``Examples`` section of ``doc`` ('' when it has none)."""
    match = re.search(r"^Examples\n-{3,}\n(.*?)(?=^[^\s>.][^\n]*\n-{3,}\n|\Z)", inspect.cleandoc(doc or ""),
                      re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def _example_lines(doc):
    return [line.strip() for line in _examples(doc).splitlines() if line.strip().startswith((">>> ", "... "))]


def _missing_examples(module):
    """Public names of ``module`` without an example.

    Functions, classes and modules need an Examples section with a ``>>>`` line in their
    own docstring. Other objects (constants, scorer instances) cannot carry a docstring of
    their own: the module's Examples section must use them on a ``>>>``/``...`` line.
    """
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj):
            if not any(line.startswith(">>> ") for line in _example_lines(obj.__doc__)):
                missing.append(name)
        elif not any(re.search(rf"\b{re.escape(name)}\b", line) for line in _example_lines(module.__doc__)):
            missing.append(name)
    return missing


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_have_examples(module_name):
    if module_name in _NEEDS:
        pytest.importorskip(_NEEDS[module_name])
    module = importlib.import_module(module_name)
    missing = _missing_examples(module)
    assert not missing, f"public names of {module_name} without an Examples section (with >>>): {missing}"


def test_examples_check_catches_a_name_without_example():
    import types

    module = types.ModuleType("fake", "Fake.\n\nExamples\n--------\n>>> LIMIT\n3\n")

    def documented():
        """Documented.

        Examples
        --------
        >>> documented()
        """

    def undocumented():
        """Has no example; ``>>>`` in prose does not count.

        Notes
        -----
        >>> only a note
        """

    module.documented, module.undocumented, module.LIMIT, module.OTHER = documented, undocumented, 3, 4
    module.__all__ = ["documented", "undocumented", "LIMIT", "OTHER"]
    assert _missing_examples(module) == ["undocumented", "OTHER"]


def test_doctests_of_the_package_run_in_the_suite():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is Python 3.11+")
    import tomllib

    config = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in config["addopts"].split()
    assert "nlpipe" in config["testpaths"]
