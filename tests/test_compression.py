"""Compression steps: smaller fitted copies that keep the API, pickle compressed, and leave the input alone."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from nlpipe import TfidfNBClassifier, TfidfSVMClassifier
from nlpipe.compression import Pruner, Quantizer, report
from nlpipe.testing import make_text_classification

X, Y = make_text_classification(3, repeat=3)
BASELINES = [
    TfidfSVMClassifier(min_df=1),
    TfidfSVMClassifier(min_df=1, probability=True, random_state=0),
    TfidfNBClassifier(min_df=1),
    TfidfNBClassifier(min_df=1, variant="multinomial"),
]


def _ids(est):
    return f"{type(est).__name__}-{est.get_params().get('variant', est.get_params().get('probability'))}"


def _outputs(model, texts):
    out = {"predict": np.asarray(model.predict(texts))}
    for name in ("decision_function", "predict_proba"):
        if hasattr(model, name):
            out[name] = getattr(model, name)(texts)
    return out


@pytest.fixture(params=BASELINES, ids=_ids)
def baseline(request):
    return request.param.fit(X, Y)


def test_int8_baseline_keeps_predictions_and_shrinks_the_pickle(baseline):
    before = pickle.dumps(baseline)
    small = Quantizer(dtype="int8").fit_transform(baseline)
    assert pickle.dumps(baseline) == before  # the input model is untouched
    ref, got = _outputs(baseline, X), _outputs(small, X)
    np.testing.assert_array_equal(got["predict"], ref["predict"])
    for name in set(ref) - {"predict"}:
        np.testing.assert_allclose(got[name], ref[name], atol=0.02)  # int8: 1/254 of each row's range
    assert small.estimator_.W_.dtype == np.int8
    restored = pickle.loads(pickle.dumps(small))
    assert restored.estimator_.W_.dtype == np.int8  # reloaded still quantized
    for name, value in _outputs(small, X).items():
        np.testing.assert_array_equal(_outputs(restored, X)[name], value)
    assert small.compression_ == [{"step": "Quantizer", **Quantizer(dtype="int8").get_params()}]


def test_float16_baseline_is_close(baseline):
    small = Quantizer(dtype="float16").fit_transform(baseline)
    assert small.estimator_.W_.dtype == np.float16
    np.testing.assert_array_equal(small.predict(X), baseline.predict(X))


@pytest.mark.parametrize("amount", [0.3, 0.6])
def test_magnitude_pruning_zeroes_the_smallest_and_drops_unused_words(baseline, amount):
    from nlpipe.compression._linear import linear_form

    W, _, _ = linear_form(baseline.estimator_)
    small = Pruner(amount=amount).fit_transform(baseline)
    kept = small.estimator_.weights()
    # Exactly the largest weights survive, unchanged.
    names = list(baseline.vectorizer_.get_feature_names_out())
    cols = [names.index(t) for t in small.vectorizer_.get_feature_names_out()]
    full = np.zeros_like(W)
    full[:, cols] = kept
    survivors = full != 0
    assert survivors.sum() <= int(np.ceil((1 - amount) * W.size))
    np.testing.assert_allclose(full[survivors], W[survivors], rtol=1e-6)
    assert np.abs(W[~survivors]).max() <= np.abs(W[survivors]).min() + 1e-12
    # Words with no weight left are gone from the vocabulary.
    assert len(small.vectorizer_.vocabulary_) == len(cols) < len(names)
    assert np.all(np.any(kept != 0, axis=0))
    assert len(pickle.dumps(small)) < len(pickle.dumps(baseline))
    assert (np.asarray(small.predict(X)) == np.asarray(baseline.predict(X))).mean() >= 0.8


def test_steps_compose_in_a_pipeline_in_order(baseline):
    both = make_pipeline(Pruner(amount=0.5), Quantizer()).fit_transform(baseline)
    assert [s["step"] for s in both.compression_] == ["Pruner", "Quantizer"]
    assert both.estimator_.W_.dtype == np.int8
    pruned = Pruner(amount=0.5).fit_transform(baseline)
    assert len(both.vectorizer_.vocabulary_) == len(pruned.vectorizer_.vocabulary_)
    np.testing.assert_array_equal(both.predict(X), Quantizer().fit_transform(pruned).predict(X))
    # Quantizing first, then pruning, prunes the dequantized weights and stays int8.
    other = make_pipeline(Quantizer(), Pruner(amount=0.5)).fit_transform(baseline)
    assert [s["step"] for s in other.compression_] == ["Quantizer", "Pruner"]
    assert other.estimator_.W_.dtype == np.int8


def test_multilabel_baselines_compress():
    from nlpipe.testing import TINY_CORPUS

    texts = [t for group in TINY_CORPUS.values() for t in group] * 2
    labels = [("pos", "film") if "film" in t else ("pos",) if i % 2 else ("neg",) for i, t in enumerate(texts)]
    for est in (TfidfSVMClassifier(min_df=1), TfidfNBClassifier(min_df=1)):
        model = est.fit(texts, labels)
        small = Quantizer().fit_transform(model)
        assert small.predict(texts) == model.predict(texts)
        if hasattr(model, "predict_proba"):
            np.testing.assert_allclose(small.predict_proba(texts), model.predict_proba(texts), atol=0.02)


def test_compressed_baseline_still_scores_and_cross_validates(baseline):
    small = Quantizer().fit_transform(baseline)
    assert small.score(X, Y) == pytest.approx(baseline.score(X, Y))
    # cross_val_score clones and refits: the clone is the original (uncompressed) estimator class.
    assert np.isfinite(cross_val_score(small, X, Y, cv=3)).all()


@pytest.mark.parametrize("step", [Quantizer(), Pruner()])
def test_bad_inputs_give_clear_errors(step):
    with pytest.raises(NotFittedError, match="not fitted"):
        step.fit_transform(TfidfSVMClassifier())
    with pytest.raises(TypeError, match="Cannot compress a LogisticRegression"):
        from sklearn.linear_model import LogisticRegression

        step.fit_transform(LogisticRegression())


@pytest.mark.parametrize("params", [{"amount": 1.0}, {"amount": -0.1}, {"amount": "half"}, {"method": "random"}])
def test_pruner_rejects_bad_parameters(params):
    model = TfidfSVMClassifier(min_df=1).fit(X, Y)
    with pytest.raises(ValueError, match=next(iter(params))):
        Pruner(**params).fit_transform(model)


def test_quantizer_rejects_bad_dtype_and_bfloat16_for_baselines():
    model = TfidfSVMClassifier(min_df=1).fit(X, Y)
    with pytest.raises(ValueError, match="dtype"):
        Quantizer(dtype="int4").fit(model)
    with pytest.raises(ValueError, match="bfloat16"):
        Quantizer(dtype="bfloat16").fit_transform(model)


def test_report_compares_sizes_speed_and_scores(baseline):
    models = {"original": baseline, "pruned": Pruner(amount=0.7).fit_transform(baseline),
              "int8": Quantizer().fit_transform(baseline)}
    table = report(models, X, Y, repeats=1)
    assert list(table.index) == ["original", "pruned", "int8"]
    assert table.loc["original", "size_ratio"] == 1.0 and table.loc["original", "score_delta"] == 0.0
    assert table.loc["pruned", "nonzero"] < table.loc["original", "nonzero"]
    assert table.loc["pruned", "pickle_bytes"] < table.loc["original", "pickle_bytes"]
    assert table.loc["int8", "score"] == pytest.approx(baseline.score(X, Y))
    assert (table["ms_per_1000"] > 0).all()
    with pytest.raises(TypeError, match="non-empty dict"):
        report([], X, Y)


# ----------------------------------------------------------------------------- transformers
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def _fitted_transformer():
    from nlpipe import TransformerClassifier
    from nlpipe.testing import make_tiny_backbone

    return TransformerClassifier(model=make_tiny_backbone(), epochs=6, batch_size=8, learning_rate=3e-3,
                                 random_state=0, verbose=0).fit(X, Y)


@pytest.fixture
def transformer(_fitted_transformer):
    return copy.deepcopy(_fitted_transformer)


def test_int8_transformer_pickles_quantized_and_predicts_the_same(transformer):
    from nlpipe.neural import quantized_modules

    before = transformer.predict_proba(X)
    small = Quantizer(dtype="int8").fit_transform(transformer)
    np.testing.assert_array_equal(transformer.predict_proba(X), before)  # the input is untouched
    assert not quantized_modules(transformer.model_)
    names = quantized_modules(small.model_)
    assert names and all("Linear" in type(dict(small.model_.named_modules())[n]).__name__ for n in names)
    assert (small.predict(X) == transformer.predict(X)).mean() >= 0.9
    np.testing.assert_allclose(small.predict_proba(X), before, atol=0.1)
    blob = pickle.dumps(small)
    assert len(blob) < len(pickle.dumps(transformer))
    from safetensors.torch import load

    from nlpipe.neural import pack

    stored = load(pack(small.model_, small.tokenizer_)["weights"])
    assert all(stored[f"{n}.qweight"].dtype == torch.int8 for n in names)  # int8 on disk, not float
    assert not any(k.startswith(f"{n}.") and stored[k].dtype == torch.float32 and stored[k].ndim == 2
                   for k in stored for n in names)
    restored = pickle.loads(blob)
    assert quantized_modules(restored.model_) == names  # reloaded still quantized
    # Embedding tables: int8 codes on disk, float lookups of exactly the rounded values after reload.
    emb = small.model_.base_model.embeddings.word_embeddings.weight
    assert stored["bert.embeddings.word_embeddings.weight_int8"].dtype == torch.int8
    assert "bert.embeddings.word_embeddings.weight" not in stored
    groups = emb.reshape(emb.shape[0], -1, 16) if emb.shape[1] % 32 else emb.reshape(emb.shape[0], -1, 32)
    steps = groups / (groups.abs().amax(dim=2, keepdim=True) / 127).clamp(min=1e-30)
    torch.testing.assert_close(steps, steps.round(), rtol=0, atol=1e-3)  # every value is an int8 step of its group
    torch.testing.assert_close(restored.model_.base_model.embeddings.word_embeddings.weight, emb, rtol=0, atol=0)
    position = small.model_.base_model.embeddings.position_embeddings.weight  # small tables stay float
    torch.testing.assert_close(position, transformer.model_.base_model.embeddings.position_embeddings.weight)
    plain = Quantizer(embeddings=False).fit_transform(transformer)
    assert len(pickle.dumps(plain)) > len(blob)
    torch.testing.assert_close(plain.model_.base_model.embeddings.word_embeddings.weight,
                               transformer.model_.base_model.embeddings.word_embeddings.weight)
    n_params = sum(p.numel() for p in transformer.model_.parameters())
    table = report({"fp32": transformer, "int8": small}, X, Y, repeats=1)
    assert table.loc["fp32", "parameters"] == n_params
    assert table.loc["int8", "parameters"] == n_params  # the int8 weights counted once each
    np.testing.assert_array_equal(restored.predict_proba(X), small.predict_proba(X))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_transformer_round_trips(transformer, dtype):
    small = Quantizer(dtype=dtype).fit_transform(transformer)
    assert {p.dtype for p in small.model_.parameters()} == {getattr(torch, dtype)}
    restored = pickle.loads(pickle.dumps(small))
    assert {p.dtype for p in restored.model_.parameters()} == {getattr(torch, dtype)}
    np.testing.assert_array_equal(restored.predict_proba(X), small.predict_proba(X))
    assert (small.predict(X) == transformer.predict(X)).mean() >= 0.9


@pytest.mark.parametrize("method", ["heads", "neurons", "structured"])
def test_structured_pruning_shrinks_the_matrices_and_pickles(transformer, method):
    from nlpipe.neural import structure

    before = structure(transformer.model_)
    small = Pruner(amount=0.5, method=method).fit_transform(transformer)
    after = structure(small.model_)
    assert structure(transformer.model_) == before  # the input is untouched
    for name, size in before.items():
        assert after[name]["heads"] == (size["heads"] // 2 if method != "neurons" else size["heads"])
        assert after[name]["neurons"] == (size["neurons"] // 2 if method != "heads" else size["neurons"])
    layer = dict(small.model_.named_modules())[next(iter(after))]
    if method != "neurons":  # the attention matrices really lost rows / columns
        assert layer.attention.self.query.weight.shape[0] == after[next(iter(after))]["heads"] * \
            layer.attention.self.attention_head_size
        assert layer.attention.output.dense.weight.shape[1] == layer.attention.self.query.weight.shape[0]
    n_before = sum(p.numel() for p in transformer.model_.parameters())
    assert sum(p.numel() for p in small.model_.parameters()) < n_before
    restored = pickle.loads(pickle.dumps(small))
    assert structure(restored.model_) == after
    np.testing.assert_array_equal(restored.predict_proba(X), small.predict_proba(X))
    both = Quantizer().fit_transform(small)  # pruned, then int8
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(both)).predict_proba(X), both.predict_proba(X))


def test_pruning_keeps_the_heads_with_the_largest_weights(transformer):
    from nlpipe.neural import encoder_layers

    name, layer = encoder_layers(transformer.model_)[0]
    att = layer.attention.self
    d = att.attention_head_size
    with torch.no_grad():  # make head 0 tiny: it must be the one removed
        for m in (att.query, att.key, att.value):
            m.weight[:d] *= 1e-3
        layer.attention.output.dense.weight[:, :d] *= 1e-3
    kept_rows = att.query.weight[d:].clone()
    small = Pruner(amount=0.5, method="heads").fit_transform(transformer)
    torch.testing.assert_close(dict(small.model_.named_modules())[name].attention.self.query.weight, kept_rows)


def test_magnitude_pruned_transformer_is_stored_sparsely(transformer):
    small = Pruner(amount=0.6).fit_transform(transformer)
    linears = [m for m in small.model_.modules() if isinstance(m, torch.nn.Linear)]
    assert all((m.weight == 0).float().mean() >= 0.55 for m in linears)
    assert len(pickle.dumps(small)) < len(pickle.dumps(transformer))
    restored = pickle.loads(pickle.dumps(small))
    np.testing.assert_array_equal(restored.predict_proba(X), small.predict_proba(X))
    with pytest.raises(ValueError, match="Prune before quantizing"):
        Pruner().fit_transform(Quantizer().fit_transform(transformer))


def test_compressed_transformer_refuses_save_pretrained(transformer, tmp_path):
    with pytest.raises(ValueError, match="pickle or joblib"):
        Quantizer().fit_transform(transformer).save_pretrained(tmp_path)


def test_structured_pruning_rejects_baselines():
    model = TfidfSVMClassifier(min_df=1).fit(X, Y)
    with pytest.raises(ValueError, match="method='magnitude'"):
        Pruner(method="heads").fit_transform(model)


def test_plot_report_draws_score_against_latency():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from nlpipe.compression import plot_report

    model = TfidfSVMClassifier(min_df=1).fit(X, Y)
    table = report({"original": model, "int8": Quantizer().fit_transform(model)}, X, Y, repeats=1)
    ax = plot_report(table)
    xs, ys = ax.collections[0].get_offsets().T
    np.testing.assert_allclose(xs, table["ms_per_1000"])
    np.testing.assert_allclose(ys, table["score"])
    assert [t.get_text() for t in ax.texts] == ["original", "int8"]


# ----------------------------------------------------------------------------- distillation
def _split_task():
    from nlpipe.testing import TINY_CORPUS

    texts = [t for group in TINY_CORPUS.values() for t in group]
    labels = [k for k, group in TINY_CORPUS.items() for _ in group]
    return texts, np.asarray(labels)


def test_distilled_linear_student_beats_the_same_student_on_the_few_gold_labels():
    from nlpipe.compression import Distiller

    texts, labels = _split_task()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    train, test = order[:12], order[12:]
    few = train[:4]  # the student's gold labels: four texts; the teacher saw twelve
    teacher = TfidfNBClassifier(min_df=1).fit([texts[i] for i in train], labels[train])
    gold_only = TfidfSVMClassifier(min_df=1).fit([texts[i] for i in few], labels[few])
    y = np.array([labels[i] if i in set(few) else None for i in train], dtype=object)
    distilled = Distiller(teacher=teacher, student=TfidfSVMClassifier(min_df=1)).fit([texts[i] for i in train], y)
    X_test, y_test = [texts[i] for i in test], labels[test]
    assert distilled.score(X_test, y_test) > gold_only.score(X_test, y_test)
    agreement = (distilled.predict([texts[i] for i in train]) == teacher.predict([texts[i] for i in train])).mean()
    assert agreement >= 0.9
    assert list(distilled.classes_) == list(teacher.classes_)


def test_distiller_cross_validates_with_prefit_false():
    from nlpipe.compression import Distiller

    texts, labels = _split_task()
    d = Distiller(teacher=TfidfNBClassifier(min_df=1), student=TfidfSVMClassifier(min_df=1), prefit=False)
    scores = cross_val_score(d, texts, labels, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_distiller_regression_teacher():
    from nlpipe import IntensityRegressor
    from nlpipe.compression import Distiller

    texts, labels = _split_task()
    target = np.where(labels == "pos", 0.9, np.where(labels == "neg", 0.1, 0.5))
    teacher = IntensityRegressor(alpha=0.3, lexicon=None).fit(texts, target)
    d = Distiller(teacher=teacher, student=IntensityRegressor(alpha=0.3, lexicon=None, char_ngram_range=(2, 3)))
    d.fit(texts)
    assert np.corrcoef(d.predict(texts), teacher.predict(texts))[0, 1] > 0.9


@pytest.mark.parametrize("params, error, match", [
    ({"teacher_weight": 1.5}, ValueError, "teacher_weight"),
    ({"temperature": 0}, ValueError, "temperature"),
    ({"teacher": TfidfNBClassifier()}, NotFittedError, "fitted teacher"),
])
def test_distiller_bad_arguments(params, error, match):
    from nlpipe.compression import Distiller

    texts, labels = _split_task()
    base = {"teacher": TfidfNBClassifier(min_df=1).fit(texts, labels), "student": TfidfSVMClassifier(min_df=1)}
    with pytest.raises(error, match=match):
        Distiller(**{**base, **params}).fit(texts)
    with pytest.raises(ValueError, match="different lengths"):
        Distiller(**base).fit(texts, labels[:-1])
    with pytest.raises(ValueError, match="not one of the teacher's classes"):
        Distiller(**base).fit(texts, np.array(["pos"] * (len(texts) - 1) + ["other"]))


def test_truncated_backbone_keeps_the_first_layers(transformer, tmp_path):
    from transformers import AutoModel

    from nlpipe.compression import truncated_backbone

    path = truncated_backbone(transformer, 1, tmp_path / "student")
    small = AutoModel.from_pretrained(path)
    assert small.config.num_hidden_layers == 1 and len(small.encoder.layer) == 1
    torch.testing.assert_close(small.encoder.layer[0].output.dense.weight,
                               transformer.model_.base_model.encoder.layer[0].output.dense.weight)
    with pytest.raises(ValueError, match="only 2 layers"):
        truncated_backbone(transformer, 3)


@pytest.mark.parametrize("multilabel", [False, True])
def test_transformer_student_learns_the_teacher(multilabel, tmp_path):
    from nlpipe import TransformerClassifier
    from nlpipe.compression import Distiller, truncated_backbone
    from nlpipe.testing import make_tiny_backbone

    texts, labels = _split_task()
    y = [(c, "x") if c == "pos" else (c,) for c in labels] if multilabel else labels
    # Long enough that the teacher fits its training texts: agreement on borderline texts would be noise.
    fast = {"batch_size": 8, "learning_rate": 1e-2, "random_state": 0, "verbose": 0}
    teacher = TransformerClassifier(model=make_tiny_backbone(), epochs=15, **fast).fit(texts, y)
    student = TransformerClassifier(model=truncated_backbone(teacher, 1, tmp_path / "s"), epochs=15, **fast)
    d = Distiller(teacher=teacher, student=student, teacher_weight=0.8).fit(texts, y)
    ours, theirs = d.predict(texts), teacher.predict(texts)
    if multilabel:
        agreement = np.mean([set(a) == set(b) for a, b in zip(ours, theirs)])
        assert d.student_.multilabel_ and list(d.student_.classes_) == list(teacher.classes_)
    else:
        agreement = (np.asarray(ours) == np.asarray(theirs)).mean()
    assert agreement >= 0.9
    assert np.abs(d.predict_proba(texts) - teacher.predict_proba(texts)).mean() < 0.1
    assert d.student_.history_[-1]["train_loss"] < d.student_.history_[0]["train_loss"]
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(d)).predict_proba(texts), d.predict_proba(texts))
