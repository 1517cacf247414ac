"""Retrieval: BM25 (against bm25s), dense (exact, HNSW, Dask), hybrid fusion, chunking, ranking metrics,
retrieve-then-read QA, and what a saved index may and may not carry."""

import copy
import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

import nlpipe
from nlpipe import ExtractiveQuestionAnswerer, TransformerEmbedder
from nlpipe.metrics import get_scorer, mrr_at_k, ndcg_at_k, recall_at_k
from nlpipe.retrieval import BM25Retriever, DenseRetriever, HybridRetriever, PassageChunker, RetrievalQA
from nlpipe.testing import make_tiny_backbone, make_tiny_causal_lm

DOCS = [
    "The Eiffel Tower stands in Paris, the capital of France.",
    "The Nile is the longest river in Africa and flows into the Mediterranean.",
    "Mount Everest is the highest mountain on Earth, in the Himalayas.",
    "The Amazon rainforest covers much of Brazil and Peru.",
    "Tokyo is the capital of Japan and its largest city.",
    "The Great Wall of China is thousands of kilometres long.",
    "Penguins live in the southern hemisphere, mostly in Antarctica.",
    "The Pacific is the largest and deepest ocean.",
]
QUERIES = ["Which river is the longest in Africa?", "highest mountain on Earth", "capital of Japan",
           "deepest ocean", "where do penguins live"]
GOLD = [1, 2, 4, 7, 6]


@pytest.fixture(scope="module")
def backbone():
    return make_tiny_backbone()


@pytest.fixture
def encoder(backbone):
    return TransformerEmbedder(model=backbone, verbose=0)


def _lsa(dim=16):
    """A cheap real encoder (TF-IDF + SVD): any scikit-learn transformer from texts to dense vectors works."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), TruncatedSVD(dim, random_state=0))


# ---------------------------------------------------------------------------- BM25


def test_bm25_equals_bm25s_on_the_same_tokenization():
    import bm25s

    reference = bm25s.BM25(method="lucene", k1=1.2, b=0.6)
    reference.index(bm25s.tokenize(DOCS, stopwords="en", show_progress=False), show_progress=False)
    ref_ids, ref_scores = reference.retrieve(bm25s.tokenize(QUERIES, stopwords="en", show_progress=False), k=3,
                                             show_progress=False)
    ours = BM25Retriever(k=3, k1=1.2, b=0.6, verbose=0).fit(DOCS)
    ids, scores = ours.retrieve(QUERIES)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)
    assert (ids[:, 0] == ref_ids[:, 0]).all()
    assert ids[:, 0].tolist() == GOLD


def test_bm25_add_equals_one_fit_and_keeps_ids():
    whole = BM25Retriever(verbose=0).fit(DOCS, ids=[f"d{i}" for i in range(len(DOCS))])
    grown = BM25Retriever(verbose=0).fit(DOCS[:5], ids=[f"d{i}" for i in range(5)])
    grown.add(DOCS[5:], ids=[f"d{i}" for i in range(5, len(DOCS))])
    for a, b in zip(whole.retrieve(QUERIES, k=4), grown.retrieve(QUERIES, k=4)):
        np.testing.assert_array_equal(a, b) if a.dtype == object else np.testing.assert_allclose(a, b, rtol=1e-6)
    assert grown.n_documents_ == len(DOCS) and len(grown.documents_) == len(DOCS)
    with pytest.raises(ValueError, match="str ids: pass ids="):
        grown.add(["one more"])
    with pytest.raises(ValueError, match="duplicate ids.*d0"):
        grown.add(["again"], ids=["d0"])
    with pytest.raises(TypeError, match="int but the index holds str"):
        grown.add(["again"], ids=[99])
    positional = BM25Retriever(verbose=0).fit(DOCS[:2]).add(["a new mountain text"])
    assert positional.ids_.tolist() == [0, 1, 2]


def test_dataframe_corpus_ids_and_metadata_travel_with_results():
    frame = pd.DataFrame({"body": DOCS, "doc": [f"doc-{i}" for i in range(len(DOCS))],
                          "year": np.arange(len(DOCS)) + 2000, "source": ["atlas"] * len(DOCS)})
    bm25 = BM25Retriever(k=2, text_column="body", id_column="doc", verbose=0).fit(frame)
    table = bm25.search(QUERIES[:2])
    assert table[["query", "rank"]].values.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    first = table.iloc[0]
    assert first["id"] == "doc-1" and first["body"] == DOCS[1] and first["year"] == 2001
    assert first["source"] == "atlas"
    assert bm25.predict(QUERIES[:1]).dtype == object


@pytest.mark.parametrize("X, ids, error, needle", [
    (pd.DataFrame({"a": DOCS, "b": DOCS}), None, ValueError, "no 'text' column"),
    (DOCS, ["x"] * len(DOCS), ValueError, "duplicate ids"),
    (DOCS, list(range(len(DOCS) - 1)), ValueError, "7 ids for 8 documents"),
    (DOCS, [0, "one"] + list(range(2, len(DOCS))), TypeError, "ids\\[1\\] is str"),
    (DOCS, [1.5] * len(DOCS), TypeError, "ids\\[0\\] is float"),
    (DOCS[:2] + [None], None, ValueError, "X\\[2\\] is a missing value"),
])
def test_bad_corpora_are_named(X, ids, error, needle):
    with pytest.raises(error, match=needle):
        BM25Retriever(verbose=0).fit(X, ids=ids)


def test_k_is_checked_and_capped_by_the_corpus():
    bm25 = BM25Retriever(k=50, verbose=0).fit(DOCS)
    assert bm25.predict(QUERIES).shape == (len(QUERIES), len(DOCS))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be a positive int"):
            bm25.retrieve(QUERIES, k=bad)


def test_a_query_without_known_words_scores_zero_everywhere():
    ids, scores = BM25Retriever(k=3, verbose=0).fit(DOCS).retrieve(["zzz qqq", ""])
    assert (scores == 0).all() and ids.tolist() == [[0, 1, 2], [0, 1, 2]]


# ---------------------------------------------------------------------------- dense


def test_dense_exact_and_hnsw_agree_and_grow(encoder):
    exact = DenseRetriever(encoder=encoder, k=3, index="exact", verbose=0).fit(DOCS)
    hnsw = DenseRetriever(encoder=encoder, k=3, index="hnsw", verbose=0).fit(DOCS)
    assert exact.index_type_ == "exact" and hnsw.index_type_ == "hnsw" and not hasattr(hnsw, "embeddings_")
    np.testing.assert_array_equal(exact.predict(QUERIES), hnsw.predict(QUERIES))
    np.testing.assert_allclose(exact.retrieve(QUERIES)[1], hnsw.retrieve(QUERIES)[1], rtol=1e-4, atol=1e-5)
    # an exact query for a document's own text finds it first, with cosine 1
    ids, scores = exact.retrieve(DOCS, k=1)
    assert ids[:, 0].tolist() == list(range(len(DOCS))) and np.allclose(scores[:, 0], 1, atol=1e-5)
    for index in (exact, hnsw):
        index.add(["Quokkas are small marsupials from Australia."])
        assert index.predict(["Quokkas are small marsupials from Australia."])[0, 0] == len(DOCS)


def test_dense_takes_any_text_encoder_and_normalizes():
    dense = DenseRetriever(encoder=_lsa(4), k=2, verbose=0).fit(DOCS)
    assert dense.n_features_ == 4
    # an encoder fitted elsewhere (on a sample of a large corpus) goes in frozen and is not refitted
    fitted = _lsa(4).fit(DOCS[:6])
    frozen = DenseRetriever(encoder=FrozenEstimator(fitted), verbose=0).fit(DOCS)
    np.testing.assert_allclose(frozen.embeddings_[:1] * np.linalg.norm(fitted.transform(DOCS[:1])),
                               fitted.transform(DOCS[:1]), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(dense.embeddings_, axis=1), 1, rtol=1e-5)
    assert dense.predict([DOCS[3]])[0, 0] == 3


def test_dense_embeds_across_dask_workers_when_a_client_is_active(caplog):
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(0)
    words = np.array("alpha beta gamma delta river mountain ocean city forest desert king queen".split())
    corpus = [" ".join(rng.choice(words, 8)) for _ in range(9000)]  # more than one embedding block
    serial = DenseRetriever(encoder=_lsa(8), k=5, index="exact", verbose=0).fit(corpus)
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None):
        with caplog.at_level(logging.INFO, logger="nlpipe.retrieval"):
            spread = DenseRetriever(encoder=_lsa(8), k=5, index="exact", verbose=0).fit(corpus)
    assert any("Dask workers" in r.getMessage() for r in caplog.records)
    np.testing.assert_allclose(serial.embeddings_, spread.embeddings_, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- hybrid


def test_hybrid_fusion_follows_its_weight(encoder):
    dense = DenseRetriever(encoder=encoder, verbose=0)
    sparse_only = HybridRetriever(dense=dense, weight=0.0, k=3, verbose=0).fit(DOCS)
    dense_only = HybridRetriever(dense=dense, weight=1.0, k=3, fusion="blend", verbose=0).fit(DOCS)
    bm25 = BM25Retriever(k=3, verbose=0).fit(DOCS)
    plain_dense = DenseRetriever(encoder=encoder, k=3, verbose=0).fit(DOCS)
    assert sparse_only.predict(QUERIES)[:, 0].tolist() == bm25.predict(QUERIES)[:, 0].tolist() == GOLD
    np.testing.assert_array_equal(dense_only.predict(QUERIES), plain_dense.predict(QUERIES))
    # a document both rank first wins the fusion, whichever the fusion
    for fusion in ("blend", "rrf"):
        both = HybridRetriever(dense=dense, fusion=fusion, k=1, verbose=0).fit(DOCS)
        assert both.predict([DOCS[4]])[0, 0] == 4
    hybrid = HybridRetriever(dense=dense, k=2, verbose=0).fit(DOCS)
    hybrid.add(["Quokkas are small marsupials from Australia."])
    assert hybrid.predict(["quokkas marsupials Australia"])[0, 0] == len(DOCS)


@pytest.mark.parametrize("fusion", ["blend", "rrf"])
def test_hybrid_ranks_each_query_of_a_batch_as_alone(fusion):
    # Queries whose BM25 matches differ in number (none at all for the last): each row is fused on its own.
    queries = QUERIES + ["capital city of France and Japan", "zzz qqq"]
    hybrid = HybridRetriever(dense=DenseRetriever(encoder=_lsa(4), verbose=0), fusion=fusion, k=4,
                             verbose=0).fit(DOCS)
    ids, scores = hybrid.retrieve(queries)
    for i, query in enumerate(queries):
        one_ids, one_scores = hybrid.retrieve([query])
        assert list(one_ids[0]) == list(ids[i]) and np.allclose(one_scores[0], scores[i])
    assert ids[:5, 0].tolist() == GOLD


def test_hybrid_refuses_foreign_retrievers():
    with pytest.raises(TypeError, match="fuses nlpipe retrievers"):
        HybridRetriever(dense=FrozenEstimator(BM25Retriever(verbose=0).fit(DOCS)), verbose=0).fit(DOCS)


# ---------------------------------------------------------------------------- chunking


@pytest.mark.parametrize("unit", ["words", "sentences"])
def test_chunks_are_exact_slices_with_overlap(unit):
    doc = " ".join(DOCS)
    passages = PassageChunker(unit=unit, size=20, overlap=6).fit_transform(
        pd.DataFrame({"text": [doc, ""], "id": ["atlas", "empty"], "lang": ["en", "en"]}))
    assert set(passages.columns) >= {"id", "source_id", "passage", "text", "start", "end", "lang"}
    atlas = passages[passages.source_id == "atlas"]
    assert all(doc[s:e] == t for t, s, e in zip(atlas.text, atlas.start, atlas.end))
    assert all(len(t.split()) <= 20 for t in atlas.text)
    assert atlas.id.tolist() == [f"atlas#{n}" for n in range(len(atlas))]
    assert (atlas.start.diff().dropna() > 0).all()
    if unit == "words":  # sentences share whole sentences only, and these are all longer than 6 words
        assert (atlas.start.iloc[1:].values < atlas.end.iloc[:-1].values).all()
    covered = np.zeros(len(doc), dtype=bool)
    for s, e in zip(atlas.start, atlas.end):
        covered[s:e] = True
    assert all(covered[i] or doc[i].isspace() for i in range(len(doc)))  # every word is in some passage
    empty = passages[passages.source_id == "empty"]
    assert empty[["text", "start", "end"]].values.tolist() == [["", 0, 0]]
    if unit == "sentences":
        sentences_ends = {doc.find(d) + len(d) for d in DOCS}
        assert set(atlas.end) <= sentences_ends  # whole sentences (none is longer than 20 words)


def test_chunker_checks_overlap_and_feeds_a_retriever():
    with pytest.raises(ValueError, match="overlap=5 must be less than size=5"):
        PassageChunker(size=5, overlap=5).fit(DOCS)
    passages = PassageChunker(size=6, overlap=2).fit_transform(DOCS)
    bm25 = BM25Retriever(k=1, verbose=0).fit(passages)
    hit = bm25.search(["longest river in Africa"]).iloc[0]
    assert hit["source_id"] == 1 and hit["id"].startswith("1#")


# ---------------------------------------------------------------------------- metrics


def test_ranking_metrics_by_hand():
    ranking = np.array([["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]], dtype=object)
    relevant = ["a", ["a", "b"], "z"]
    assert recall_at_k(relevant, ranking, k=1) == pytest.approx((1 + 0 + 0) / 3)
    assert recall_at_k(relevant, ranking, k=2) == pytest.approx((1 + 0.5 + 0) / 3)
    assert mrr_at_k(relevant, ranking, k=3) == pytest.approx((1 + 1 / 2 + 0) / 3)
    ideal2 = 1 + 1 / np.log2(3)
    assert ndcg_at_k(relevant, ranking, k=3) == pytest.approx((1 + (1 / np.log2(3) + 1 / np.log2(4)) / ideal2 + 0) / 3)
    with pytest.raises(ValueError, match="y_true has 2 queries but the ranking has 3"):
        recall_at_k(relevant[:2], ranking)
    with pytest.raises(ValueError, match="y_true\\[1\\] is empty"):
        mrr_at_k(["a", [], "b"], ranking)
    with pytest.raises(ValueError, match="2-D ranking"):
        ndcg_at_k(["a"], ["a", "b"])


def test_scorers_rate_a_fitted_retriever():
    bm25 = BM25Retriever(k=1, verbose=0).fit(DOCS)
    assert get_scorer("recall@1")(bm25, QUERIES, GOLD) == 1.0
    assert get_scorer("mrr@5")(bm25, QUERIES, [0] * len(QUERIES)) < 1.0
    assert get_scorer("ndcg@3")(bm25, QUERIES, GOLD) == 1.0
    assert bm25.score(QUERIES, GOLD) == 1.0
    assert pickle.loads(pickle.dumps(get_scorer("recall@5")))(bm25, QUERIES, GOLD) == 1.0  # joblib workers
    with pytest.raises(ValueError):
        get_scorer("recall@0")


# ---------------------------------------------------------------------------- retrieve, then read


@pytest.fixture(scope="module")
def reader(backbone):
    questions = [(q, DOCS[g]) for q, g in zip(QUERIES, GOLD)]
    answers = ["The Nile", "Mount Everest", "Tokyo", "The Pacific", "Antarctica"]
    return ExtractiveQuestionAnswerer(model=backbone, epochs=8, learning_rate=5e-3, batch_size=4, random_state=0,
                                      verbose=0).fit(questions * 2, answers * 2)


def test_answers_come_with_their_passage_and_offsets(reader):
    passages = PassageChunker(size=8, overlap=2)
    qa = RetrievalQA(reader=FrozenEstimator(reader), chunker=passages, n_passages=2, verbose=0).fit(
        pd.DataFrame({"text": DOCS, "id": [f"doc{i}" for i in range(len(DOCS))]}))
    assert qa.reader_.estimator is reader  # a frozen reader is used as it is
    table = qa.predict_sources(QUERIES)
    assert table["question"].tolist() == QUERIES
    assert table["answer"].tolist() == qa.predict(QUERIES)
    for row in table.itertuples():
        if row.answer:
            assert row.passage[row.answer_start:row.answer_end] == row.answer
            doc = DOCS[int(row.source_id[3:])]
            assert doc[row.start + row.answer_start:row.start + row.answer_end] == row.answer
    assert table["source_id"].tolist()[:3] == ["doc1", "doc2", "doc4"]
    assert 0.0 <= qa.score(QUERIES, ["The Nile", "Mount Everest", "Tokyo", "The Pacific", "Antarctica"]) <= 1.0


def test_no_answer_when_no_span_is_good_enough(reader):
    strict = RetrievalQA(reader=FrozenEstimator(reader), min_score=1.0, verbose=0).fit(DOCS)
    table = strict.predict_sources(QUERIES)
    assert table["answer"].tolist() == [""] * len(QUERIES)
    assert (table["answer_start"] == -1).all() and table["passage"].notna().all()


def test_fit_with_questions_and_answers_trains_the_reader_on_retrieved_passages(backbone, caplog):
    reader = ExtractiveQuestionAnswerer(model=backbone, epochs=1, batch_size=4, random_state=0,
                                        allow_no_answer=True, verbose=0)
    qa = RetrievalQA(reader=reader, n_passages=2, verbose=0)
    with caplog.at_level(logging.WARNING, logger="nlpipe.retrieval"):
        qa.fit(DOCS, QUERIES + ["Who painted the Mona Lisa?"], ["The Nile", "Mount Everest", "Tokyo",
                                                               "The Pacific", "not in any passage", ""])
    assert len(qa.reader_.history_) == 1  # trained
    assert any("1 of 6 training answers are in none" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="both questions and answers"):
        clone(qa).fit(DOCS, QUERIES)
    with pytest.raises(ValueError, match="different lengths"):
        clone(qa).fit(DOCS, QUERIES, ["The Nile"])


def test_generative_and_prompted_readers(backbone):
    from nlpipe import GenerativeQuestionAnswerer, TextGenerator

    lm = make_tiny_causal_lm()
    for reader in (GenerativeQuestionAnswerer(model=lm, max_new_tokens=3, verbose=0),
                   TextGenerator(model=lm, max_new_tokens=3, epochs=0, verbose=0)):
        qa = RetrievalQA(reader=reader, n_passages=2, verbose=0).fit(DOCS)
        table = qa.predict_sources(QUERIES[:2])
        assert table["answer"].map(type).eq(str).all() and table["score"].isna().all()
        assert table["passage_id"].tolist()[0] in (1, qa.retriever_.predict(QUERIES[:1])[0, 1])


# ---------------------------------------------------------------------------- files


def _hnsw(encoder):
    return DenseRetriever(encoder=encoder, index="hnsw", verbose=0).fit(DOCS * 4)


def _tamper_links(est):
    import faiss

    links = faiss.vector_to_array(est.index_.hnsw.neighbors)
    links[3] = 10**6
    faiss.copy_array_to_vector(links, est.index_.hnsw.neighbors)


def _tamper_counts(est):
    from scipy import sparse

    counts = est.term_counts_
    indices = counts.indices.copy()
    indices[0] = counts.shape[1] + 100
    est.term_counts_ = sparse.csr_matrix((counts.data, indices, counts.indptr), shape=counts.shape)


@pytest.mark.parametrize("make, tamper, needle", [
    (lambda enc: BM25Retriever(verbose=0).fit(DOCS), _tamper_counts, "term_counts_: indices must be <"),
    (_hnsw, _tamper_links, "links outside its vectors|out of range"),  # FAISS >= 1.11 checks links too
    (_hnsw, lambda est: setattr(est, "n_documents_", 3), "the index holds 32 vectors"),
    (lambda enc: DenseRetriever(encoder=enc, verbose=0).fit(DOCS),
     lambda est: setattr(est, "embeddings_", est.embeddings_[:2]), "embeddings_"),
    (lambda enc: BM25Retriever(verbose=0).fit(DOCS), lambda est: setattr(est, "n_documents_", 10**12),
     "one row per document"),
])
def test_tampered_indexes_are_refused_on_load(tmp_path, encoder, make, tamper, needle):
    est = make(encoder)
    tamper(est)
    path = nlpipe.save(est, tmp_path / "index.nlpipe")
    with pytest.raises(ValueError, match=needle):
        nlpipe.load(path)
    with pytest.raises(ValueError, match=needle):
        pickle.loads(pickle.dumps(est))


def test_packed_texts_are_checked(tmp_path):
    est = BM25Retriever(verbose=0).fit(DOCS)
    state = est.__getstate__()
    for edit, needle in (
        (lambda s: s["documents_"][0][2].__setitem__("offsets", s["documents_"][0][2]["offsets"][::-1].copy()),
         "offsets do not cut"),
        (lambda s: s["documents_"][0][2].__setitem__("utf8", np.frombuffer(b"\xff" * 4, np.uint8).copy()),
         "offsets do not cut|not valid UTF-8"),
        (lambda s: s.__setitem__("ids_", {"ints": np.zeros(len(DOCS), np.int64)}), "duplicate ids"),
    ):
        bad = copy.deepcopy(state)
        edit(bad)
        with pytest.raises(ValueError, match=needle):
            BM25Retriever.__new__(BM25Retriever).__setstate__(bad)


def test_saved_hnsw_index_answers_as_before(tmp_path, encoder):
    est = _hnsw(encoder)
    loaded = nlpipe.load(nlpipe.save(est, tmp_path / "hnsw.nlpipe"))
    np.testing.assert_array_equal(loaded.retrieve(QUERIES)[0], est.retrieve(QUERIES)[0])
    assert type(loaded.index_).__name__ == "IndexHNSWFlat"
