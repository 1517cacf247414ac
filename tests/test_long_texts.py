"""long_texts: a text longer than max_length is read whole, as overlapping windows, when asked."""

import numpy as np
import pytest

pytest.importorskip("torch")

from nlpipe import TransformerClassifier, TransformerRegressor  # noqa: E402
from nlpipe.exceptions import InvalidParameterError  # noqa: E402
from nlpipe.testing import make_tiny_backbone  # noqa: E402

POS, NEG = ["great", "loved", "wonderful", "lovely"], ["terrible", "awful", "boring", "hated"]
# The label word anywhere after some filler; the filler alone goes with both labels, so it tells nothing.
X = [" ".join(["the"] * k + [word]) for k in range(0, 8, 2) for word in POS + NEG] + [" ".join(["the"] * 10)] * 2
Y = ["pos" if text.split()[-1] in POS else "neg" for text in X[:-2]] + ["pos", "neg"]
# The label word sits past the first window of 12 tokens: the first windows of all documents are the same.
DOCS = [" ".join(["the"] * 40 + [word]) for word in POS + NEG]
DOC_Y = np.array(["pos"] * 4 + ["neg"] * 4)


@pytest.fixture(scope="module")
def fitted():
    return TransformerClassifier(model=make_tiny_backbone(), max_length=12, epochs=15, batch_size=8,
                                 learning_rate=3e-3, random_state=0, verbose=0).fit(X, Y)


def test_label_past_the_first_window_is_read_by_windows_only(fitted):
    assert fitted.score(X[:-2], Y[:-2]) == 1.0
    truncated = fitted.predict(DOCS)
    assert len(set(truncated)) == 1  # the same first window for every document: one answer for all
    fitted.set_params(long_texts="max")  # a predict-time setting: no refit
    try:
        np.testing.assert_array_equal(fitted.predict(DOCS), DOC_Y)
        assert fitted.predict_proba(DOCS).shape == (8, 2)
        np.testing.assert_array_equal(fitted.predict(X[:-2]), Y[:-2])  # short texts: one window, as before
        fitted.set_params(long_texts="mean")
        mean = fitted.decision_function(DOCS)
        # The filler windows pull every mean the same way; the label window still orders the documents.
        assert mean[:4].min() > mean[4:].max()
    finally:
        fitted.set_params(long_texts="truncate")
    np.testing.assert_array_equal(fitted.predict(DOCS), truncated)


@pytest.fixture(scope="module")
def regressor():
    y = [1.0 if label == "pos" else 0.0 for label in Y[:-2]] + [0.5, 0.5]
    return TransformerRegressor(model=make_tiny_backbone(), max_length=12, epochs=15, batch_size=8,
                                learning_rate=3e-3, random_state=0, verbose=0).fit(X, y)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_windows_overlap_by_doc_stride_and_their_outputs_are_pooled(regressor, pooling):
    from nlpipe.neural import encode_windows

    ids, owners = encode_windows(regressor.tokenizer_, DOCS[:1], regressor.max_length_, 3)
    assert len(ids) > 3 and set(owners.tolist()) == {0}
    assert all(len(row) <= regressor.max_length_ for row in ids)
    for a, b in zip(ids, ids[1:]):  # consecutive windows share doc_stride tokens (between the special tokens)
        assert a[1:-1][-3:] == b[1:-1][:3]
    per_window = regressor.predict([regressor.tokenizer_.decode(row[1:-1]) for row in ids])
    regressor.set_params(long_texts=pooling, doc_stride=3)
    try:
        expected = per_window.mean() if pooling == "mean" else per_window.max()  # the affine output map commutes
        assert regressor.predict(DOCS[:1])[0] == pytest.approx(expected, abs=1e-4)
    finally:
        regressor.set_params(long_texts="truncate", doc_stride=128)


def test_bad_window_settings_are_refused():
    with pytest.raises(InvalidParameterError, match="long_texts"):
        TransformerRegressor(model=make_tiny_backbone(), long_texts="first").fit(X, [0.0] * len(X))
    with pytest.raises(InvalidParameterError, match="doc_stride"):
        TransformerClassifier(model=make_tiny_backbone(), doc_stride=0).fit(X, Y)


def test_onnx_export_reads_the_same_windows(fitted):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from nlpipe.compression import OnnxExporter

    fast = OnnxExporter().fit_transform(fitted)
    for pooling in ("truncate", "mean", "max"):
        fitted.set_params(long_texts=pooling)
        fast.set_params(long_texts=pooling)
        np.testing.assert_allclose(fast.decision_function(DOCS), fitted.decision_function(DOCS), atol=1e-4)
    fitted.set_params(long_texts="truncate")
