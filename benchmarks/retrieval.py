"""Retrieval benchmark (issue #20, item 7): nlpipe's retrievers and RetrievalQA against bm25s, rank_bm25 and FAISS.

Parts (each can be skipped; a skipped part keeps its section and JSON rows from the last results file):

* (a) ``squad``: SQuAD 2.0 dev subset (5 articles), each of the 1,407 questions (answerable or not) -> the paragraph it
  was written on, over the 173 paragraphs: R@1, R@5, R@10, MRR@10 for ``BM25Retriever``, ``DenseRetriever``
  (all-MiniLM-L6-v2, exact search), ``HybridRetriever`` (RRF; and a score blend whose weight is chosen by 5-fold
  cross-validation over the questions: picked on four folds by MRR@10, scored on the fifth), and the peers bm25s,
  rank_bm25 and FAISS ``IndexFlatIP`` over the same embeddings, used directly.
* (b) ``cnn``: CNN/DailyMail dev sample, the highlights of each of the 500 articles -> the article: the same systems.
* (c) ``qa``: end-to-end answers on the SQuAD subset. The reader, ``ExtractiveQuestionAnswerer(model=all-MiniLM-L6-v2)``,
  is fine-tuned by cross-validation over the five articles (train on the answerable questions of four, answer those
  of the fifth; "no answer" below a span-probability threshold picked on calibration questions of the four); each
  test question is answered (1) from its gold paragraph and (2) by ``RetrievalQA`` over all 173 paragraphs (default
  hybrid retriever, 3 passages). Exact match and F1 on answerable questions, no-answer
  accuracy on unanswerable ones, and SQuAD 2.0 EM/F1 over all. Fits are cached in ``--cache-dir``.
* (d) ``speed``: BM25 indexing and querying on 100,000 IMDB passages (``PassageChunker(size=100, overlap=20)``), with
  1,000 known-item queries (12 consecutive words from a passage's middle; relevant: that passage): nlpipe vs bm25s
  (Lucene BM25, same tokenization: ``bm25s.tokenize(texts, stopwords="en")``) vs rank_bm25 ``BM25Okapi``.
* (e) ``scale``: 1,000,000 passages (IMDB + 20 Newsgroups cut by ``PassageChunker(size=32, overlap=16)``): build time,
  peak RSS, index size and single-query latency (median / p95) of ``BM25Retriever`` (and bm25s), of
  ``DenseRetriever(index="exact")`` (and FAISS ``IndexFlatIP``) and of ``DenseRetriever(index="hnsw")`` with HNSW
  recall@10 against exact search on the same vectors (``ef_search`` chosen on separate tuning queries). The 1M-vector
  encoder is TF-IDF + a TruncatedSVD(384) projection fitted on a 100,000-passage sample (MiniLM cannot embed 1M passages on 2
  cores in a session): MiniLM's throughput is measured on 5,000 of the passages and its build time extrapolated.
  Every system is built in its own child process, so each peak RSS is its own.

Usage::

    python benchmarks/retrieval.py                       # everything (~1.5 h on 2 cores; QA reader fits cached)
    python benchmarks/retrieval.py --quick               # small sizes, tiny reader, temp --out (a few minutes)
    python benchmarks/retrieval.py --skip qa scale       # parts a, b, d only (a and e keep the last results)
"""

import sys
from pathlib import Path

# Keep this folder off the path (benchmarks/transformers.py would shadow the `transformers` package).
from _common import fit_cached, load, minilm_path, report as _report, timed  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin, clone  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402

PARTS = ("squad", "cnn", "qa", "speed", "scale")
PART_TITLES = {
    "squad": "(a) SQuAD 2.0 subset: question -> paragraph",
    "cnn": "(b) CNN/DailyMail sample: highlights -> article",
    "qa": "(c) End-to-end answers on the SQuAD subset: RetrievalQA vs the gold paragraph",
    "speed": "(d) BM25 speed against bm25s and rank_bm25",
    "scale": "(e) Scale",
}
WEIGHTS = [round(w, 1) for w in np.linspace(0, 1, 11)]
EF_GRID = [16, 32, 64, 128, 256]
CMD = "python benchmarks/retrieval.py"
MODES = ("threshold", "forced")
WHERES = ("gold", "retrieved", "top1")  # the reader on the gold paragraph; RetrievalQA with n passages; with 1
MODE_LABELS = {"threshold": "with the no-answer threshold", "forced": "forced to answer"}
QA_SETTINGS_NOTE = (
    "Settings: 2 epochs at learning rate 1e-4 (batch 16, 256 tokens), kept from the first design of this part, in "
    "which the reader trained on answerable and unanswerable questions together: readers of 1 to 3 epochs at 1e-4 and "
    "2e-4 then answered \"\" to every question, also to their own training questions, and forced to answer reached F1 "
    "0.10 to 0.20 on those. No score of a held-out article chose a setting. The reader is weak: 400 to 500 answerable "
    "training questions for an encoder never trained on QA (no SQuAD-trained checkpoint installs here), so its span "
    "probabilities say little, and the threshold that serves the calibration questions best is one that abstains on "
    "nearly everything. "
)


# ----------------------------------------------------------------------------- small helpers
def rss_mib(field="VmRSS"):
    """This process's ``VmRSS`` (or ``VmHWM``, the peak so far) in MiB, from /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return float("nan")
    return float("nan")


def fmt(x, spec=".3f"):
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def md_table(header, rows):
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]


def verdict(ok):
    return "PASS" if ok else "**MISS**"


def ranking_scores(relevant, ids):
    """R@1, R@5, R@10 and MRR@10 (nlpipe.metrics) of a ranking (n_queries, >= 10)."""
    from nlpipe.metrics import mrr_at_k, recall_at_k

    return {"r1": recall_at_k(relevant, ids, k=1), "r5": recall_at_k(relevant, ids, k=5),
            "r10": recall_at_k(relevant, ids, k=10), "mrr": mrr_at_k(relevant, ids, k=10)}


def reciprocal_ranks(relevant, ids, k=10):
    """Per-query reciprocal rank of the first relevant id in the top ``k`` (0 when none)."""
    out = np.zeros(len(ids))
    for i, (row, rel) in enumerate(zip(ids, relevant)):
        rel = set(rel) if isinstance(rel, (list, tuple, set)) else {rel}
        for r, v in enumerate(list(row)[:k]):
            if v in rel:
                out[i] = 1.0 / (r + 1)
                break
    return out


def known_item_queries(texts, sources, ids, n, seed, lo, hi, min_words):
    """``n`` queries: words ``lo:hi`` of random passages with at least ``min_words`` words.

    Relevant: the passage, and any neighbour of the same document (overlapping passages) that holds the query too.
    """
    rng = np.random.default_rng(seed)
    lengths = np.fromiter((t.count(" ") + 1 for t in texts), dtype=np.int64, count=len(texts))
    eligible = np.flatnonzero(lengths >= min_words)
    pick = rng.choice(eligible, size=min(n, len(eligible)), replace=False)
    queries, relevant = [], []
    for i in pick.tolist():
        words = [m.span() for m in re.finditer(r"\S+", texts[i])][lo:hi]
        q = texts[i][words[0][0]: words[-1][1]]  # the words as they stand in the passage (a substring of it)
        rel = [ids[j] for j in range(max(0, i - 4), min(len(texts), i + 5))
               if sources[j] == sources[i] and q in texts[j]]
        queries.append(q)
        relevant.append(rel)
    return queries, relevant


def latencies(fn, queries):
    """Per-query wall times (ms) of ``fn([q])``, after 3 untimed warm-up calls."""
    for q in queries[:3]:
        fn([q])
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn([q])
        out.append((time.perf_counter() - t0) * 1000)
    return np.asarray(out)


def bm25s_tokens(texts):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", show_progress=False)


def bm25s_query_tokens(texts):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)


def bm25s_index(texts, backend="numpy"):
    import bm25s

    model = bm25s.BM25(method="lucene", k1=1.5, b=0.75, backend=backend)
    model.index(bm25s_tokens(texts), show_progress=False)
    return model


def bm25s_retrieve(model, queries, k):
    docs, scores = model.retrieve(bm25s_query_tokens(queries), k=k, show_progress=False)
    return np.asarray(docs), np.asarray(scores)


def rank_bm25_index(texts):
    from rank_bm25 import BM25Okapi

    return BM25Okapi(bm25s_query_tokens(texts), k1=1.5, b=0.75)


def rank_bm25_retrieve(model, queries, k):
    """rank_bm25's own ranking (``get_top_n`` sorts ``get_scores`` with np.argsort; it returns documents)."""
    out = []
    for tokens in bm25s_query_tokens(queries):
        scores = model.get_scores(tokens)
        out.append(np.argsort(scores)[::-1][:k])
    return np.asarray(out)


def same_sets(a, b, scores_a=None):
    """Share of queries whose top-k id sets agree (a differing k-th document with a score tie counts as agreeing)."""
    same = 0
    for i, (x, y) in enumerate(zip(a, b)):
        if set(x.tolist()) == set(y.tolist()):
            same += 1
        elif scores_a is not None:
            diff = set(x.tolist()) ^ set(y.tolist())
            tail = scores_a[i][-1]
            if all(abs(float(s) - float(tail)) < 1e-4 for s, v in zip(scores_a[i], x.tolist()) if v in diff):
                same += 1
    return same / max(1, len(a))


# ----------------------------------------------------------------------------- data
def load_squad(data_home):
    import pandas as pd

    from nlpipe.datasets import get_data_home

    path = Path(get_data_home(data_home)) / "squad_v2" / "dev_subset.json"
    if not path.is_file():
        sys.exit(f"No SQuAD subset at {path}: see docs/datasets.md (squad_v2/dev_subset.json).")
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, questions = [], []
    for a, article in enumerate(data):
        for p, par in enumerate(article["paragraphs"]):
            pid = f"{a}-{p}"
            paragraphs.append({"id": pid, "text": par["context"], "article": a, "title": article["title"]})
            for qa in par["qas"]:
                answers = [x["text"] for x in qa["answers"]]
                questions.append({"question": qa["question"], "pid": pid, "article": a, "answers": answers,
                                  "answer_start": qa["answers"][0]["answer_start"] if answers else -1,
                                  "impossible": bool(qa.get("is_impossible", not answers))})
    return pd.DataFrame(paragraphs), pd.DataFrame(questions)


class MemoEncoder(TransformerMixin, BaseEstimator):
    """A text encoder that remembers each text's vector: the blend-weight sweep embeds its queries once, not 11 times.

    A plain scikit-learn transformer, as ``DenseRetriever`` takes any; ``fit`` fits a clone of ``encoder``.
    """

    def __init__(self, encoder=None):
        self.encoder = encoder

    def fit(self, X, y=None):
        self.encoder_ = clone(self.encoder).fit(X)
        self.cache_ = {}
        return self

    def transform(self, X):
        X = list(X)
        missing = [t for t in dict.fromkeys(X) if t not in self.cache_]
        if missing:
            self.cache_.update(zip(missing, np.asarray(self.encoder_.transform(missing), dtype=np.float32)))
        return np.stack([self.cache_[t] for t in X])


class Frozen(FrozenEstimator):
    """``FrozenEstimator`` whose ``fit`` takes ``y=None``: ``DenseRetriever`` calls ``encoder.fit(texts)``, and
    scikit-learn's ``FrozenEstimator.fit(X, y)`` requires ``y`` (TypeError). Works around that; see the results."""

    def fit(self, X, y=None, *args, **kwargs):
        return self


class SVDProjection(TransformerMixin, BaseEstimator):
    """``TruncatedSVD`` whose ``transform`` multiplies by a C-contiguous float32 copy of ``components_.T``.

    The same vectors as ``TruncatedSVD.transform`` (``X @ components_.T``); scikit-learn's makes scipy copy the
    (n_features x n_components) matrix on every call (about 30 ms for 50,000 x 384, per query), which would be timed
    as search latency.
    """

    def __init__(self, n_components=384, random_state=0):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.decomposition import TruncatedSVD

        svd = TruncatedSVD(self.n_components, random_state=self.random_state).fit(X)
        self.projection_ = np.ascontiguousarray(svd.components_.T, dtype=np.float32)
        return self

    def transform(self, X):
        return np.asarray(X @ self.projection_)


def embedder(args):
    from nlpipe import TransformerEmbedder

    return TransformerEmbedder(model=args.encoder_path, max_length=256, batch_size=64, verbose=0)


# ----------------------------------------------------------------------------- (a), (b): retrieval quality
def retrieval_quality(name, texts, doc_ids, queries, relevant, args):
    """Every system on one corpus; returns (rows, notes). Rows: dicts with scores, fit_s, query_s."""
    import faiss

    from nlpipe.retrieval import BM25Retriever, DenseRetriever, HybridRetriever

    n_q = len(queries)
    rows, notes = [], []

    def add(system, role, ids, fit_s, query_s, note=""):
        scores = ranking_scores(relevant, ids)
        rows.append({"system": system, "role": role, "scores": scores, "fit_s": fit_s, "query_s": query_s,
                     "qps": n_q / query_s if query_s else None, "note": note})
        print(f"[{name}] {system}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
              + f"; index {fit_s:.2f} s, {n_q / query_s:,.0f} queries/s", flush=True)

    # --- sparse
    bm25 = BM25Retriever(k=10, verbose=0)
    _, fit_s = timed(lambda: bm25.fit(texts, ids=doc_ids))
    (bm25_ids, bm25_scores), q_s = timed(lambda: bm25.retrieve(queries, k=10))
    add("nlpipe BM25Retriever()", "nlpipe", bm25_ids, fit_s, q_s)
    model, fit_s = timed(lambda: bm25s_index(texts))
    (pos, _), q_s = timed(lambda: bm25s_retrieve(model, queries, 10))
    s_ids = np.asarray(doc_ids, dtype=object)[pos]
    agree = same_sets(bm25_ids, s_ids, bm25_scores)
    add("bm25s BM25(method='lucene')", "peer", s_ids, fit_s, q_s, note=f"same top-10 as nlpipe BM25: {agree:.1%}")
    model, fit_s = timed(lambda: rank_bm25_index(texts))
    pos, q_s = timed(lambda: rank_bm25_retrieve(model, queries, 10))
    add("rank_bm25 BM25Okapi", "peer", np.asarray(doc_ids, dtype=object)[pos], fit_s, q_s)
    model = None

    # --- dense
    encoder = embedder(args)
    dense = DenseRetriever(encoder=encoder, index="exact", k=10, verbose=0)
    _, fit_s = timed(lambda: dense.fit(texts, ids=doc_ids))
    (d_ids, _), q_s = timed(lambda: dense.retrieve(queries, k=10))
    add("nlpipe DenseRetriever(MiniLM, index='exact')", "nlpipe", d_ids, fit_s, q_s)
    # FAISS directly over the same normalized document embeddings, queries embedded by the same fitted encoder
    E = dense.embeddings_

    def faiss_build():
        index = faiss.IndexFlatIP(E.shape[1])
        index.add(E)
        return index

    index, build_s = timed(faiss_build)

    def faiss_query():
        Q = np.asarray(dense.encoder_.transform(queries), dtype=np.float32)
        Q /= np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-12)
        return index.search(Q, 10)

    (_, f_pos), q_s = timed(faiss_query)
    add("FAISS IndexFlatIP (same embeddings)", "peer", np.asarray(doc_ids, dtype=object)[f_pos], build_s, q_s,
        note=f"index time: FAISS add only (the embeddings are nlpipe's); same top-10 as nlpipe dense: "
             f"{same_sets(d_ids, np.asarray(doc_ids, dtype=object)[f_pos]):.1%}")

    # --- hybrid
    def hybrid(fusion, weight=0.5, enc=encoder):
        return HybridRetriever(sparse=BM25Retriever(verbose=0),
                               dense=DenseRetriever(encoder=enc, index="exact", verbose=0),
                               fusion=fusion, weight=weight, depth=100, k=10, verbose=0)

    rrf = hybrid("rrf")
    _, fit_s = timed(lambda: rrf.fit(texts, ids=doc_ids))
    (h_ids, _), q_s = timed(lambda: rrf.retrieve(queries, k=10))
    add("nlpipe HybridRetriever(fusion='rrf')", "nlpipe", h_ids, fit_s, q_s)
    blend = hybrid("blend", enc=MemoEncoder(encoder))  # the sweep embeds the queries once
    _, fit_s = timed(lambda: blend.fit(texts, ids=doc_ids))
    blend.set_params(weight=0.5)
    (ids_w, _), blend_s = timed(lambda: blend.retrieve(queries, k=10))  # the one call that embeds the queries
    by_weight = {0.5: ids_w}
    for w in WEIGHTS:
        if w != 0.5:
            blend.set_params(weight=w)
            by_weight[w] = blend.retrieve(queries, k=10)[0]
    add("nlpipe HybridRetriever(fusion='blend', weight=0.5)", "nlpipe", by_weight[0.5], fit_s, blend_s,
        note="default weight, untuned")
    from sklearn.model_selection import KFold

    rr = {w: reciprocal_ranks(relevant, by_weight[w]) for w in WEIGHTS}
    tuned = np.empty_like(by_weight[0.5])
    chosen = []
    for train, test in KFold(5, shuffle=True, random_state=0).split(np.arange(n_q)):
        w = max(WEIGHTS, key=lambda w: (rr[w][train].mean(), -abs(w - 0.5)))
        chosen.append(w)
        tuned[test] = by_weight[w][test]
    add("nlpipe HybridRetriever(fusion='blend'), weight tuned by 5-fold CV", "nlpipe", tuned, fit_s,
        blend_s, note="dense weight picked per fold: " + ", ".join(f"{w:g}" for w in chosen))
    sweep = {w: float(rr[w].mean()) for w in WEIGHTS}
    notes.append("Blend sweep (MRR@10 over all queries, for reading only; the tuned row picks on four folds and "
                 "scores the fifth): " + ", ".join(f"{w:g}: {v:.3f}" for w, v in sweep.items()) + ".")
    dense = rrf = blend = index = None
    gc.collect()
    return rows, notes


def short_name(system):
    """The plot label of a system."""
    for key, label in (("numba", "bm25s numba"), ("bm25s", "bm25s"), ("rank_bm25", "rank_bm25"),
                       ("BM25Retriever", "BM25Retriever"), ("IndexFlatIP", "FAISS flat"), ("'rrf'", "Hybrid rrf"),
                       ("weight=0.5", "Hybrid blend 0.5"), ("tuned", "Hybrid blend tuned"),
                       ("index='hnsw'", "Dense hnsw"), ("index='exact'", "Dense exact")):
        if key in system:
            return label
    return system.split("(")[0].strip()


def quality_section(title, intro, rows, notes):
    header = ["system", "role", "R@1", "R@5", "R@10", "MRR@10", "index s", "queries/s", "note"]
    table = [[r["system"], r["role"], fmt(r["scores"]["r1"]), fmt(r["scores"]["r5"]), fmt(r["scores"]["r10"]),
              fmt(r["scores"]["mrr"]), fmt(r["fit_s"], ".2f"), fmt(r["qps"], ",.0f"), r["note"]] for r in rows]
    return [f"## {title}", "", intro, "", *md_table(header, table), "", *notes, ""]


def quality_json(rep, setting, rows):
    out = []
    for r in rows:
        s = r["scores"]
        out.append(rep.row(setting, r["system"], r["role"],
                           {"score": rep.num(s["r10"], ".3f"), "r1": rep.num(s["r1"], ".3f"),
                            "mrr": rep.num(s["mrr"], ".3f")},
                           rep.num(r["qps"], ",.0f") if r["qps"] else None,
                           note=r["note"] or f"index {r['fit_s']:.2f} s", short=short_name(r["system"])))
    return out


def part_squad(args, rep):
    paragraphs, questions = load_squad(args.data_home)
    texts, ids = paragraphs["text"].tolist(), paragraphs["id"].tolist()
    queries, relevant = questions["question"].tolist(), questions["pid"].tolist()
    t0 = time.perf_counter()
    rows, notes = retrieval_quality("squad", texts, ids, queries, relevant, args)
    minutes = (time.perf_counter() - t0) / 60
    setting = f"(a) SQuAD 2.0 subset: {len(queries):,} questions -> {len(texts)} paragraphs"
    intro = (f"{len(queries):,} questions ({int(questions['impossible'].sum())} unanswerable; every question was "
             f"written on one paragraph, which is its only relevant id) over the {len(texts)} paragraphs of the first "
             "five articles of SQuAD 2.0 dev. Index s: `fit` (tokenizing / embedding the paragraphs); queries/s: one "
             "`retrieve(questions, k=10)` call over all questions (dense: including embedding them). MiniLM: "
             "`TransformerEmbedder(model=all-MiniLM-L6-v2, max_length=256, batch_size=64)`. Hybrid: "
             "`HybridRetriever(sparse=BM25Retriever(), dense=DenseRetriever(MiniLM, index='exact'), depth=100)`; its "
             "`fit` embeds the paragraphs again. The blend rows' encoder is MiniLM behind a small memo (a "
             "scikit-learn transformer that keeps each text's vector), so the sweep over the 11 weights 0, 0.1, ..., 1 "
             "embeds the queries once; their queries/s is that first call's, at weight 0.5. "
             f"Part time {minutes:.1f} min.")
    return quality_section(setting, intro, rows, notes), quality_json(rep, setting, rows), rows


def part_cnn(args, rep):
    from nlpipe.datasets import load_cnn_dailymail

    X, y = load_cnn_dailymail("dev", data_home=args.data_home)
    X, y = list(X)[: args.cnn_articles], list(y)[: args.cnn_articles]
    ids = list(range(len(X)))
    queries = [" ".join(s.split("\n")) for s in y]
    t0 = time.perf_counter()
    rows, notes = retrieval_quality("cnn", X, ids, queries, ids, args)
    minutes = (time.perf_counter() - t0) / 60
    setting = f"(b) CNN/DM sample: highlights -> article, {len(X)} articles"
    words = np.mean([len(x.split()) for x in X])
    intro = (f"The {len(X)} articles of `cnn_dailymail/dev_sample.jsonl` (lower-cased, PTB-tokenized, "
             f"{words:.0f} words on average) are the corpus; each article's reference highlights (its sentences "
             "joined by spaces) are the query, and the article is its only relevant id. Same systems and settings as "
             "(a); MiniLM reads the first 256 tokens of an article. "
             f"Part time {minutes:.1f} min.")
    return quality_section(setting, intro, rows, notes), quality_json(rep, setting, rows), rows


# ----------------------------------------------------------------------------- (c) QA
def _pick_threshold(squad, answers, impossible, spans):
    """The span probability under which the reader says "" that maximizes the mean of F1 (answerable) and no-answer
    accuracy (unanswerable) on calibration questions; weighing both halves equally, as the test articles do."""
    scores = spans["score"].to_numpy()
    ans = ~impossible
    # Each answerable question's F1 if answered (a "" scores 0 against a gold answer), computed once; a
    # threshold then keeps or drops it.
    span_f1 = np.array([squad([a], [p])["f1"] for a, p, k in zip(answers, spans["answer"], ans) if k])
    answer_scores, null_scores = scores[ans], scores[impossible]
    null_empty = spans["answer"].to_numpy()[impossible] == ""  # abstains whatever the threshold
    best = (-1.0, 0.0)
    for t in np.unique(np.concatenate([[0.0], np.round(scores, 4)])):
        f1 = float(np.mean(span_f1 * (answer_scores >= t))) if ans.any() else 0.0
        noans = float(np.mean((null_scores < t) | null_empty)) if impossible.any() else 0.0
        value = 0.5 * f1 + 0.5 * noans
        if value > best[0]:
            best = (value, float(t))
    return best[1]


def part_qa(args, rep):
    import pandas as pd

    from nlpipe import ExtractiveQuestionAnswerer
    from nlpipe.metrics import squad
    from nlpipe.retrieval import BM25Retriever, DenseRetriever, HybridRetriever, RetrievalQA

    t_part = time.perf_counter()
    paragraphs, questions = load_squad(args.data_home)
    context = dict(zip(paragraphs["id"], paragraphs["text"]))
    articles = sorted(questions["article"].unique().tolist())[: args.qa_folds]
    folds, all_rows = [], []
    encoder = embedder(args)

    def frame(qs):
        return pd.DataFrame({"question": qs["question"].tolist(), "context": [context[p] for p in qs["pid"]]})

    for a in articles:
        others = questions[questions["article"] != a]
        test = questions[questions["article"] == a]
        # The reader learns spans from answerable questions only (half of SQuAD 2.0 taught to point at [CLS]
        # gave a reader that abstained on everything); the "no answer" threshold on its span probability is
        # chosen on calibration questions of the training articles: a share of their answerable questions,
        # kept out of training, and all of their unanswerable ones (never trained on either way).
        answerable = others[~others["impossible"]]
        calib_ans = answerable.sample(frac=args.qa_calibration, random_state=0)
        train = answerable.drop(calib_ans.index)
        if args.qa_train_limit:
            train = train.sample(min(args.qa_train_limit, len(train)), random_state=0)
        calib = pd.concat([calib_ans, others[others["impossible"]]])
        if args.qa_test_limit:
            test = test.iloc[: args.qa_test_limit]
        y_tr = [{"text": ans[0], "answer_start": int(s)} for ans, s in zip(train["answers"], train["answer_start"])]
        settings = dict(data="squad_v2/dev_subset", held_out_article=int(a), n_train=len(train),
                        answerable_only=True, calibration=args.qa_calibration,
                        train_limit=args.qa_train_limit, model=args.reader_id, max_length=args.qa_max_length,
                        batch_size=args.qa_batch_size, epochs=args.qa_epochs, learning_rate=args.qa_learning_rate,
                        random_state=0)

        def make():
            return ExtractiveQuestionAnswerer(model=args.reader_path, max_length=args.qa_max_length,
                                              batch_size=args.qa_batch_size, epochs=args.qa_epochs,
                                              learning_rate=args.qa_learning_rate, random_state=0, verbose=0)

        reader, fit_s, cached = fit_cached("squad-reader", settings, make, (frame(train), y_tr), args.cache_dir,
                                           not args.no_cache)
        reader.set_params(batch_size=32, allow_no_answer=False)
        threshold = _pick_threshold(squad, calib["answers"].tolist(), calib["impossible"].to_numpy(),
                                    reader.predict_spans(frame(calib)))
        print(f"[qa] fold {a}: reader trained on {len(train)} answerable questions in {fit_s:.0f} s"
              + (f" (cached: {cached})" if cached else "") + f"; no-answer threshold {threshold:.3f} from "
              f"{len(calib)} calibration questions", flush=True)
        X_te = frame(test)
        # The retriever is HybridRetriever's default (score blend, weight 0.5), as a user gets it.
        retriever = HybridRetriever(sparse=BM25Retriever(verbose=0),
                                    dense=DenseRetriever(encoder=encoder, index="exact", verbose=0), verbose=0)
        qa = RetrievalQA(retriever=retriever, reader=FrozenEstimator(reader), n_passages=args.qa_passages,
                         min_score=threshold, verbose=0)
        _, index_s = timed(lambda: qa.fit(paragraphs["text"].tolist(), ids=paragraphs["id"].tolist()))  # noqa: B023
        fold = {"article": int(a), "title": paragraphs.loc[paragraphs["article"] == a, "title"].iloc[0],
                "n_train": len(train), "n_calib": len(calib), "threshold": threshold, "n_test": len(test),
                "fit_s": fit_s, "cached": bool(cached), "index_s": index_s}
        preds = {}
        spans, gold_s = timed(lambda: reader.predict_spans(X_te))  # noqa: B023
        preds["forced", "gold"] = spans["answer"].tolist()
        preds["threshold", "gold"] = np.where(spans["score"] >= threshold, spans["answer"], "").tolist()
        fold["forced", "gold_s"] = fold["threshold", "gold_s"] = gold_s
        for mode, min_score in (("threshold", threshold), ("forced", 0.0)):
            # n_passages as set, and 1: the reader reads only the top passage (no choice across passages).
            for where, n_passages in (("retrieved", args.qa_passages), ("top1", 1)):
                qa.set_params(min_score=min_score, n_passages=n_passages)
                sources, fold[mode, f"{where}_s"] = timed(
                    lambda: qa.predict_sources(test["question"].tolist()))  # noqa: B023
                preds[mode, where] = sources["answer"].tolist()
                if where == "retrieved":
                    preds[mode, "passage"] = sources["passage_id"].tolist()
        qa.set_params(n_passages=args.qa_passages)
        # retrieval recall of the same questions (the retriever's own ranking, n_passages deep)
        top = qa.retriever_.retrieve(test["question"].tolist(), k=args.qa_passages)[0]
        for i, (_, q) in enumerate(test.iterrows()):
            row = {"article": int(a), "impossible": bool(q["impossible"]), "answers": q["answers"],
                   "pid_in_top": q["pid"] in set(top[i].tolist())}
            for mode in MODES:
                for where in WHERES:
                    row[mode, where] = preds[mode, where][i]
                row[mode, "from_gold_paragraph"] = preds[mode, "passage"][i] == q["pid"]
            all_rows.append(row)
        folds.append(fold)
        mine = [r for r in all_rows if r["article"] == a]
        for mode in MODES:
            for where in WHERES:
                fold[mode, where] = _qa_scores(squad, mine, (mode, where))
        print(f"[qa] fold {a}: " + " | ".join(
            f"{mode}: F1(ans) gold {fold[mode, 'gold']['f1_ans']:.3f} retrieved {fold[mode, 'retrieved']['f1_ans']:.3f}"
            f", no-ans gold {fold[mode, 'gold']['noans']:.3f} retrieved {fold[mode, 'retrieved']['noans']:.3f}"
            for mode in MODES), flush=True)
        reader = qa = None
        gc.collect()
    n = len(all_rows)
    scores = {(mode, where): _qa_scores(squad, all_rows, (mode, where)) for mode in MODES for where in WHERES}
    qps = {(mode, where): n / sum(f[mode, f"{where}_s"] for f in folds) for mode in MODES for where in WHERES}
    answerable = [r for r in all_rows if not r["impossible"]]
    minutes = (time.perf_counter() - t_part) / 60
    train_min = sum(f["fit_s"] for f in folds) / 60
    setting = (f"(c) SQuAD 2.0 subset answers: {n:,} questions, {len(articles)} fold{'s' * (len(articles) > 1)} "
               "by article")
    header = ["reader input", "reader", "EM (answerable)", "F1 (answerable)", "no-answer accuracy (unanswerable)",
              "EM (all)", "F1 (all)", "questions/s"]
    labels = {"gold": "gold paragraph (the reader alone)",
              "retrieved": f"RetrievalQA: hybrid blend over all {len(paragraphs)} paragraphs, {args.qa_passages} passages",
              "top1": f"RetrievalQA: the same, n_passages=1 (top passage only)"}
    table = []
    for mode in MODES:
        for where in WHERES:
            sc = scores[mode, where]
            table.append([labels[where], MODE_LABELS[mode], fmt(sc["em_ans"]), fmt(sc["f1_ans"]), fmt(sc["noans"]),
                          fmt(sc["em_all"]), fmt(sc["f1_all"]), fmt(qps[mode, where], ".1f")])
    fold_table = [[f"{f['article']} ({f['title']})", f["n_train"], f"{f['fit_s']:.0f}" + (" (cached)" if f["cached"]
                                                                                         else ""),
                   f["n_calib"], f"{f['threshold']:.3f}",
                   f["n_test"], fmt(f["threshold", "gold"]["f1_ans"]), fmt(f["threshold", "retrieved"]["f1_ans"]),
                   fmt(f["threshold", "gold"]["noans"]), fmt(f["threshold", "retrieved"]["noans"]),
                   fmt(f["forced", "gold"]["f1_ans"]), fmt(f["forced", "retrieved"]["f1_ans"]),
                   f"{f['index_s']:.0f}"] for f in folds]
    in_top = np.mean([r["pid_in_top"] for r in answerable]) if answerable else float("nan")
    from_gold = np.mean([r["forced", "from_gold_paragraph"] for r in answerable]) if answerable else float("nan")
    ratio = {(mode, where): scores[mode, where]["f1_ans"] / scores[mode, "gold"]["f1_ans"]
             if scores[mode, "gold"]["f1_ans"] else float("nan") for mode in MODES for where in WHERES[1:]}
    lines = [
        f"## {setting}",
        "",
        f"Reader: `ExtractiveQuestionAnswerer(model={args.reader_id}, max_length={args.qa_max_length}, batch_size="
        f"{args.qa_batch_size}, epochs={args.qa_epochs}, learning_rate={args.qa_learning_rate:g}, random_state=0)`, "
        "fine-tuned on (question, gold paragraph, first gold answer) of the answerable questions of "
        f"{'four articles' if len(articles) > 1 else 'the other articles'} except a {args.qa_calibration:.0%} "
        "calibration share, and tested on the questions of the held-out article "
        f"({len(articles)} fold{'s' * (len(articles) > 1)}: one per article, so no question is answered by a reader "
        "that saw it). \"No answer\": the reader reads with `allow_no_answer=False` (always its best span) and says \"\" "
        "when that span's probability is under a threshold, picked per fold on the calibration questions of the "
        "training articles (the held-out answerable share and all their unanswerable questions; maximizing the mean "
        "of F1 on the answerable and no-answer accuracy on the unanswerable ones). "
        + ("--quick: a tiny random backbone, a few questions; the numbers mean nothing. " if args.quick else
           QA_SETTINGS_NOTE)
        + "RetrievalQA: `RetrievalQA(retriever=HybridRetriever(BM25 + MiniLM exact; default blend, weight 0.5), "
        f"reader=FrozenEstimator(<the fold's reader>), n_passages={args.qa_passages}, min_score=<the fold's "
        f"threshold>)`, fitted on all {len(paragraphs)} paragraphs (every article), predicting with "
        "`predict_sources`: it answers with the most probable span over its passages, or \"\" when none reaches "
        "min_score. Each reader is also read forced to answer (threshold 0), so the span extraction can be compared "
        "on its own. Scores: SQuAD exact match / F1 (`nlpipe.metrics.squad`, all gold answers) over answerable "
        "questions; no-answer accuracy: the share of unanswerable questions answered \"\"; EM / F1 (all): SQuAD 2.0 "
        "style, an unanswerable question scores 1 for \"\" and 0 otherwise. questions/s: `predict_spans` (gold) "
        f"and `predict_sources` (RetrievalQA: retrieving and reading {args.qa_passages} passages). "
        f"Part time {minutes:.1f} min (reader training {train_min:.1f} min"
        + (", read from the cache where the table says so)." if any(f["cached"] for f in folds) else ")."),
        "",
        *md_table(header, table),
        "",
        f"F1 (answerable) with retrieved passages / with the gold paragraph: {args.qa_passages} passages "
        f"{ratio['threshold', 'retrieved']:.2f} with the no-answer threshold, {ratio['forced', 'retrieved']:.2f} forced "
        f"to answer; the top passage only {ratio['threshold', 'top1']:.2f} and {ratio['forced', 'top1']:.2f} (target "
        f">= 0.9). Answerable questions whose gold paragraph is among the "
        f"{args.qa_passages} retrieved: {in_top:.3f}; forced to answer, RetrievalQA took its answer from the gold "
        f"paragraph for {from_gold:.3f} of them. With several passages the best span probability is a maximum over "
        "passages, so RetrievalQA reaches the threshold more often than the reader given one paragraph: it abstains "
        "less on unanswerable questions.",
        "",
        "Per fold (held-out article):",
        "",
        *md_table(["held-out article", "train questions", "train s", "calibration questions", "threshold",
                   "test questions", "F1 ans. (gold)", "F1 ans. (retrieved)", "no-answer acc. (gold)",
                   "no-answer acc. (retrieved)", "forced: F1 ans. (gold)", "forced: F1 ans. (retrieved)",
                   "RetrievalQA fit s"], fold_table),
        "",
    ]
    rows = []
    for mode in MODES:
        for where in WHERES:
            sc = scores[mode, where]
            system = {"gold": "nlpipe ExtractiveQuestionAnswerer on the gold paragraph",
                      "retrieved": f"nlpipe RetrievalQA (hybrid blend, {args.qa_passages} passages)",
                      "top1": "nlpipe RetrievalQA (hybrid blend, top passage)"}[where] + f", {MODE_LABELS[mode]}"
            rows.append(rep.row(setting, system, "nlpipe", {"score": rep.num(sc["f1_ans"], ".3f")},
                                rep.num(qps[mode, where], ".1f"),
                                note=f"F1 (answerable); no-answer accuracy {sc['noans']:.3f}",
                                short={"gold": "reader, gold", "retrieved": "RetrievalQA",
                                       "top1": "RetrievalQA, top 1"}[where]
                                + (", forced" if mode == "forced" else "")))
    summary = {"scores": scores, "n_folds": len(articles), "train_min": train_min, "ratio": ratio}
    return lines, rows, summary


def _qa_scores(squad, rows, key):
    ans = [r for r in rows if not r["impossible"]]
    imp = [r for r in rows if r["impossible"]]
    out = {"em_ans": float("nan"), "f1_ans": float("nan"), "noans": float("nan")}
    if ans:
        s = squad([r["answers"] for r in ans], [r[key] for r in ans])
        out.update(em_ans=s["exact_match"], f1_ans=s["f1"])
    if imp:
        out["noans"] = float(np.mean([r[key].strip() == "" for r in imp]))
    s = squad([r["answers"] or [""] for r in rows], [r[key] for r in rows])
    out.update(em_all=s["exact_match"], f1_all=s["f1"])
    return out


# ----------------------------------------------------------------------------- (d) BM25 speed
def part_speed(args, rep):
    import pandas as pd

    from nlpipe.datasets import load_imdb
    from nlpipe.retrieval import BM25Retriever, PassageChunker

    t_part = time.perf_counter()
    docs = []
    for split in ("train", "test"):
        X, _ = load_imdb(split, data_home=args.data_home)
        docs += [(f"imdb-{split}-{i}", x) for i, x in enumerate(X)]
    frame = pd.DataFrame(docs, columns=["id", "text"])
    passages = PassageChunker(size=100, overlap=20).fit_transform(frame).iloc[: args.speed_passages]
    texts, sources = passages["text"].tolist(), passages["source_id"].tolist()
    ids = list(range(len(texts)))
    queries, relevant = known_item_queries(texts, sources, ids, args.speed_queries, 0, 30, 42, 60)
    n_slow = min(args.speed_slow_queries, len(queries))
    print(f"[speed] {len(texts):,} passages, {len(queries)} queries", flush=True)
    systems = {}

    def measure(name, build, query, n_queries, repeats):
        build_times, query_times, model, result = [], [], None, None
        for _ in range(repeats):
            model = None
            gc.collect()
            model, s = timed(build)
            build_times.append(s)
        query(model, queries[:5])  # warm-up (bm25s numba: compilation)
        for _ in range(repeats):
            result, s = timed(lambda: query(model, queries[:n_queries]))  # noqa: B023
            query_times.append(s)
        systems[name] = {"index_s": min(build_times), "query_s": min(query_times), "n_queries": n_queries,
                         "qps": n_queries / min(query_times), "ids": result}
        print(f"[speed] {name}: index {min(build_times):.2f} s (of {', '.join(f'{t:.2f}' for t in build_times)}), "
              f"{n_queries / min(query_times):,.1f} queries/s", flush=True)
        model = None
        gc.collect()

    tok_times = []
    for _ in range(args.repeats):
        tok_times.append(timed(lambda: bm25s_query_tokens(texts))[1])
    tok_s = min(tok_times)
    print(f"[speed] tokenizing alone: {tok_s:.2f} s", flush=True)
    measure("nlpipe BM25Retriever()", lambda: BM25Retriever(k=10, verbose=0).fit(texts),
            lambda m, q: m.retrieve(q, k=10), len(queries), args.repeats)
    measure("bm25s BM25(method='lucene')", lambda: bm25s_index(texts),
            lambda m, q: bm25s_retrieve(m, q, 10), len(queries), args.repeats)
    measure("bm25s BM25(method='lucene', backend='numba')", lambda: bm25s_index(texts, "numba"),
            lambda m, q: bm25s_retrieve(m, q, 10), len(queries), args.repeats)
    measure("rank_bm25 BM25Okapi", lambda: rank_bm25_index(texts),
            lambda m, q: rank_bm25_retrieve(m, q, 10), n_slow, 1)

    ours = systems["nlpipe BM25Retriever()"]
    ours_ids, ours_scores = ours["ids"]
    ref = systems["bm25s BM25(method='lucene')"]
    ref_ids = ref["ids"][0]
    rows, json_rows = [], []
    setting = f"(d) BM25 speed: {len(texts):,} IMDB passages"
    for name, s in systems.items():
        ids_ = s["ids"][0] if isinstance(s["ids"], tuple) else s["ids"]
        rel = relevant[: s["n_queries"]]
        r10 = ranking_scores(rel, ids_)["r10"]
        agree = same_sets(ours_ids[: s["n_queries"]], np.asarray(ids_), ours_scores) if not name.startswith(
            "nlpipe") else 1.0
        s["r10"], s["agree"] = r10, agree
        rows.append([name, "nlpipe" if name.startswith("nlpipe") else "peer", f"{s['index_s']:.2f}",
                     f"{s['qps']:,.1f}", f"{1000 / s['qps']:.2f}", s["n_queries"], fmt(r10),
                     "-" if name.startswith("nlpipe") else f"{agree:.1%}"])
        json_rows.append(rep.row(setting, name, "nlpipe" if name.startswith("nlpipe") else "peer",
                                 {"score": rep.num(r10, ".3f")}, rep.num(s["qps"], ",.1f"),
                                 note=f"index {s['index_s']:.2f} s", short=short_name(name)))
    same_recall = abs(ours["r10"] - ref["r10"]) < 1e-12
    identical = same_sets(ours_ids, ref_ids, ours_scores)
    rank = systems["rank_bm25 BM25Okapi"]
    ratios = {
        "index_vs_rank_bm25": rank["index_s"] / ours["index_s"],
        "query_vs_rank_bm25": ours["qps"] / rank["qps"],
        "index_vs_bm25s": ref["index_s"] / ours["index_s"],
        "query_vs_bm25s": ours["qps"] / ref["qps"],
        "index_vs_bm25s_numba": systems["bm25s BM25(method='lucene', backend='numba')"]["index_s"] / ours["index_s"],
        "query_vs_bm25s_numba": ours["qps"] / systems["bm25s BM25(method='lucene', backend='numba')"]["qps"],
    }
    minutes = (time.perf_counter() - t_part) / 60
    lines = [
        f"## {setting}",
        "",
        f"Corpus: the IMDB train + test reviews cut by `PassageChunker(size=100, overlap=20)`, the first "
        f"{len(texts):,} passages ({np.mean([t.count(' ') + 1 for t in texts]):.0f} words on average). Queries: "
        f"{len(queries):,} known-item queries drawn with `numpy.random.default_rng(0)`: words 30-41 of a passage of at "
        "least 60 words (a stretch no neighbouring passage shares); relevant: that passage (and any neighbour of the "
        "same review that holds the words). Index s: best of "
        f"{args.repeats} builds from the raw texts (tokenizing included; rank_bm25 gets the same bm25s tokens, "
        "their making timed with it). queries/s: best of "
        f"{args.repeats} runs of one batch call with k=10 (query tokenization included; bm25s with its defaults, "
        f"`n_threads=0`); rank_bm25 (one run, the first {n_slow} queries): `get_scores` per query, ranked as its "
        "`get_top_n` does (argsort). All single-threaded except what numpy's BLAS does. Same top-10 as nlpipe: the "
        "share of queries whose top-10 sets agree (a differing 10th document that ties on score counts as agreeing). "
        f"Part time {minutes:.1f} min.",
        "",
        *md_table(["system", "role", "index s", "queries/s", "ms/query", "queries", "R@10", "same top-10 as nlpipe"],
                  rows),
        "",
        f"nlpipe over rank_bm25: indexing {ratios['index_vs_rank_bm25']:.1f}x, querying "
        f"{ratios['query_vs_rank_bm25']:.1f}x faster. nlpipe over bm25s (default numpy backend): indexing "
        f"{ratios['index_vs_bm25s']:.2f}x, querying {ratios['query_vs_bm25s']:.2f}x; over bm25s with "
        f"`backend='numba'`: indexing {ratios['index_vs_bm25s_numba']:.2f}x, querying "
        f"{ratios['query_vs_bm25s_numba']:.2f}x (its compilation is excluded by a warm-up). Tokenizing the "
        f"corpus alone (`bm25s.tokenize(texts, stopwords='en', return_ids=False)`, what rank_bm25 is given; best of "
        f"{args.repeats}) takes {tok_s:.2f} s: every system's index time includes about that much. R@10 nlpipe "
        f"{ours['r10']:.4f}, bm25s {ref['r10']:.4f} "
        f"({'equal' if same_recall else 'different'}); identical top-10 sets {identical:.1%}.",
        "",
    ]
    summary = {"ratios": ratios, "same_recall": same_recall, "identical": identical}
    return lines, json_rows, summary


# ----------------------------------------------------------------------------- (e) scale
def scale_passages(args):
    """(DataFrame of passages, composition notes): IMDB, then 20 Newsgroups, cut until ``--scale-passages``."""
    import pandas as pd

    from nlpipe.datasets import load_20newsgroups, load_imdb
    from nlpipe.retrieval import PassageChunker

    chunker = PassageChunker(size=args.scale_size, overlap=args.scale_overlap)
    parts, total, used = [], 0, []
    for name, loader, split in (("imdb", load_imdb, "train"), ("imdb", load_imdb, "test"),
                                ("20newsgroups", load_20newsgroups, "train"),
                                ("20newsgroups", load_20newsgroups, "test")):
        if total >= args.scale_passages:
            break
        X, _ = loader(split, data_home=args.data_home)
        frame = pd.DataFrame({"id": [f"{name}-{split}-{i}" for i in range(len(X))], "text": list(X)})
        p = chunker.fit_transform(frame)
        take = min(len(p), args.scale_passages - total)
        parts.append(p.iloc[:take])
        total += take
        used.append(f"{name} {split}: {take:,} of {len(p):,} passages ({len(X):,} documents)")
    return pd.concat(parts, ignore_index=True), used


def worker(kind, workdir):
    """One scale system in this (child) process; writes ``<kind>.json`` into ``workdir``."""
    warnings.filterwarnings("ignore")
    workdir = Path(workdir)
    cfg = json.loads((workdir / "config.json").read_text())
    with open(workdir / "passages.pkl", "rb") as fh:  # written by the parent run a moment ago
        passages = pickle.load(fh)
    queries = json.loads((workdir / "queries.json").read_text())
    tune_q, eval_q = queries["tune"], queries["eval"]
    base = rss_mib()
    out = {"kind": kind, "rss_base_mib": base}
    texts = passages["text"].tolist()
    all_ids = passages["id"].to_numpy()
    n_lat = cfg["latency_queries"]

    def finish(extra):
        out.update(extra)
        (workdir / f"{kind}.json").write_text(json.dumps(out))

    if kind == "bm25":
        from nlpipe.retrieval import BM25Retriever

        model, build_s = timed(lambda: BM25Retriever(k=10, verbose=0).fit(passages))
        peak = rss_mib("VmHWM")
        size = sum(a.nbytes for a in (model.term_counts_.data, model.term_counts_.indices, model.term_counts_.indptr))
        post = model._postings
        size_post = post.data.nbytes + post.indices.nbytes + post.indptr.nbytes
        ids, _ = model.retrieve(eval_q, k=10)
        lat = latencies(lambda q: model.retrieve(q, k=10), eval_q[:n_lat["bm25"]])
        finish({"build_s": build_s, "peak_mib": peak, "index_mib": (size + size_post) / 2**20,
                "index_note": f"term counts {size / 2**20:,.0f} MiB + BM25 postings {size_post / 2**20:,.0f} MiB "
                              f"(float32); vocabulary {len(model.vocabulary_):,} terms",
                "ids": ids.tolist(), "lat": lat.tolist()})
    elif kind == "bm25s":
        model, build_s = timed(lambda: bm25s_index(texts))
        peak = rss_mib("VmHWM")
        size = sum(v.nbytes for v in model.scores.values() if hasattr(v, "nbytes"))
        pos, _ = bm25s_retrieve(model, eval_q, 10)
        lat = latencies(lambda q: bm25s_retrieve(model, q, 10), eval_q[:n_lat["bm25"]])
        finish({"build_s": build_s, "peak_mib": peak, "index_mib": size / 2**20,
                "index_note": "its sparse score matrix (float32 data, int32 indices)",
                "ids": all_ids[pos].tolist(), "lat": lat.tolist()})
    elif kind in ("exact", "hnsw"):
        import faiss

        from nlpipe.retrieval import DenseRetriever

        with open(workdir / "encoder.pkl", "rb") as fh:  # the parent's fitted, frozen TF-IDF + SVD encoder
            encoder = pickle.load(fh)
        model, build_s = timed(lambda: DenseRetriever(encoder=encoder, index=kind, k=10, ef_search=128,
                                                      verbose=0).fit(passages))
        peak = rss_mib("VmHWM")
        if kind == "exact":
            index_mib = model.embeddings_.nbytes / 2**20
            ids = {"tune": model.retrieve(tune_q, k=10)[0].tolist(), "eval": model.retrieve(eval_q, k=10)[0].tolist()}
            lat = latencies(lambda q: model.retrieve(q, k=10), eval_q[:n_lat["exact"]])
            # FAISS IndexFlatIP over the same vectors, queries embedded by the same encoder
            E = model.embeddings_
            flat, flat_build = timed(lambda: _flat(faiss, E))

            def flat_query(q):
                Q = np.asarray(model.encoder_.transform(q), dtype=np.float32)
                Q /= np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-12)
                return flat.search(Q, 10)

            f_pos = flat_query(eval_q)[1]
            f_lat = latencies(flat_query, eval_q[:n_lat["exact"]])
            same = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(all_ids[f_pos].tolist(), ids["eval"])]))
            # the embedding alone (the encoder over every passage, as fit does), for the HNSW split
            t0 = time.perf_counter()
            for i in range(0, len(texts), 8192):
                model.encoder_.transform(texts[i: i + 8192])
            embed_s = time.perf_counter() - t0
            finish({"build_s": build_s, "peak_mib": peak, "index_mib": index_mib, "ids": ids["eval"],
                    "tune_ids": ids["tune"], "lat": lat.tolist(), "flat_build_s": flat_build,
                    "flat_lat": f_lat.tolist(), "flat_ids": all_ids[f_pos].tolist(), "flat_same": same,
                    "flat_mib": E.nbytes / 2**20, "embed_s": embed_s, "peak_after_flat_mib": rss_mib("VmHWM"),
                    "index_note": f"embeddings_ ({E.shape[0]:,} x {E.shape[1]} float32)"})
        else:
            exact = json.loads((workdir / "exact.json").read_text())
            index_mib = len(faiss.serialize_index(model.index_)) / 2**20

            def recall_vs(ids_, ref):
                return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(ids_, ref)]))

            curve, chosen = [], None
            for ef in cfg["ef_grid"]:
                model.set_params(ef_search=ef)
                r_tune = recall_vs(model.retrieve(tune_q, k=10)[0].tolist(), exact["tune_ids"])
                r_eval = recall_vs(model.retrieve(eval_q, k=10)[0].tolist(), exact["ids"])
                lat = latencies(lambda q: model.retrieve(q, k=10), eval_q[:n_lat["hnsw"]])
                curve.append({"ef": ef, "recall_tune": r_tune, "recall_eval": r_eval,
                              "median": float(np.median(lat)), "p95": float(np.percentile(lat, 95))})
                if chosen is None and r_tune >= 0.95:
                    chosen = ef
            chosen = chosen or cfg["ef_grid"][-1]
            model.set_params(ef_search=chosen)
            ids = model.retrieve(eval_q, k=10)[0].tolist()
            lat = latencies(lambda q: model.retrieve(q, k=10), eval_q[:n_lat["hnsw"]])
            # the FAISS search alone (queries embedded beforehand), to split nlpipe's latency
            Q = np.asarray(model.encoder_.transform(eval_q[:n_lat["hnsw"]]), dtype=np.float32)
            Q /= np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-12)
            model.index_.hnsw.efSearch = chosen
            raw = []
            for row in Q:
                t0 = time.perf_counter()
                model.index_.search(row[None, :], 10)
                raw.append((time.perf_counter() - t0) * 1000)
            enc_lat = latencies(model.encoder_.transform, eval_q[:n_lat["hnsw"]])  # the query's embedding alone
            finish({"build_s": build_s, "peak_mib": peak, "index_mib": index_mib, "ids": ids, "lat": lat.tolist(),
                    "curve": curve, "ef": chosen, "recall_vs_exact": recall_vs(ids, exact["ids"]),
                    "search_only_median": float(np.median(raw)), "encoder_median": float(np.median(enc_lat)),
                    "index_note": "FAISS IndexHNSWFlat, M=32, efConstruction=80: vectors + graph (serialized size)"})
    else:
        raise ValueError(kind)


def _flat(faiss, E):
    index = faiss.IndexFlatIP(E.shape[1])
    index.add(E)
    return index


def part_scale(args, rep):
    import pandas as pd  # noqa: F401
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    from nlpipe import TransformerEmbedder

    t_part = time.perf_counter()
    (passages, used), chunk_s = timed(lambda: scale_passages(args))
    n = len(passages)
    texts = passages["text"].tolist()
    print(f"[scale] {n:,} passages in {chunk_s:.0f} s: {used}", flush=True)
    sources, ids = passages["source_id"].tolist(), passages["id"].tolist()
    lo, hi = args.scale_size // 4, args.scale_size // 4 + 12
    q_all, rel_all = known_item_queries(texts, sources, ids, args.scale_queries + 200, 1, lo, hi, hi + 4)
    tune_q, eval_q, relevant = q_all[:200], q_all[200:], rel_all[200:]
    words = float(np.mean([t.count(" ") + 1 for t in texts[:: max(1, n // 100_000)]]))

    # the cheap real encoder, fitted on a sample
    rng = np.random.default_rng(0)
    sample_idx = rng.choice(n, size=min(args.svd_sample, n), replace=False)
    sample = [texts[i] for i in sample_idx]
    pipe = make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=2, max_features=50_000, dtype=np.float32),
                         SVDProjection(384, random_state=0))
    _, svd_fit_s = timed(lambda: pipe.fit(sample))

    # MiniLM throughput on a sample of the same passages
    mini_sample = [texts[i] for i in rng.choice(n, size=min(args.minilm_sample, n), replace=False)]
    mini = TransformerEmbedder(model=args.encoder_path, max_length=256, batch_size=64, verbose=0).fit(mini_sample[:8])
    mini.transform(mini_sample[:64])  # warm-up
    _, mini_s = timed(lambda: mini.transform(mini_sample))
    mini_tps = len(mini_sample) / mini_s
    mini_query_ms = float(np.median(latencies(mini.transform, eval_q[:100])))  # one query per call
    mini = None
    gc.collect()
    print(f"[scale] SVD encoder fitted in {svd_fit_s:.0f} s; MiniLM {mini_tps:.0f} passages/s", flush=True)

    results, errors = {}, {}
    with tempfile.TemporaryDirectory(prefix="nlpipe-retrieval-scale-") as tmp:
        tmp = Path(tmp)
        with open(tmp / "passages.pkl", "wb") as fh:
            pickle.dump(passages, fh, protocol=pickle.HIGHEST_PROTOCOL)
        with open(tmp / "encoder.pkl", "wb") as fh:
            pickle.dump(Frozen(pipe), fh, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / "queries.json").write_text(json.dumps({"tune": tune_q, "eval": eval_q, "relevant": relevant}))
        (tmp / "config.json").write_text(json.dumps({"latency_queries": {"bm25": args.lat_bm25, "exact":
                                                                          args.lat_exact, "hnsw": args.lat_hnsw},
                                                     "ef_grid": EF_GRID}))
        del passages
        gc.collect()
        for kind in ("bm25", "bm25s", "exact", "hnsw"):
            if kind == "hnsw" and "exact" not in results:
                errors[kind] = "skipped: the exact run failed"
                continue
            log = tmp / f"{kind}.log"
            t0 = time.perf_counter()
            with open(log, "w") as fh:
                rc = subprocess.call([sys.executable, str(Path(__file__).resolve()), "--_worker", kind,
                                      "--_workdir", str(tmp)], stdout=fh, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - t0
            if rc == 0 and (tmp / f"{kind}.json").is_file():
                results[kind] = json.loads((tmp / f"{kind}.json").read_text())
                results[kind]["wall_s"] = wall
                print(f"[scale] {kind}: build {results[kind]['build_s']:.0f} s, peak {results[kind]['peak_mib']:,.0f} "
                      f"MiB, median {np.median(results[kind]['lat']):.2f} ms ({wall:.0f} s)", flush=True)
            else:
                errors[kind] = f"exit {rc}: " + log.read_text()[-600:].replace("\n", " ")
                print(f"[scale] {kind} failed: {errors[kind]}", flush=True)

    from nlpipe.metrics import recall_at_k

    names = {"bm25": ("nlpipe BM25Retriever()", "nlpipe"), "bm25s": ("bm25s BM25(method='lucene')", "peer"),
             "exact": ("nlpipe DenseRetriever(TF-IDF+SVD 384, index='exact')", "nlpipe"),
             "flat": ("FAISS IndexFlatIP (same vectors)", "peer"),
             "hnsw": ("nlpipe DenseRetriever(TF-IDF+SVD 384, index='hnsw')", "nlpipe")}
    json_rows = []
    setting_sparse = f"(e) {n:,} passages: BM25"
    setting_dense = f"(e) {n:,} passages: dense (TF-IDF+SVD 384)"
    tables = {setting_sparse: [], setting_dense: []}
    exact = results.get("exact")
    for kind in ("bm25", "bm25s", "exact", "flat", "hnsw"):
        src = "exact" if kind == "flat" else kind
        r = results.get(src)
        setting = setting_sparse if kind in ("bm25", "bm25s") else setting_dense
        if r is None:
            tables[setting].append([names[kind][0], names[kind][1], "failed", "", "", "", "", "", "", "",
                                    errors.get(src, "")])
            continue
        if kind == "flat":
            lat, ids_, build = np.asarray(r["flat_lat"]), r["flat_ids"], r["flat_build_s"]
            peak = r["peak_after_flat_mib"]
            size, note = r["flat_mib"], "build: FAISS add of nlpipe's embeddings; peak: in the exact run, after it"
            vs_exact = r["flat_same"]
        else:
            lat, ids_, build, peak, size = np.asarray(r["lat"]), r["ids"], r["build_s"], r["peak_mib"], r["index_mib"]
            note = r["index_note"]
            vs_exact = (1.0 if kind == "exact" else r.get("recall_vs_exact")) if kind in ("exact", "hnsw") else None
            if kind == "hnsw":
                note += f"; ef_search={r['ef']} (chosen on 200 separate tuning queries)"
        r10 = recall_at_k(relevant, ids_, k=10)
        med, p95 = float(np.median(lat)), float(np.percentile(lat, 95))
        tables[setting].append([names[kind][0], names[kind][1], f"{build:,.0f}", f"{peak:,.0f}",
                                f"{peak - r['rss_base_mib']:,.0f}", f"{size:,.0f}", f"{med:.2f}", f"{p95:.2f}",
                                fmt(r10), fmt(vs_exact), note])
        json_rows.append(rep.row(setting, names[kind][0], names[kind][1], {"score": rep.num(r10, ".3f")},
                                 rep.num(1000 / med, ",.0f"),
                                 note=f"median {med:.2f} ms, p95 {p95:.2f} ms, build {build:,.0f} s, peak RSS "
                                      f"{peak:,.0f} MiB", short=short_name(names[kind][0])))
    hnsw = results.get("hnsw")
    curve_rows = [[c["ef"], fmt(c["recall_tune"]), fmt(c["recall_eval"]), f"{c['median']:.2f}", f"{c['p95']:.2f}"]
                  for c in (hnsw["curve"] if hnsw else [])]
    minutes = (time.perf_counter() - t_part) / 60
    lines = [
        f"## (e) Scale: {n:,} passages",
        "",
        f"Passages: `PassageChunker(size={args.scale_size}, overlap={args.scale_overlap})` over "
        + "; ".join(used) + f" ({words:.0f} words per passage on average; chunked in {chunk_s:.0f} s). The data "
        f"folder holds about 18 million words in all, so passages of 100 words (80 new each) would give about 225,000: "
        f"{args.scale_size}-word passages sharing {args.scale_overlap} words are the longest that reach "
        f"{n:,}. Each retriever is fitted on the chunker's DataFrame as it comes (str ids `<doc>#<n>`, metadata "
        "columns source_id / passage / start / end), in its own child process. Build s: `fit` (bm25s: tokenize + "
        "index). Peak RSS: the child's `VmHWM` after the build (so the passages, about "
        f"{results.get('bm25', results.get('exact', {})).get('rss_base_mib', float('nan')):,.0f} MiB loaded before "
        "it, are included; the column after it is the growth over that baseline). Index MiB: the index structures "
        "alone. Latency: one query per `retrieve([query], k=10)` call (embedding the query included), "
        f"{args.lat_bm25} queries for BM25, {args.lat_exact} for exact search, {args.lat_hnsw} for HNSW, after 3 "
        f"warm-up calls. Queries: {len(eval_q):,} known-item queries (`default_rng(1)`: words {lo}-{hi - 1} of a "
        "passage; relevant: that passage and any overlapping neighbour holding the words), and 200 more for tuning "
        "`ef_search` only. R@10 is known-item recall; recall@10 vs exact: the share of exact search's top 10 that the "
        "system returns, on the same vectors.",
        "",
        "Dense encoder for the 1M-vector index (not MiniLM): `make_pipeline(TfidfVectorizer(sublinear_tf=True, "
        f"min_df=2, max_features=50_000, dtype=float32), SVDProjection(384, random_state=0))` fitted on "
        f"{len(sample):,} passages drawn with `default_rng(0)` (in {svd_fit_s:.0f} s), passed as "
        "a `FrozenEstimator(<fitted pipeline>)` so that `fit` does not refit it on the corpus (a subclass whose "
        "`fit` takes `y=None`: `DenseRetriever` calls `encoder.fit(texts)`, which scikit-learn's `FrozenEstimator` "
        "rejects, as it requires `y`). `SVDProjection` (in this script) is `TruncatedSVD(384)` whose `transform` "
        "multiplies by a C-contiguous float32 copy of `components_.T`: the same vectors, but scikit-learn's "
        "`TruncatedSVD.transform` makes scipy copy the 50,000 x 384 matrix on every call, which took 30.8 ms per "
        "query in a first run of this part (nlpipe's HNSW median was then 31.85 ms, the FAISS search in it 1.4 ms). "
        "Its vectors have MiniLM's dimension (384), so index sizes, memory and search times carry over; its "
        "relevance does not.",
        "",
    ]
    for setting, table in tables.items():
        lines += [f"### {setting}", "",
                  *md_table(["system", "role", "build s", "peak RSS MiB", "growth MiB", "index MiB", "median ms",
                             "p95 ms", "R@10 (known item)", "recall@10 vs exact", "note"], table), ""]
    if exact:
        lines += [f"Embedding the {n:,} passages with the TF-IDF + SVD encoder alone took {exact['embed_s']:.0f} s "
                  f"(of the exact build's {exact['build_s']:.0f} s)."
                  + (f" HNSW graph construction: about {hnsw['build_s'] - exact['embed_s']:.0f} s (the HNSW build "
                     "minus that embedding time)." if hnsw else ""), ""]
    if hnsw:
        lines += [f"HNSW `ef_search` (candidates kept while searching): recall@10 vs exact on the 200 tuning and the "
                  f"{len(eval_q):,} evaluation queries, single-query latency on the first {args.lat_hnsw} of the "
                  f"latter. The smallest value reaching 0.95 on the tuning queries was chosen: **{hnsw['ef']}**. "
                  f"Where nlpipe's median {np.median(hnsw['lat']):.2f} ms goes: the FAISS search alone at that "
                  f"setting (queries embedded beforehand) takes a median {hnsw['search_only_median']:.3f} ms, the "
                  f"TF-IDF + SVD encoder's `transform` of one query alone {hnsw['encoder_median']:.2f} ms; the rest is "
                  "nlpipe's wrapper (validation, normalizing, ids).", "",
                  *md_table(["ef_search", "recall@10 vs exact (tuning)", "recall@10 vs exact (evaluation)",
                             "median ms", "p95 ms"], curve_rows), ""]
    hnsw_graph = (hnsw["build_s"] - exact["embed_s"]) if (hnsw and exact) else float("nan")
    mini_build_h = (n / mini_tps + (0 if np.isnan(hnsw_graph) else hnsw_graph)) / 3600
    lines += [f"MiniLM (`TransformerEmbedder(all-MiniLM-L6-v2, max_length=256, batch_size=64)`) embeds "
              f"**{mini_tps:,.0f} passages/s** on these cores ({len(mini_sample):,} of the passages drawn with "
              f"`default_rng(0)`, {mini_s:.0f} s): embedding all {n:,} would take about {n / mini_tps / 3600:.1f} h, so "
              f"a MiniLM HNSW index of them would build in about {mini_build_h:.1f} h (embedding plus the HNSW graph "
              "time above; the graph depends on the dimension, 384 for both, not on the encoder). Embedding one "
              f"query with MiniLM takes a median {mini_query_ms:.1f} ms (100 of the evaluation queries, one per call): "
              "with MiniLM as the encoder, that replaces the TF-IDF + SVD encoder's share of the latencies above.",
              "", f"Part time {minutes:.1f} min.", ""]
    if errors:
        lines += ["Failures: " + "; ".join(f"{k}: `{v}`" for k, v in errors.items()), ""]
    summary = {"hnsw": hnsw, "exact": exact, "n": n, "mini_tps": mini_tps,
               "hnsw_median": float(np.median(hnsw["lat"])) if hnsw else None}
    return lines, json_rows, summary


# ----------------------------------------------------------------------------- results file
BEGIN = "<!-- part:{}:begin -->"
END = "<!-- part:{}:end -->"


def git_state():
    """``<commit>`` of the checkout, with a note when nlpipe/ has uncommitted changes ("" outside git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=False, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "nlpipe"], cwd=root, capture_output=True,
                               text=True, check=False, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + (" + uncommitted changes under nlpipe/" if dirty else "") if head else ""


def old_sections(out):
    """{part: (lines, json rows)} of the last results file, for the parts this run skips."""
    old = {}
    md, js = Path(out), Path(out).with_suffix(".json")
    if not md.is_file():
        return old
    import hashlib

    lines = md.read_text(encoding="utf-8").split("\n")
    rows = []
    if js.is_file():
        payload = json.loads(js.read_text(encoding="utf-8"))
        if payload.get("markdown_sha256") == hashlib.sha256(md.read_bytes()).hexdigest():
            rows = payload["rows"]
    targets = [line for line in lines if line.startswith("| (")]  # the rows of the Targets table
    for part, letter in zip(PARTS, "abcde"):
        b, e = BEGIN.format(part), END.format(part)
        if b in lines and e in lines:
            section = lines[lines.index(b) + 1: lines.index(e)]
            old[part] = (section, [r for r in rows if r.get("part") == part],
                         [t for t in targets if t.startswith(f"| ({letter})")])
    return old


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--out", default=None, help="results .md (default benchmarks/results/retrieval.md; "
                                                     "--quick: a temporary folder)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, a tiny random reader, fewer queries (a few minutes)")
    parser.add_argument("--skip", nargs="+", choices=PARTS, default=[], help="parts not to run")
    parser.add_argument("--cnn-articles", type=int, default=500)
    parser.add_argument("--qa-folds", type=int, default=5, help="held-out articles (folds) of part (c), 1-5")
    parser.add_argument("--qa-max-length", type=int, default=256)
    parser.add_argument("--qa-batch-size", type=int, default=16)
    parser.add_argument("--qa-epochs", type=int, default=2)
    parser.add_argument("--qa-learning-rate", type=float, default=1e-4)
    parser.add_argument("--qa-passages", type=int, default=3, help="RetrievalQA n_passages")
    parser.add_argument("--qa-calibration", type=float, default=0.2,
                        help="share of the training articles' answerable questions kept out of training to pick "
                             "the no-answer threshold")
    parser.add_argument("--qa-train-limit", type=int, default=0, help="train on at most N questions per fold (0: all)")
    parser.add_argument("--qa-test-limit", type=int, default=0, help="test on at most N questions per fold (0: all)")
    parser.add_argument("--speed-passages", type=int, default=100_000)
    parser.add_argument("--speed-queries", type=int, default=1_000)
    parser.add_argument("--speed-slow-queries", type=int, default=200, help="queries for rank_bm25")
    parser.add_argument("--repeats", type=int, default=3, help="builds / query runs per system in part (d)")
    parser.add_argument("--scale-passages", type=int, default=1_000_000)
    parser.add_argument("--scale-size", type=int, default=32)
    parser.add_argument("--scale-overlap", type=int, default=16)
    parser.add_argument("--scale-queries", type=int, default=1_000)
    parser.add_argument("--svd-sample", type=int, default=100_000)
    parser.add_argument("--minilm-sample", type=int, default=5_000)
    parser.add_argument("--lat-bm25", type=int, default=200)
    parser.add_argument("--lat-exact", type=int, default=100)
    parser.add_argument("--lat-hnsw", type=int, default=1_000)
    parser.add_argument("--cache-dir", default=os.environ.get("NLPIPE_BENCH_CACHE", "~/.cache/nlpipe-bench"))
    parser.add_argument("--no-cache", action="store_true", help="fit the readers again and write no cache")
    parser.add_argument("--_worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._worker:
        worker(args._worker, args._workdir)
        return 0
    warnings.filterwarnings("ignore")
    from nlpipe.datasets import get_data_home
    from nlpipe.inference import cpu_features

    defaults = parser.parse_args([])
    if args.quick:  # only where the command line left the default
        quick = dict(cnn_articles=100, qa_folds=1, qa_train_limit=200, qa_test_limit=80, qa_max_length=128,
                     qa_batch_size=16, speed_passages=10_000, speed_queries=200, speed_slow_queries=50, repeats=1,
                     scale_passages=50_000, scale_queries=200, svd_sample=10_000, minilm_sample=500, lat_bm25=50,
                     lat_exact=50, lat_hnsw=200)
        for k, v in quick.items():
            if getattr(args, k) == getattr(defaults, k):
                setattr(args, k, v)
    if not 1 <= args.qa_folds <= 5:
        parser.error("--qa-folds must be 1..5")
    if args.out is None:
        args.out = (str(Path(tempfile.mkdtemp(prefix="nlpipe-retrieval-quick-")) / "retrieval.md") if args.quick
                    else str(Path(__file__).parent / "results" / "retrieval.md"))
    out = Path(args.out).resolve()
    args.data_home = str(get_data_home(args.data_home).resolve())
    args.encoder_path = minilm_path()
    if args.quick:
        from nlpipe.testing import make_tiny_backbone

        args.reader_path, args.reader_id = make_tiny_backbone(), "nlpipe.testing.make_tiny_backbone()"
    else:
        args.reader_path, args.reader_id = args.encoder_path, "all-MiniLM-L6-v2"
    rep = _report()
    t_start, load_start, git_start = time.perf_counter(), load(), git_state()
    features = cpu_features()
    old = old_sections(out)

    sections, json_rows, summaries, part_minutes = {}, [], {}, {}
    runners = {"squad": part_squad, "cnn": part_cnn, "qa": part_qa, "speed": part_speed, "scale": part_scale}
    cmd = shlex.join(["python", "benchmarks/retrieval.py", *rep.without_data_home(sys.argv[1:] if argv is None
                                                                                   else argv)])
    for part in PARTS:
        if part in args.skip:
            continue
        t0, load0 = time.perf_counter(), load()
        lines, rows, summary = runners[part](args, rep)
        part_minutes[part] = (time.perf_counter() - t0) / 60
        lines[2:2] = [f"Run by `{cmd}` on {time.strftime('%Y-%m-%d')} ({part_minutes[part]:.1f} min; load average "
                      f"(1/5/15 min) before {load0}, after {load()}).", ""]
        for r in rows:
            r["part"] = part
        sections[part], summaries[part] = lines, summary
        json_rows += rows
        print(f"=== part {part}: {part_minutes[part]:.1f} min, load {load()}", flush=True)
        if part != [p for p in PARTS if p not in args.skip][-1]:  # a results file after each part: an
            write_results(args, out, cmd, old, sections, json_rows, summaries, part_minutes, features, t_start,
                          load_start, git_start, final=False)  # interrupted run keeps what it measured
    write_results(args, out, cmd, old, sections, json_rows, summaries, part_minutes, features, t_start, load_start,
                  git_start, final=True)
    return 0


def write_results(args, out, cmd, old, sections, json_rows, summaries, part_minutes, features, t_start, load_start,
                  git_start, final):
    """Write the .md and .json: this run's parts, the last results file's sections for the others."""
    import bm25s
    import faiss
    import torch
    import transformers

    import nlpipe

    rep = _report()
    targets = []
    qa = summaries.get("qa")
    if qa:
        for mode, key, label, where in (
                ("threshold", "f1_ans", "F1 on answerable questions", "retrieved"),
                ("threshold", "f1_all", "SQuAD 2.0 F1 over all questions", "retrieved"),
                ("forced", "f1_ans", "F1 on answerable questions, reader forced to answer", "retrieved"),
                ("forced", "f1_ans", "F1 on answerable questions, forced, top passage only", "top1")):
            g, r = qa["scores"][mode, "gold"][key], qa["scores"][mode, where][key]
            ratio = r / g if g else float("nan")
            targets.append((f"(c) RetrievalQA {label} / the reader on the gold paragraph",
                            (f"{ratio:.2f}x" if g else "undefined") + f" ({r:.3f} / {g:.3f})", ">= 0.9x",
                            bool(ratio >= 0.9)))
    sp = summaries.get("speed")
    if sp:
        x = sp["ratios"]
        targets += [
            ("(d) BM25 indexing speed, nlpipe / rank_bm25", f"{x['index_vs_rank_bm25']:.1f}x", ">= 10x",
             x["index_vs_rank_bm25"] >= 10),
            ("(d) BM25 query speed, nlpipe / rank_bm25", f"{x['query_vs_rank_bm25']:.1f}x", ">= 10x",
             x["query_vs_rank_bm25"] >= 10),
            ("(d) BM25 indexing speed, nlpipe / bm25s", f"{x['index_vs_bm25s']:.2f}x", ">= 0.8x",
             x["index_vs_bm25s"] >= 0.8),
            ("(d) BM25 query speed, nlpipe / bm25s", f"{x['query_vs_bm25s']:.2f}x", ">= 0.8x",
             x["query_vs_bm25s"] >= 0.8),
            ("(d) BM25 R@10 equals bm25s's", f"{'equal' if sp['same_recall'] else 'different'}; identical top-10 "
             f"sets {sp['identical']:.1%}", "equal", sp["same_recall"]),
        ]
    for part in ("squad", "cnn"):
        rows = summaries.get(part)
        if rows:
            ours = next(r for r in rows if r["system"].startswith("nlpipe BM25"))
            peer = next(r for r in rows if r["system"].startswith("bm25s"))
            same = all(abs(ours["scores"][k] - peer["scores"][k]) < 1e-12 for k in ours["scores"])
            targets.append((f"({'a' if part == 'squad' else 'b'}) BM25 R@1/R@5/R@10/MRR@10 equal bm25s's",
                            ", ".join(f"{ours['scores'][k]:.3f}/{peer['scores'][k]:.3f}" for k in ("r1", "r5", "r10",
                                                                                                  "mrr")),
                            "equal", same))
            # The fusion target, on what a user gets: the default blend, untuned; the CV-tuned row beside it.
            dense = next(r for r in rows if r["system"].startswith("nlpipe DenseRetriever"))
            best = max(ours["scores"]["r1"], dense["scores"]["r1"])
            for hybrid in [r for r in rows if r["system"].startswith("nlpipe HybridRetriever(fusion='blend'")]:
                which = "blend, weight tuned by CV" if "tuned" in hybrid["system"] else "default blend"
                targets.append((f"({'a' if part == 'squad' else 'b'}) hybrid R@1 ({which}) vs the better of BM25 and "
                                "dense", f"{hybrid['scores']['r1']:.3f} vs {best:.3f}", ">=",
                                hybrid["scores"]["r1"] >= best))
    sc = summaries.get("scale")
    if sc and sc["hnsw"]:
        h = sc["hnsw"]
        targets.append((f"(e) HNSW median query latency at recall >= 0.95 of exact search ({sc['n']:,} passages, "
                        f"ef_search={h['ef']})", f"{sc['hnsw_median']:.2f} ms at recall {h['recall_vs_exact']:.3f}",
                        "<= 20 ms at >= 0.95", sc["hnsw_median"] <= 20 and h["recall_vs_exact"] >= 0.95))

    # ------------------------------------------------------------------ write
    total_min = (time.perf_counter() - t_start) / 60
    import importlib.metadata as md

    flags = " ".join(features["flags"]) or "unknown"
    carried = [p for p in PARTS if p not in sections and p in old]
    pending = [p for p in PARTS if p not in args.skip and p not in sections]
    lines = [
        "# Retrieval: BM25, dense and hybrid retrievers, retrieve-then-read QA, scale (issue #20)",
        "",
        f"Generated by `{cmd}` (" + ("total" if final else "in progress, so far") + f" {total_min:.1f} min)."
        + (f" Sections {', '.join(PART_TITLES[p].split(' ')[0] for p in carried)} were not run "
           + ("this time" if final else "yet") + ": they are carried over from the previous results file."
           if carried else "")
        + (f" Not run yet: {', '.join(PART_TITLES[p].split(' ')[0] for p in pending)}." if pending else ""),
        f"Machine: {os.cpu_count()} CPUs, **{features['model']}**, ISA flags: {flags}; no GPU. Python "
        f"{platform.python_version()}, nlpipe {nlpipe.__version__}"
        + (f" (git {git_start})" if git_start else "") + f", torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), transformers {transformers.__version__}, faiss {faiss.__version__}, "
        f"bm25s {bm25s.__version__}, rank_bm25 {md.version('rank-bm25')}, scikit-learn {md.version('scikit-learn')}. "
        f"Load average (1/5/15 min) at start {load_start}, at end {load()}: the machine is a shared VM, so timings "
        "are noisy; ratios within one part are what to read."
        + ("" if not part_minutes else " Part times: " + ", ".join(f"{p} {m:.1f} min" for p, m in part_minutes.items())
           + "."),
        "",
        "## Targets",
        "",
        *md_table(["measure", "value", "target", "met"], []),
        # this run's targets and those of the carried-over parts (as that run printed them), in part order
        *sorted(md_table(["m", "v", "t", "ok"], [(a, b, c, verdict(d)) for a, b, c, d in targets])[2:]
                + [t for p in carried for t in old[p][2]], key=lambda t: t[:5]),
        "",
    ]
    json_rows = list(json_rows)
    for part in PARTS:
        if part in sections:
            lines += [BEGIN.format(part), *sections[part], END.format(part), ""]
        elif part in old:
            lines += [BEGIN.format(part), *old[part][0], END.format(part), ""]
            json_rows += old[part][1]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    rep.write_json(out, "retrieval", json_rows, cmd)
    if final:
        print(text)
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
