"""Public docstrings are numpydoc and agree with the signatures."""

import inspect

import pytest

import nlpipe
from nlpipe import datasets

pytest.importorskip("numpydoc")
from numpydoc.validate import validate  # noqa: E402

# PR01: a parameter is undocumented; PR02: a documented parameter does not exist;
# PR03: documented in another order; GL08: no docstring; SS01: no summary.
CHECKED = {"PR01", "PR02", "PR03", "GL08", "SS01"}


def _public_objects():
    from nlpipe import compression, summarization

    names = [(nlpipe, n) for n in nlpipe.__all__] + [(compression, n) for n in compression.__all__] + [
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
                        yield f"{member.__module__}.{member.__qualname__}"
    for name in datasets.__all__:
        yield f"nlpipe.datasets.{name}"
    for name in ("pearson_r", "spearman_r", "rouge", "squad", "bleu", "chrf"):
        yield f"nlpipe.metrics.{name}"
    yield "nlpipe.question_answering._qa.check_qa_inputs"
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
