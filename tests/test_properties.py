"""Property-based tests (hypothesis) over every public estimator and the CLI.

Random mixes of valid text (empty, white space, combining marks, right-to-left scripts, emoji, NUL,
CJK) and invalid items (None, NaN, bytes, numbers, nested lists, lone surrogates) in every container:
valid input gives one output per text; invalid input raises ValueError/TypeError naming the first bad
position; nothing else escapes and every case finishes within the deadline.
"""

import inspect
import math
import signal
import time

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe.testing import make_question_answering, make_summarization, make_text_classification  # noqa: E402

ODD_TEXTS = [
    "", " ", "\t\n  ", "e\u0301\u0302 cafe\u0301", "שלום עולם", "مرحبا بالعالم", "😀👍🏽 fine 🎉", "a\x00b",
    "漢字とカタカナのテスト", "\u200b\u200d", "ﬁ ligature", "x" * 300, "word " * 200,
]
VALID = st.one_of(st.text(max_size=40), st.sampled_from(ODD_TEXTS))
INVALID = st.one_of(st.none(), st.just(float("nan")), st.binary(max_size=4), st.integers(), st.floats(allow_nan=False),
                    st.lists(st.text(max_size=3), max_size=2), st.just("bad\ud800surrogate"), st.just(pd.NA))


def _estimators():
    from test_common import _instance  # the contract suite's fast instances (tiny backbones)

    found = []
    for name in nlpipe.__all__:
        obj = getattr(nlpipe, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append(pytest.param(obj, id=name))
    return found, _instance


ESTIMATORS, _instance = _estimators()
_FITTED = {}


# Retrievers, retrieve-then-read and the chunker are fitted on documents alone, and the chunker gives one or
# more passages per document (rows of a table whose source_id names the document).
_OF_DOCUMENTS = ("retrieval", "retrieval-qa", "chunking")


def _rows_per_item(est, out, n):
    if getattr(est, "_nlpipe_task", None) == "chunking":
        assert sorted(set(out["source_id"])) == list(range(n)), "a document gave no passage"
    else:
        assert len(out) == n


def _fitted(cls):
    """One fitted instance per class (fitting is the slow part; predict is what the properties probe)."""
    if cls not in _FITTED:
        est = _instance(cls)
        task = getattr(cls, "_nlpipe_task", None)
        if task == "question-answering":
            X, y = make_question_answering(8)
        elif task in _OF_DOCUMENTS:  # fitted on documents alone
            X, y = make_summarization(6)[0], None
        elif task:
            X, y = make_summarization(6)
        else:
            X, y = make_text_classification(2)
            if not (hasattr(est, "predict_proba") or hasattr(est, "decision_function") or
                    est.__sklearn_tags__().target_tags.required):
                y = None
            elif "Regressor" in cls.__name__:
                y = np.unique(y, return_inverse=True)[1].astype(float)
        needs_y = est.__sklearn_tags__().target_tags.required or y is not None
        _FITTED[cls] = est.fit(X, y) if needs_y else est.fit(X)
    return _FITTED[cls]


def _output(est, X):
    return est.predict(X) if hasattr(est, "predict") else est.transform(X)


class _Deadline(Exception):
    pass


def _within(seconds, fn):
    """Run fn, failing (not hanging) past ``seconds``: SIGALRM, as pytest-timeout does on Linux."""
    def alarm(*_):
        raise _Deadline(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return fn()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _first_bad(items):
    for i, x in enumerate(items):
        if not isinstance(x, str) or (isinstance(x, float) and math.isnan(x)):
            return i
        try:
            x.encode("utf-8")
        except UnicodeEncodeError:
            return i
    return None


CONTAINERS = ["list", "tuple", "ndarray", "series", "frame", "wide frame"]


def _wrap(items, container):
    if container == "tuple":
        return tuple(items)
    if container == "ndarray":
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
        return arr
    if container == "series":
        return pd.Series(items, dtype=object)
    if container == "frame":
        return pd.DataFrame({"text": pd.Series(items, dtype=object)})
    if container == "wide frame":  # which column holds the text is ambiguous: always an error
        return pd.DataFrame({"text": pd.Series(items, dtype=object), "other": 1})
    return list(items)


def _qa_rows(items):
    return [("What is the key?", x) for x in items]


@pytest.mark.parametrize("cls", ESTIMATORS)
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(items=st.lists(st.one_of(VALID, VALID, VALID, INVALID), min_size=1, max_size=6),
       container=st.sampled_from(CONTAINERS))
def test_predict_on_random_input(cls, items, container):
    est = _fitted(cls)
    qa = getattr(cls, "_nlpipe_task", None) == "question-answering"
    X = _qa_rows(items) if qa else _wrap(items, container)
    bad = _first_bad(items)
    # a document transformer reads the text column of a wide frame and keeps the rest as metadata
    wide = container == "wide frame" and not qa and getattr(cls, "_nlpipe_task", None) != "chunking"
    try:
        out = _within(60, lambda: _output(est, X))
    except (ValueError, TypeError) as exc:
        if wide:
            assert "2 columns" in str(exc), exc
            return
        assert bad is not None, f"valid input {items!r:.200} raised {exc!r}"
        where = f".context[{bad}]" if qa else f"[{bad}]"
        assert where in str(exc), f"{exc!r} does not name the first bad position {where}"
        return
    assert not wide, "a DataFrame with 2 columns was accepted"
    assert bad is None, f"invalid item at {bad} ({items[bad]!r:.40}) was accepted"
    _rows_per_item(est, out, len(items))
    if isinstance(out, list):
        assert all(isinstance(o, str) for o in out)
    else:
        out = np.asarray(out)
        if out.dtype.kind == "f":
            assert np.isfinite(out).all(), "non-finite output"


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_one_megabyte_text_is_handled_in_bounded_time(cls):
    est = _fitted(cls)
    # 1 MB of prose-like sentences drawn from a 20,000-word vocabulary (Zipf-distributed, as words are).
    # (With a dozen distinct words every pair of 18,000 sentences would be similar: the extractive
    # summarizers' graph then holds ~3e8 edges, about 6 GB; see docs/reliability.md.)
    rng = np.random.default_rng(0)
    ranks = np.minimum(rng.zipf(1.3, size=300_000), 20_000)
    words = [f"w{r}" for r in ranks]
    huge = " ".join(" ".join(words[i:i + 12]) + "." for i in range(0, len(words), 12))[:1_000_000]
    assert len(huge) == 1_000_000
    qa = getattr(cls, "_nlpipe_task", None) == "question-answering"
    start = time.perf_counter()
    out = _within(120, lambda: _output(est, _qa_rows([huge, "short"]) if qa else [huge, "short"]))
    _rows_per_item(est, out, 2)
    assert time.perf_counter() - start < 120


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(rows=st.lists(st.tuples(st.one_of(VALID, st.integers(), st.floats()), st.sampled_from(["a", "b", "", None])),
                     min_size=0, max_size=6),
       header=st.sampled_from(["text,label", "body,label", "text", ""]))
def test_cli_never_shows_a_traceback(tmp_path_factory, rows, header):
    import contextlib
    import io

    from nlpipe.cli import main

    folder = tmp_path_factory.mktemp("cli")
    frame = pd.DataFrame(rows, columns=["text", "label"]) if rows else pd.DataFrame(columns=["text", "label"])
    path = folder / "data.csv"
    if header:
        frame.to_csv(path, index=False, header=header.split(",") if header.count(",") == 1 else None)
    else:
        path.write_text("")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["fit", "--model", "tfidf-nb", "--data", str(path), "--out", str(folder / "m.nlpipe")])
    text = err.getvalue()
    assert code in (0, 2) and "Traceback" not in text
    if code == 2:
        assert text.startswith("nlpipe: error:") and len(text.strip().splitlines()) == 1, text


@pytest.mark.parametrize("cls", [p for p in ESTIMATORS if hasattr(p.values[0], "predict_proba") or
                                 "Classifier" in p.values[0].__name__])
def test_labels_unseen_in_fit_count_as_wrong_in_score(cls):
    est = _fitted(cls)
    X, y = make_text_classification(2)
    y_new = np.array(["never-seen"] * len(y), dtype=object)
    assert est.score(X, y_new) == 0.0
    assert 0.0 <= est.score(X, np.where(np.arange(len(y)) % 2 == 0, y, "never-seen")) <= 0.5 + 1e-9
