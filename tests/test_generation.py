"""TextGenerator, Translator and the question answerers on tiny local models: each learns a toy task end to end."""

import copy
import pickle
import types

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlpipe import (  # noqa: E402
    ExtractiveQuestionAnswerer,
    GenerativeQuestionAnswerer,
    TextGenerator,
    Translator,
    neural,
)
from nlpipe.metrics import bleu, squad  # noqa: E402
from nlpipe.testing import make_question_answering, make_tiny_backbone, make_tiny_causal_lm  # noqa: E402

# ----------------------------------------------------------------- generation
PROMPTS = ["Name a colour.", "Name a fruit.", "Name an animal.", "Name a city."] * 2
COMPLETIONS = ["blue sky", "green apple", "brown bear", "old paris"] * 2


@pytest.fixture(scope="module")
def _completer():
    return TextGenerator(model=make_tiny_causal_lm(), epochs=15, learning_rate=1e-2, batch_size=4,
                         max_new_tokens=8, random_state=0, verbose=0).fit(PROMPTS, COMPLETIONS)


@pytest.fixture
def completer(_completer):
    return copy.deepcopy(_completer)


def test_causal_model_learns_a_fixed_completion(completer):
    assert completer.architecture_ == "causal"
    assert completer.predict(PROMPTS[:4]) == COMPLETIONS[:4]
    assert completer.score(PROMPTS, COMPLETIONS) == pytest.approx(1.0)


def test_prompt_tokens_are_masked_out_of_the_loss(completer):
    ids, labels = completer._training_pairs(neural, PROMPTS[:2], None, COMPLETIONS[:2])
    for row, lab, completion in zip(ids, labels, COMPLETIONS):
        answer = [t for t in lab if t != neural.IGNORE_INDEX]
        assert lab[: len(row) - len(answer)] == [neural.IGNORE_INDEX] * (len(row) - len(answer))
        assert completer.tokenizer_.decode(answer, skip_special_tokens=True) == completion


def test_prompt_wraps_every_input():
    gen = TextGenerator(model=make_tiny_causal_lm(), prompt="Q: {text}\nA:", chat_template=False,
                        epochs=0, max_new_tokens=2, verbose=0).fit(PROMPTS)
    decoded = gen.tokenizer_.decode(gen._prompt_ids(["Why?"])[0])
    assert decoded == "Q: Why?\nA:"
    with pytest.raises(ValueError, match="prompt must contain '\\{text\\}'"):
        TextGenerator(model=make_tiny_causal_lm(), prompt="no slot", verbose=0).fit(PROMPTS)


def test_sampling_is_reproducible_with_random_state_and_leaves_the_global_rng_alone():
    params = {"model": make_tiny_causal_lm(), "epochs": 0, "max_new_tokens": 12, "do_sample": True, "verbose": 0}
    a = TextGenerator(random_state=1, **params).fit(PROMPTS)
    state = torch.random.get_rng_state()
    first = a.predict(PROMPTS)
    assert torch.equal(state, torch.random.get_rng_state())
    assert a.predict(PROMPTS) == first  # an int seed gives the same draws on every call
    other = TextGenerator(random_state=2, **params).fit(PROMPTS).predict(PROMPTS)
    greedy = TextGenerator(**{**params, "do_sample": False}).fit(PROMPTS).predict(PROMPTS)
    assert other != first and greedy != first


def test_sampling_settings_reach_generate_only_when_sampling():
    gen = TextGenerator(model=make_tiny_causal_lm(), temperature=0.7, top_p=0.9, epochs=0, verbose=0).fit(PROMPTS)
    assert "temperature" not in gen._generation_settings()
    gen.set_params(do_sample=True, generation_kwargs={"top_k": 5})
    assert gen._generation_settings() | {} == {**gen._generation_settings(), "temperature": 0.7, "top_p": 0.9,
                                               "top_k": 5, "do_sample": True}
    for bad in ({"temperature": 0.0}, {"top_p": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TextGenerator(model=make_tiny_causal_lm(), verbose=0, **bad).fit(PROMPTS)


# ---------------------------------------------------------------- translation
# Five words: corpus BLEU needs 4-grams to be non-zero.
SOURCES = ["red car goes very fast", "blue boat sails too slow", "green tree grows so tall",
           "small dog barks quite loud", "old house stands very quiet", "new road runs too long"]
REVERSED = [" ".join(s.split()[::-1]) for s in SOURCES]


@pytest.fixture(scope="module")
def reverser(tmp_path_factory):
    bert = make_tiny_backbone(tmp_path_factory.mktemp("rev"), corpus=SOURCES, vocab_size=200)
    return Translator(model=bert, epochs=60, learning_rate=3e-3, batch_size=3, num_beams=1, max_new_tokens=8,
                      random_state=0, verbose=0).fit(SOURCES, REVERSED)


def test_tiny_seq2seq_learns_word_reversal(reverser):
    assert reverser.architecture_ == "encoder-decoder" and not reverser.language_codes_
    assert reverser.prompt_ == "{text}"
    out = reverser.predict(SOURCES)
    assert bleu(REVERSED, out) > 0.8, out
    assert reverser.score(SOURCES, REVERSED) == pytest.approx(bleu(REVERSED, out))


def test_translator_pickles_and_saves_still_translating(reverser, tmp_path):
    out = reverser.predict(SOURCES)
    assert pickle.loads(pickle.dumps(reverser)).predict(SOURCES) == out
    reverser.save_pretrained(tmp_path)
    assert Translator.from_pretrained(tmp_path).predict(SOURCES) == out


def test_language_names_fill_the_prompt_of_models_without_language_codes():
    bert = make_tiny_backbone()
    t5_style = Translator(model=bert, source_lang="English", target_lang="German", epochs=0, verbose=0).fit(SOURCES)
    assert t5_style.prompt_ == "translate English to German: {text}"
    chat = Translator(model=make_tiny_causal_lm(), source_lang="English", target_lang="German", epochs=0,
                      max_new_tokens=16, verbose=0).fit(SOURCES)
    assert "from English to German" in chat.prompt_
    with pytest.raises(ValueError, match="give source_lang and target_lang"):
        Translator(model=make_tiny_causal_lm(), max_new_tokens=16, verbose=0).fit(SOURCES)
    assert not hasattr(Translator(model=make_tiny_causal_lm(), verbose=0), "prompt_")


def test_language_code_tokenizers_get_their_codes_and_force_the_target_code():
    # NLLB-style tokenizers (src_lang/tgt_lang and one token per language code), without downloading one.
    class CodeTokenizer:
        unk_token_id = 3
        src_lang, tgt_lang = "eng_Latn", "eng_Latn"

        def convert_tokens_to_ids(self, token):
            return {"deu_Latn": 250, "fra_Latn": 251}.get(token, self.unk_token_id)

    tok = CodeTokenizer()
    tr = Translator(source_lang="eng_Latn", target_lang="deu_Latn")
    tr._after_load(None, tok)
    assert tr.language_codes_ and tr.forced_bos_token_id_ == 250
    assert (tok.src_lang, tok.tgt_lang) == ("eng_Latn", "deu_Latn")
    tr.architecture_, tr.model_ = "seq2seq", types.SimpleNamespace(config=types.SimpleNamespace())
    assert tr._generation_settings()["forced_bos_token_id"] == 250
    with pytest.raises(ValueError, match="not a language code"):
        Translator(source_lang="eng_Latn", target_lang="xx_Yyyy")._after_load(None, CodeTokenizer())
    with pytest.raises(ValueError, match="multilingual"):
        Translator()._after_load(None, CodeTokenizer())


# ---------------------------------------------------------- question answering
QA_X, QA_Y = make_question_answering(32, n_filler=6, seed=0)


@pytest.fixture(scope="module")
def qa_backbone(tmp_path_factory):
    corpus = list(QA_X["context"]) + list(QA_X["question"])
    return make_tiny_backbone(tmp_path_factory.mktemp("qa"), corpus=corpus, vocab_size=300)


@pytest.fixture(scope="module")
def _reader(qa_backbone):
    return ExtractiveQuestionAnswerer(model=qa_backbone, max_length=40, doc_stride=12, epochs=25, learning_rate=3e-3,
                            batch_size=8, random_state=0, verbose=0).fit(QA_X, QA_Y)


@pytest.fixture
def reader(_reader):
    return copy.deepcopy(_reader)


def test_extractive_qa_finds_planted_answers_in_passages_longer_than_the_window(reader):
    X_new, y_new = make_question_answering(12, n_filler=6, seed=1)
    windows = reader._windows(list(X_new["question"]), list(X_new["context"]))
    per_question = np.bincount([w["example"] for w in windows])
    assert (per_question > 1).all()  # every passage needs several windows
    assert max(len(w["ids"]) for w in windows) <= 40
    assert squad(QA_Y, reader.predict(QA_X))["exact_match"] == 1.0
    assert squad(y_new, reader.predict(X_new))["exact_match"] >= 0.8  # unseen passages (11 of 12 here)
    spans = reader.predict_spans(X_new)
    for context, row in zip(X_new["context"], spans.itertuples()):
        assert context[row.start:row.end] == row.answer and 0 < row.score <= 1


def test_span_labels_point_at_the_answer_or_at_cls(reader):
    context = QA_X["context"][0]
    start = context.index(QA_Y[0])
    hits = 0
    for w in reader._windows([QA_X["question"][0]], [context]):
        a, b = reader._span_labels(w, start, QA_Y[0])
        if a == w["cls"]:
            continue
        hits += 1
        assert context[w["offsets"][a, 0]:w["offsets"][b, 1]] == QA_Y[0]
    assert hits >= 1


def test_squad_dict_answers_and_answers_not_in_the_passage(qa_backbone):
    qa = ExtractiveQuestionAnswerer(model=qa_backbone, epochs=1, verbose=0)
    dicts = [{"text": [a], "answer_start": [c.index(a)]} for a, c in zip(QA_Y, QA_X["context"])]
    before = qa.fit(QA_X, dicts).predict(QA_X)
    wrong = list(QA_Y)
    wrong[3] = "purple"
    with pytest.raises(ValueError, match=r"y\[3\]: the answer 'purple' does not occur"):
        qa.fit(QA_X, wrong)
    assert not hasattr(qa, "model_") and before  # a failed fit leaves the estimator unfitted
    bad_start = [dict(d, answer_start=[0]) for d in dicts]
    with pytest.raises(ValueError, match=r"y\[0\]: answer_start=0 does not point"):
        qa.fit(QA_X, bad_start)
    assert 0 <= ExtractiveQuestionAnswerer(model=qa_backbone, epochs=0, verbose=0).fit(QA_X).score(QA_X, dicts) <= 1


def test_no_answer_is_learned_only_when_allowed(qa_backbone):
    X, y = make_question_answering(16, n_filler=2, seed=3)
    empty = X.assign(context=["The morning was cold and grey. The shop opened at nine."] * len(X))
    X_all, y_all = pd.concat([X, empty], ignore_index=True), list(y) + [""] * len(y)
    with pytest.raises(ValueError, match=r"y\[16\] is an empty answer; set allow_no_answer=True"):
        ExtractiveQuestionAnswerer(model=qa_backbone, verbose=0).fit(X_all, y_all)
    qa = ExtractiveQuestionAnswerer(model=qa_backbone, allow_no_answer=True, epochs=25, learning_rate=3e-3,
                          random_state=0, verbose=0).fit(X_all, y_all)
    answers = qa.predict(X_all)
    assert squad(y_all, answers)["exact_match"] >= 0.9
    spans = qa.predict_spans(empty[:2])
    assert (spans.start == -1).all() and (spans.answer == "").all()


def test_extractive_model_saves_a_folder_transformers_loads(reader, tmp_path):
    from transformers import AutoModelForQuestionAnswering

    reader.save_pretrained(tmp_path)
    again = ExtractiveQuestionAnswerer.from_pretrained(tmp_path)
    assert again.predict(QA_X) == reader.predict(QA_X)
    plain = AutoModelForQuestionAnswering.from_pretrained(tmp_path).eval()
    batch = neural.collate([reader._windows(["What is the key?"], ["The key is red."])[0]["ids"]],
                           reader.tokenizer_.pad_token_id, torch.device("cpu"))
    with torch.no_grad():
        torch.testing.assert_close(plain(**batch).start_logits, reader.model_(**batch).start_logits)


def test_generative_qa_learns_answers_and_cuts_the_passage_not_the_question():
    X, y = make_question_answering(8, n_filler=1, seed=0)
    qa = GenerativeQuestionAnswerer(model=make_tiny_causal_lm(), epochs=15, learning_rate=1e-2,
                          batch_size=4, max_new_tokens=4, random_state=0, verbose=0).fit(X, y)
    assert qa.architecture_ == "causal" and "{question}" in qa.prompt_
    assert squad(y, qa.predict(X))["exact_match"] >= 0.9
    long = [("What is the key?", " ".join(["The shop opened at nine."] * 60))]
    short = GenerativeQuestionAnswerer(model=make_tiny_causal_lm(), max_length=96, max_new_tokens=4,
                             verbose=0).fit(X)
    ids = short._prompt_ids(*short._inputs(long))[0]
    text = short.tokenizer_.decode(ids)
    assert len(ids) == 96 - 4 and "Question: What is the key?" in text
    assert not hasattr(qa, "predict_spans")  # generated answers have no offsets
    with pytest.raises(ValueError, match="must contain '\\{question\\}'"):
        GenerativeQuestionAnswerer(model=make_tiny_causal_lm(), prompt="{context}", verbose=0).fit(X)


def test_causal_loss_projects_only_labelled_positions_and_equals_the_models_own():
    import torch

    from nlpipe.neural import (causal_training_ids, collate, collate_labels, encode, lm_loss, load_generator,
                               quiet_transformers)

    with quiet_transformers(0):
        model, tokenizer, _ = load_generator(make_tiny_causal_lm(), "causal")
    model.eval()  # no dropout: both losses see the same network
    prompts = encode(tokenizer, ["say hi please", "a much longer prompt that goes on", "x"], 32)
    answers = encode(tokenizer, [" hi", " ok then", " y z"], 32)
    ids, labels = causal_training_ids(prompts, answers, eos=tokenizer.eos_token_id, max_length=64)
    batch, labels = collate(ids, tokenizer.pad_token_id, "cpu"), collate_labels(labels, "cpu")
    n_labelled = int((labels != -100).sum())
    rows = []
    handle = model.get_output_embeddings().register_forward_hook(lambda m, args, out: rows.append(out.shape[:-1]))

    def loss_and_grads(fn):
        torch.manual_seed(0)
        model.zero_grad()
        value = fn()
        value.backward()
        return value.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    own, own_grads = loss_and_grads(lambda: model(**batch, labels=labels).loss)
    ours, our_grads = loss_and_grads(lambda: lm_loss(model, batch, labels))
    handle.remove()
    assert rows[0] == labels.shape  # the model's own loss: every position
    assert tuple(rows[1]) == (n_labelled,)  # ours: the positions followed by a labelled token
    torch.testing.assert_close(ours, own)
    for a, b in zip(our_grads, own_grads):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)
