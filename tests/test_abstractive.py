"""AbstractiveSummarizer on tiny local models: both architectures learn a copy task, batching, chunking, persistence."""

import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("spacy")

from nlpipe import AbstractiveSummarizer, neural  # noqa: E402
from nlpipe.exceptions import DeviceWarning  # noqa: E402
from nlpipe.metrics import rouge  # noqa: E402
from nlpipe.testing import make_summarization, make_tiny_backbone, make_tiny_causal_lm  # noqa: E402

X, _ = make_summarization(12)
FIRST = [doc.split(". ")[0] + "." for doc in X]  # the task: copy the first sentence
COPY = {"epochs": 60, "learning_rate": 3e-3, "batch_size": 4, "max_new_tokens": 24, "random_state": 0, "verbose": 0}


@pytest.fixture(scope="module")
def bert_on_docs(tmp_path_factory):
    # A WordPiece vocabulary of the documents' words keeps sequences short enough to learn in seconds.
    return make_tiny_backbone(tmp_path_factory.mktemp("bert"), corpus=X, vocab_size=300)


@pytest.fixture(scope="module")
def _copiers(bert_on_docs):
    return {
        "encoder-decoder": AbstractiveSummarizer(model=bert_on_docs, **COPY).fit(X, FIRST),
        "causal": AbstractiveSummarizer(model=make_tiny_causal_lm(), **{**COPY, "epochs": 10,
                                                                       "learning_rate": 1e-2}).fit(X, FIRST),
    }


@pytest.fixture(params=["encoder-decoder", "causal"])
def copier(request, _copiers):
    return copy.deepcopy(_copiers[request.param])


def test_both_architectures_learn_to_copy_the_first_sentence(copier):
    assert copier.architecture_ in ("encoder-decoder", "causal")
    assert copier.history_[-1]["train_loss"] < copier.history_[0]["train_loss"] / 2
    scores = rouge(FIRST, copier.predict(X), rouge_types=["rouge1", "rouge2"])
    assert scores["rouge1"] > 0.9 and scores["rouge2"] > 0.8, scores
    assert copier.score(X, FIRST) == pytest.approx(scores["rouge2"])


def test_batched_generation_matches_one_at_a_time(copier):
    # Left padding (decoder-only) and right padding (encoder-decoder) must not change any output.
    batched = copier.set_params(batch_size=5).predict(X)
    single = copier.set_params(batch_size=1).predict(X)
    assert batched == single


def test_untrained_fit_keeps_the_pretrained_weights(bert_on_docs):
    causal = make_tiny_causal_lm()
    pretrained = AbstractiveSummarizer(model=causal, epochs=0, verbose=0).fit(X, FIRST).model_.state_dict()
    loaded = AbstractiveSummarizer(model=causal, verbose=0).fit(X).model_.state_dict()
    tuned = AbstractiveSummarizer(model=causal, epochs=1, learning_rate=1e-2, verbose=0).fit(X, FIRST)
    for name, value in pretrained.items():
        torch.testing.assert_close(loaded[name], value)
    assert any(not torch.equal(tuned.model_.state_dict()[k], v) for k, v in pretrained.items())
    assert tuned.history_ and not AbstractiveSummarizer(model=causal, verbose=0).fit(X).history_


def test_causal_prompts_use_the_chat_template_and_labels_cover_only_the_answer():
    s = AbstractiveSummarizer(model=make_tiny_causal_lm(), epochs=1, max_new_tokens=16, verbose=0,
                              random_state=0).fit(X[:2], FIRST[:2])
    assert s.architecture_ == "causal" and s.chat_template_
    prompt = s.tokenizer_.decode(s._prompt_ids(X[:1])[0])
    assert prompt.startswith("<|im_start|>user\nSummarize") and prompt.endswith("<|im_start|>assistant\n")
    assert X[0] in prompt
    ids, labels = s._training_pairs(neural, X[:2], None, FIRST[:2])
    for row, lab, ref in zip(ids, labels, FIRST):
        assert len(row) == len(lab)
        answer = [t for t in lab if t != neural.IGNORE_INDEX]
        assert lab[: len(row) - len(answer)] == [neural.IGNORE_INDEX] * (len(row) - len(answer))
        assert answer == row[len(row) - len(answer):]
        assert answer[-1] == s.tokenizer_.eos_token_id
        assert s.tokenizer_.decode(answer, skip_special_tokens=True) == ref
    plain = AbstractiveSummarizer(model=make_tiny_causal_lm(), chat_template=False, verbose=0).fit(X[:1])
    assert not plain.chat_template_ and plain.tokenizer_.decode(plain._prompt_ids(X[:1])[0]).endswith("Summary:")


def test_encoder_decoder_is_warm_started_from_the_encoder(bert_on_docs):
    from transformers import AutoModel

    s = AbstractiveSummarizer(model=bert_on_docs, verbose=0).fit(X[:2])
    assert s.architecture_ == "encoder-decoder"
    encoder = AutoModel.from_pretrained(bert_on_docs)
    torch.testing.assert_close(s.model_.encoder.embeddings.word_embeddings.weight,
                               encoder.embeddings.word_embeddings.weight)
    torch.testing.assert_close(s.model_.decoder.bert.embeddings.word_embeddings.weight,
                               encoder.embeddings.word_embeddings.weight)
    labels = neural.target_ids(s.tokenizer_, s.model_, [FIRST[0]], 64)[0]
    tok = s.tokenizer_
    assert labels[0] != tok.cls_token_id and labels[-1] == tok.sep_token_id  # [CLS] is the decoder start
    assert s.model_.generation_config.decoder_start_token_id == tok.cls_token_id


def test_long_documents_are_truncated_to_the_window():
    s = AbstractiveSummarizer(model=make_tiny_causal_lm(), max_length=80, max_new_tokens=10, verbose=0).fit(X[:1])
    long_doc = " ".join(X * 5)
    ids = s._prompt_ids([long_doc])[0]
    assert len(ids) == 80 - 10  # prompt and document fill the window, the summary keeps its share
    assert s.tokenizer_.decode(ids).endswith("<|im_start|>assistant\n")  # the end of the prompt survives
    assert isinstance(s.predict([long_doc])[0], str)


def test_chunked_long_input_summarizes_whole_sentence_chunks_twice(monkeypatch):
    s = AbstractiveSummarizer(model=make_tiny_causal_lm(), max_length=160, max_new_tokens=8, prompt="{text}",
                              chat_template=False, long_input="chunk", verbose=0).fit(X[:1])
    budget = s._budget(*s._frame(), s._reserve())
    long_doc = " ".join(X[:4])
    chunks = s._chunks([long_doc, X[0]], budget)
    assert len(chunks[0]) > 1 and len(chunks[1]) == 1
    assert " ".join(chunks[0]) == long_doc  # every sentence kept, in order
    assert all(len(s._document_ids([c], 10**6)[0]) <= budget for c in chunks[0])
    calls = []
    real = neural.generate_texts

    def spy(model, tokenizer, ids, **kw):
        calls.append(len(ids))
        return real(model, tokenizer, ids, **kw)

    monkeypatch.setattr(neural, "generate_texts", spy)
    out = s.predict([long_doc, X[0]])
    assert calls == [len(chunks[0]) + 1, 1]  # all chunks in one pass, then the one multi-chunk document
    assert len(out) == 2 and all(isinstance(o, str) for o in out)


def test_empty_documents_give_empty_summaries_without_generating(monkeypatch):
    s = AbstractiveSummarizer(model=make_tiny_causal_lm(), max_new_tokens=4, verbose=0).fit(X[:1])
    calls = []
    monkeypatch.setattr(neural, "generate_texts", lambda *a, **k: calls.append(1))
    assert s.predict(["", "  "]) == ["", ""]
    assert not calls


def test_pickle_round_trip_and_gpu_pickle_loads_on_cpu(copier, monkeypatch):
    expected = copier.predict(X[:3])
    restored = pickle.loads(pickle.dumps(copier))
    assert restored.predict(X[:3]) == expected
    assert "_packed" not in vars(restored) and restored.architecture_ == copier.architecture_
    state = copier.__getstate__()
    state["device_"] = "cuda:0"  # as if fitted on a GPU: the weights are CPU bytes either way
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    moved = AbstractiveSummarizer.__new__(AbstractiveSummarizer)
    with pytest.warns(DeviceWarning, match="cuda:0"):
        moved.__setstate__(state)
    assert moved.device_ == torch.device("cpu") and moved.predict(X[:3]) == expected


def test_save_pretrained_folder_loads_in_nlpipe_and_in_transformers(copier, tmp_path):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    expected = copier.predict(X[:3])
    copier.save_pretrained(tmp_path)
    restored = AbstractiveSummarizer.from_pretrained(tmp_path)
    assert restored.predict(X[:3]) == expected
    assert (restored.architecture_, restored.prompt_) == (copier.architecture_, copier.prompt_)
    # Plain transformers generates the same first summary from the same input ids.
    cls = AutoModelForCausalLM if copier.architecture_ == "causal" else AutoModelForSeq2SeqLM
    model, tok = cls.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    ids = torch.tensor([copier._prompt_ids(X[:1])[0]])
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=24)
    if copier.architecture_ == "causal":
        out = out[:, ids.shape[1]:]
    assert tok.decode(out[0], skip_special_tokens=True).strip() == expected[0]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"prompt": "Summarize this."}, "exactly once"),
        ({"prompt": "{text} and {text}"}, "exactly once"),
        ({"chat_template": True, "model": "BERT"}, "chat template"),
        ({"max_length": 20, "max_new_tokens": 16}, "No room for the document"),
        ({"architecture": "causal-lm"}, "architecture"),
        ({"epochs": -1}, "epochs"),
        ({"generation_kwargs": "greedy"}, "generation_kwargs"),
    ],
)
def test_bad_settings_fail_in_fit_with_a_clear_message(params, message, bert_on_docs):
    params = {"model": make_tiny_causal_lm(), "verbose": 0, **params}
    if params["model"] == "BERT":
        params["model"] = bert_on_docs
    est = AbstractiveSummarizer(**params)
    with pytest.raises((ValueError, TypeError), match=message):
        est.fit(X[:2])
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]  # nothing half-fitted


def test_missing_model_names_the_path(tmp_path):
    with pytest.raises(ValueError, match="local directory|hub id"):
        AbstractiveSummarizer(model=str(tmp_path / "nowhere"), verbose=0).fit(X[:1])


def test_fine_tuning_is_reproducible_with_random_state(bert_on_docs):
    a = AbstractiveSummarizer(model=bert_on_docs, **{**COPY, "epochs": 2}).fit(X, FIRST)
    b = AbstractiveSummarizer(model=bert_on_docs, **{**COPY, "epochs": 2}).fit(X, FIRST)
    for (name, va), vb in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        torch.testing.assert_close(va, vb, msg=name)
    np.testing.assert_allclose([h["train_loss"] for h in a.history_], [h["train_loss"] for h in b.history_])


def test_architecture_is_read_from_the_config():
    from transformers import BartConfig, BertConfig, GPT2Config, LlamaConfig

    assert neural.resolve_architecture("auto", BartConfig()) == "seq2seq"
    assert neural.resolve_architecture("auto", BertConfig(architectures=["BertModel"])) == "encoder-decoder"
    assert neural.resolve_architecture("auto", GPT2Config(architectures=["GPT2LMHeadModel"])) == "causal"
    # Configs read from GGUF files carry no architectures: the model type decides.
    assert neural.resolve_architecture("auto", LlamaConfig()) == "causal"
    assert neural.resolve_architecture("auto", BertConfig()) == "encoder-decoder"
    assert neural.resolve_architecture("causal", BertConfig()) == "causal"
