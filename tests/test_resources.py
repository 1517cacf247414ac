"""Resource bounds: no memory growth over repeated fits and CV folds, bounded memory on 100,000 texts,
thread-safe predict. Bounds are generous (allocator noise), never wall-clock."""

import gc
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

import nlpipe
from nlpipe.testing import make_question_answering, make_summarization, make_text_classification

X, y = make_text_classification(2)


def _rss_mb():
    """Current resident memory of this process (Linux /proc; the suite runs there)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tiny(cls, **params):
    from nlpipe.testing import make_tiny_backbone

    return cls(model=make_tiny_backbone(), epochs=1, batch_size=8, verbose=0, random_state=0, **params)


pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc for memory")


@pytest.mark.parametrize("kind", ["tfidf", "transformer"])
def test_memory_does_not_grow_over_repeated_fits_and_cv_folds(kind):
    if kind == "transformer":
        pytest.importorskip("torch")

    def make():
        return nlpipe.TfidfSVMClassifier(random_state=0) if kind == "tfidf" else _tiny(nlpipe.TransformerClassifier)

    est = make()
    est.fit(X, y)
    cross_val_score(make(), X, y, cv=5)  # warm-up: first-call caches (tokenizers, allocator pools)
    gc.collect()
    before = _rss_mb()
    for _ in range(10):
        est.fit(X, y)
    cross_val_score(make(), X, y, cv=5)
    gc.collect()
    growth = _rss_mb() - before
    assert growth < max(50.0, 0.10 * before), f"{growth:.1f} MB more after 10 fits and 5 folds (from {before:.0f} MB)"


def test_predict_on_100000_short_texts_runs_in_bounded_memory():
    pytest.importorskip("torch")
    clf = _tiny(nlpipe.TransformerClassifier, max_length=16).fit(X, y)
    clf.set_params(batch_size=256)
    many = [f"{X[i % len(X)]} {i}" for i in range(100_000)]
    gc.collect()
    before = _rss_mb()
    pred = clf.predict(many)
    after = _rss_mb()
    assert len(pred) == 100_000 and set(pred) <= set(clf.classes_)
    assert after - before < 150, f"predict on 100,000 texts kept {after - before:.0f} MB"


def _cases():
    pytest.importorskip("torch")
    Xs, ys = make_summarization(6)
    Xq, yq = make_question_answering(8)
    return [
        (nlpipe.TfidfSVMClassifier(random_state=0).fit(X, y), X),
        (_tiny(nlpipe.TransformerClassifier).fit(X, y), X),
        (nlpipe.ExtractiveSummarizer().fit(Xs), Xs),
        (_tiny(nlpipe.ExtractiveQuestionAnswerer).fit(Xq, yq), Xq),
    ]


def test_concurrent_predict_equals_serial_predict():
    for model, data in _cases():
        serial = [list(np.asarray(model.predict(data), dtype=object)) for _ in range(4)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = list(pool.map(lambda _: list(np.asarray(model.predict(data), dtype=object)), range(8)))
        assert all(t == serial[0] for t in threaded), type(model).__name__
