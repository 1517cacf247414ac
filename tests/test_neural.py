"""Transformer estimators on a tiny local BERT: learning, batching, persistence, devices."""

import gc
import io
import pickle
import weakref

import joblib
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from nlpipe import TransformerClassifier, TransformerEmbedder, TransformerRegressor  # noqa: E402
from nlpipe.exceptions import DeviceWarning  # noqa: E402
from nlpipe.testing import make_text_classification, make_tiny_backbone  # noqa: E402

FAST = {"epochs": 10, "batch_size": 8, "learning_rate": 3e-3, "random_state": 0, "verbose": 0}


@pytest.fixture(scope="session")
def backbone():
    return make_tiny_backbone()


@pytest.fixture(scope="module")
def fitted_3class(backbone):
    X, y = make_text_classification(3)
    return TransformerClassifier(model=backbone, **FAST).fit(X, y), X, y


def test_learns_toy_tasks_to_full_train_accuracy(backbone, fitted_3class):
    clf, X, y = fitted_3class
    assert clf.score(X, y) == 1.0
    Xb, yb = make_text_classification(2, label_type=int)
    binary = TransformerClassifier(model=backbone, **FAST).fit(Xb, yb)
    assert binary.score(Xb, yb) == 1.0
    assert binary.predict(Xb).dtype.kind == "i"
    assert binary.decision_function(Xb).shape == (len(Xb),)
    assert ((binary.decision_function(Xb) > 0) == (binary.predict(Xb) == 1)).all()


def test_proba_and_labels_agree(fitted_3class):
    clf, X, _ = fitted_3class
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()
    assert clf.predict(X).dtype.kind == "U"
    assert clf.model_.config.id2label == {0: "neg", 1: "neutral", 2: "pos"}


def test_input_order_survives_length_sorting(fitted_3class):
    clf, X, _ = fitted_3class
    mixed = [X[0] + " " + X[1] * 5, X[2], "", X[3] * 3, X[4]]
    batched = clf.decision_function(mixed)
    one_by_one = np.vstack([clf.decision_function([t]) for t in mixed])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-4, atol=1e-5)


def test_very_long_input_is_truncated_not_a_crash(backbone, fitted_3class, caplog):
    clf, _, _ = fitted_3class
    assert clf.max_length_ == 128  # the tiny backbone's position limit
    long_text = " ".join(["great"] * 10_000)
    assert clf.predict([long_text, "short"]).shape == (2,)
    X, y = make_text_classification(2)
    with caplog.at_level("WARNING", logger="nlpipe"):
        big = TransformerClassifier(model=backbone, max_length=4096, **{**FAST, "epochs": 1}).fit(X, y)
    assert big.max_length_ == 128 and "exceeds the backbone's limit" in caplog.text


@pytest.mark.parametrize("as_indicator", [False, True])
def test_multilabel(backbone, as_indicator):
    X, y = make_text_classification(3)
    lists = [("movie", lab) if lab != "neutral" else ("movie",) for lab in y]
    target = lists
    if as_indicator:
        from sklearn.preprocessing import MultiLabelBinarizer

        target = MultiLabelBinarizer().fit_transform(lists)
    clf = TransformerClassifier(model=backbone, **{**FAST, "epochs": 15}).fit(X, target)
    assert clf.multilabel_ and clf.score(X, target) == 1.0
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and ((proba > 0) & (proba < 1)).all()
    pred = clf.predict(X)
    if as_indicator:
        assert isinstance(pred, np.ndarray) and pred.shape == (len(X), 3)
    else:
        assert pred[0] == lists[0]


def test_regression_single_and_multi_output(backbone):
    X, labels = make_text_classification(2)
    y = np.where(labels == "pos", 0.9, 0.1) + np.linspace(0, 0.02, len(X))
    reg = TransformerRegressor(model=backbone, **FAST).fit(X, y)
    assert reg.predict(X).shape == (len(X),)
    assert reg.score(X, y) > 0.9
    Y = np.column_stack([y, 100 * (1 - y)])  # different scales train alike (standardized)
    multi = TransformerRegressor(model=backbone, **FAST).fit(X, Y)
    pred = multi.predict(X)
    assert pred.shape == (len(X), 2)
    assert np.corrcoef(pred[:, 1], Y[:, 1])[0, 1] > 0.95


def _roundtrip(obj):
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    buf.seek(0)
    return joblib.load(buf)


def test_pickle_roundtrip_and_size(fitted_3class):
    clf, X, _ = fitted_3class
    blob = pickle.dumps(clf)
    for loaded in (pickle.loads(blob), _roundtrip(clf)):
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        assert loaded.device_.type == "cpu"
    from nlpipe.neural import pack

    packed = pack(clf.model_, clf.tokenizer_)
    payload = len(packed["weights"]) + sum(map(len, packed["tokenizer"].values())) + sum(map(len, packed["config"].values()))
    assert len(blob) < payload + 20_000  # parameters and labels only on top of the files
    assert "model_" in vars(clf)  # pickling did not strip the live estimator


def test_gpu_pickle_loads_on_cpu_with_a_warning(fitted_3class, monkeypatch):
    clf, X, _ = fitted_3class
    state = clf.__getstate__()
    state["device_"] = "cuda:0"  # as if fitted on a GPU; the weights are bytes either way
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = TransformerClassifier.__new__(TransformerClassifier)
    with pytest.warns(DeviceWarning, match="cuda:0"):
        restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_refit_releases_previous_model(backbone):
    X, y = make_text_classification(2)
    clf = TransformerClassifier(model=backbone, **{**FAST, "epochs": 1}).fit(X, y)
    old = weakref.ref(clf.model_)
    clf.fit(X, y)
    gc.collect()
    assert old() is None, "the previous fit's model is still alive"


def test_clone_restarts_from_pretrained_weights(backbone):
    X, y = make_text_classification(2)
    first = TransformerClassifier(model=backbone, **FAST).fit(X, y)
    again = clone(first).fit(X[::-1], y[::-1])
    again.fit(X, y)
    np.testing.assert_allclose(first.decision_function(X), again.decision_function(X), rtol=1e-5, atol=1e-6)


def test_fit_leaves_global_rng_alone(backbone):
    X, y = make_text_classification(2)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    TransformerClassifier(model=backbone, **{**FAST, "epochs": 1}).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_save_pretrained_loads_in_plain_transformers(fitted_3class, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    clf, X, _ = fitted_3class
    clf.save_pretrained(tmp_path / "m")
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m")
    tok = AutoTokenizer.from_pretrained(tmp_path / "m")
    with torch.inference_mode():
        logits = model(**tok(X[:4], padding=True, return_tensors="pt")).logits.numpy()
    np.testing.assert_allclose(logits, clf.decision_function(X[:4]), rtol=1e-4, atol=1e-5)
    pipe = pipeline("text-classification", model=str(tmp_path / "m"), device="cpu")
    assert [r["label"] for r in pipe(X[:3])] == clf.predict(X[:3]).tolist()
    restored = TransformerClassifier.from_pretrained(tmp_path / "m")
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), rtol=1e-5)
    assert restored.get_params() == clf.get_params()
    assert (restored.classes_ == clf.classes_).all()


def test_save_pretrained_regressor_and_embedder(backbone, tmp_path):
    X, labels = make_text_classification(2)
    y = (labels == "pos").astype(float)
    reg = TransformerRegressor(model=backbone, **{**FAST, "epochs": 2}).fit(X, y)
    back = TransformerRegressor.from_pretrained(reg.save_pretrained(tmp_path / "r"))
    np.testing.assert_allclose(back.predict(X), reg.predict(X), rtol=1e-5)
    emb = TransformerEmbedder(model=backbone, verbose=0).fit(X)
    back = TransformerEmbedder.from_pretrained(emb.save_pretrained(tmp_path / "e"))
    np.testing.assert_allclose(back.transform(X), emb.transform(X), rtol=1e-5)


def test_from_pretrained_refuses_foreign_folders(backbone, fitted_3class, tmp_path):
    with pytest.raises(ValueError, match="not written by TransformerClassifier.save_pretrained"):
        TransformerClassifier.from_pretrained(backbone)
    fitted_3class[0].save_pretrained(tmp_path / "c")
    with pytest.raises(ValueError, match="holds a TransformerClassifier, not a TransformerRegressor"):
        TransformerRegressor.from_pretrained(tmp_path / "c")


def test_embedder_pipeline_and_padding_invariance(backbone):
    X, y = make_text_classification(2)
    pipe = make_pipeline(TransformerEmbedder(model=backbone, verbose=0), LogisticRegression(C=1e3, max_iter=5000))
    assert pipe.fit(X, y).score(X, y) > 0.9  # random frozen encoder, but separable features
    emb = pipe[0]
    alone = emb.transform([X[1]])
    with_longer = emb.transform([X[0] * 4, X[1]])[1:]
    np.testing.assert_allclose(alone, with_longer, rtol=1e-4, atol=1e-5)
    assert emb.get_feature_names_out()[:2].tolist() == ["embedding0", "embedding1"]


def _noisy_task():
    X, _ = make_text_classification(3, repeat=1)  # 18 distinct texts
    y = np.random.default_rng(0).permutation(np.repeat(["a", "b"], 9))  # labels a model can only memorize
    return X, y


def test_validation_split_and_early_stopping(backbone):
    X, y = _noisy_task()
    clf = TransformerClassifier(
        model=backbone, validation_fraction=0.33, early_stopping_patience=2,
        **{**FAST, "epochs": 40, "learning_rate": 1e-2},
    ).fit(X, y)
    assert all("val_loss" in h for h in clf.history_)
    assert len(clf.history_) < 40, "early stopping never triggered"
    losses = [h["val_loss"] for h in clf.history_]
    assert losses[-1] > min(losses) and losses[-2] > min(losses)


def test_training_loop_restores_best_weights(backbone):
    from nlpipe import neural

    X, y = _noisy_task()
    device = torch.device("cpu")
    tok = neural.load_tokenizer(backbone)
    with neural.quiet_transformers(0):
        model = neural.load_backbone(backbone, "sequence-classification", num_labels=2)
    ids = neural.encode(tok, X, 64)
    targets = torch.as_tensor((y == "b").astype(np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()
    forward = lambda m, b: m(**b).logits  # noqa: E731
    config = neural.TrainingConfig(epochs=12, batch_size=4, learning_rate=1e-2, weight_decay=0.0, warmup_ratio=0.0,
                                   gradient_accumulation_steps=2, max_grad_norm=1.0, seed=0)
    history = neural.train(
        model, ids[:12], targets[:12], loss=lambda m, b, t: loss_fn(forward(m, b), t), config=config,
        device=device, pad_id=tok.pad_token_id, validation=(ids[12:], targets[12:]),
    )
    logits = neural.run_inference(model, ids[12:], forward=forward, batch_size=4, device=device,
                                  amp_dtype=None, pad_id=tok.pad_token_id)
    final = float(loss_fn(torch.from_numpy(logits), targets[12:]))
    best = min(h["val_loss"] for h in history)
    assert history[-1]["val_loss"] > best  # the last epoch was not the best...
    assert final == pytest.approx(best, rel=1e-4)  # ...and the best one was restored


def test_class_weight_changes_the_fit(backbone):
    X, y = make_text_classification(2)
    a = TransformerClassifier(model=backbone, **{**FAST, "epochs": 2}).fit(X, y)
    b = TransformerClassifier(model=backbone, class_weight={"pos": 10.0}, **{**FAST, "epochs": 2}).fit(X, y)
    assert not np.allclose(a.decision_function(X), b.decision_function(X))
    with pytest.raises(ValueError, match="not in y"):
        TransformerClassifier(model=backbone, class_weight={"nope": 2.0}, **FAST).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"device": "cuda"}, "CUDA is not available"),
        ({"device": "warp-drive"}, "not a torch device"),
        ({"model": "/no/such/folder"}, "Could not load"),
    ],
)
def test_load_errors_are_clear(backbone, params, match, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = make_text_classification(2)
    with pytest.raises(ValueError, match=match):
        TransformerClassifier(**{"model": backbone, **FAST, **params}).fit(X, y)


def test_verbose_controls_progress_bars(backbone, capsys):
    X, y = make_text_classification(2)
    TransformerClassifier(model=backbone, **{**FAST, "epochs": 1}).fit(X, y).predict(X)
    assert "fit" not in capsys.readouterr().err
    TransformerClassifier(model=backbone, **{**FAST, "epochs": 1, "verbose": 1}).fit(X, y)
    assert "fit" in capsys.readouterr().err


def test_device_and_precision_choice(monkeypatch):
    from nlpipe.neural import autocast_dtype, resolve_device

    cuda = torch.device("cuda")
    assert autocast_dtype(torch.device("cpu"), "auto") is None  # CPU always runs fp32
    assert autocast_dtype(cuda, "no") is None
    assert autocast_dtype(cuda, "fp16") is torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert autocast_dtype(cuda, "auto") is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert autocast_dtype(cuda, "auto") is torch.float16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type in ("cpu", "mps")


@pytest.fixture(scope="module")
def sentence_transformers_backbone(backbone, tmp_path_factory):
    """The tiny backbone laid out like a sentence-transformers folder that declares mean pooling."""
    import json
    import shutil

    path = tmp_path_factory.mktemp("st") / "tiny-st"
    shutil.copytree(backbone, path)
    (path / "1_Pooling").mkdir()
    (path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    return str(path)


def test_auto_pooling_follows_the_backbone(backbone, sentence_transformers_backbone):
    X, y = make_text_classification(2)
    plain = TransformerClassifier(model=backbone, **{**FAST, "epochs": 1}).fit(X, y)
    assert plain.pooling_ == "cls"
    assert TransformerClassifier(model=sentence_transformers_backbone, **{**FAST, "epochs": 1}).fit(X, y).pooling_ == "cls"
    st = TransformerClassifier(model=sentence_transformers_backbone, pooling="auto", **FAST).fit(X, y)
    assert st.pooling_ == "mean"
    assert st.score(X, y) == 1.0
    # The head really reads the average of the unpadded token vectors.
    enc = st.tokenizer_(X[:3], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = st.model_.base_model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        expected = st.model_.classifier((hidden * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(st.decision_function(X[:3]), expected[:, 1] - expected[:, 0], atol=1e-5)
    assert TransformerClassifier(model=backbone, pooling="auto", **{**FAST, "epochs": 1}).fit(X, y).pooling_ == "cls"


def test_linear_probe_starts_the_head_from_a_fitted_linear_model(backbone, monkeypatch):
    from nlpipe import neural

    X, y = make_text_classification(2)
    captured = {}
    real_train = neural.train

    def spy(model, ids, targets, **kw):
        captured["weight"] = model.classifier.weight.detach().clone()
        captured["logits"] = neural.run_inference(model, ids, forward=neural.mean_pooled_logits, batch_size=8,
                                                  device=kw["device"], amp_dtype=None, pad_id=kw["pad_id"])
        return real_train(model, ids, targets, **kw)

    monkeypatch.setattr(neural, "train", spy)
    probed = TransformerClassifier(model=backbone, pooling="mean", head_init="probe", **{**FAST, "epochs": 1})
    probed.fit(X, y)
    # Before any fine-tuning the probed head already separates the training texts.
    start = captured["logits"].argmax(axis=1)
    assert (probed.classes_[start] == np.asarray(y)).mean() >= 0.9
    # The binary probe splits one logit difference evenly between the two outputs.
    np.testing.assert_allclose(captured["weight"][0], -captured["weight"][1], atol=1e-6)
    assert not torch.allclose(captured["weight"], probed.model_.classifier.weight)  # and training moved it on


@pytest.mark.parametrize("kind", ["lists", "regression"])
def test_linear_probe_for_multilabel_and_regression(backbone, kind):
    X, y = make_text_classification(2)
    if kind == "lists":
        labels = [[lab] + (["long"] if len(t) > 30 else []) for t, lab in zip(X, y)]
        est = TransformerClassifier(model=backbone, pooling="mean", head_init="probe", **FAST).fit(X, labels)
        assert est.score(X, labels) >= 0.8
    else:
        target = np.array([len(t) for t in X], dtype=float)
        est = TransformerRegressor(model=backbone, pooling="mean", head_init="probe", **FAST).fit(X, target)
        assert est.score(X, target) > 0.5


def test_mean_pooling_persists_and_warns_on_save_pretrained(backbone, tmp_path):
    X, y = make_text_classification(2)
    clf = TransformerClassifier(model=backbone, pooling="mean", **{**FAST, "epochs": 2}).fit(X, y)
    clone_ = pickle.loads(pickle.dumps(clf))
    assert clone_.pooling_ == "mean"
    np.testing.assert_allclose(clone_.decision_function(X), clf.decision_function(X), atol=1e-6)
    with pytest.warns(UserWarning, match="mean-pooled"):
        clf.save_pretrained(tmp_path / "saved")
    restored = TransformerClassifier.from_pretrained(tmp_path / "saved")
    assert restored.pooling_ == "mean"
    np.testing.assert_allclose(restored.decision_function(X), clf.decision_function(X), atol=1e-5)


def test_probe_and_mean_pooling_errors(backbone):
    X, y = make_text_classification(2)
    with pytest.raises(ValueError, match="head_init='probe'.*mean pooling"):
        TransformerClassifier(model=backbone, pooling="cls", head_init="probe", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="pooling"):
        TransformerClassifier(model=backbone, pooling="max", **FAST).fit(X, y)
    from nlpipe.neural import load_backbone, resolve_pooling

    model = load_backbone(backbone, "sequence-classification", num_labels=2)
    model.classifier = torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.Linear(32, 2))
    with pytest.raises(ValueError, match="one linear layer"):
        resolve_pooling("mean", backbone, model)


@pytest.mark.parametrize("verbose, shown", [(0, False), (1, False), (2, True)])
def test_transformers_load_report_only_at_verbose_2(backbone, capfd, caplog, verbose, shown):
    # verbose=1 is nlpipe's progress bars; transformers' "new head initialised" report
    # comes with every fine-tune and would bury them.
    X, y = make_text_classification(2)
    TransformerClassifier(model=backbone, **{**FAST, "epochs": 1, "verbose": verbose}).fit(X, y)
    out, err = capfd.readouterr()
    assert ("LOAD REPORT" in out + err + caplog.text) is shown
    assert ("Loading weights" in err) is shown
    if verbose:
        assert "fit" in err  # nlpipe's own bar is still there


def test_auto_learning_rate_follows_the_width_and_a_float_is_kept(backbone, caplog):
    from types import SimpleNamespace

    from transformers import T5Config

    from nlpipe.neural import auto_learning_rate

    def width(**config):
        return SimpleNamespace(config=SimpleNamespace(**config))

    assert auto_learning_rate(width(hidden_size=384)) == 1e-4  # the measured point (all-MiniLM-L6-v2)
    assert auto_learning_rate(width(hidden_size=768)) == 5e-5
    assert auto_learning_rate(width(hidden_size=1024)) == 3.75e-5
    assert auto_learning_rate(SimpleNamespace(config=T5Config(d_model=512))) == 7.5e-5
    assert auto_learning_rate(width(hidden_size=8192)) == 1e-5  # clipped below
    assert auto_learning_rate(width(hidden_size=32)) == 5e-4  # and above
    assert auto_learning_rate(width(hidden_size=384), lora=True) == 1e-3
    with caplog.at_level("WARNING", logger="nlpipe.neural._rates"):
        assert auto_learning_rate(width()) == 5e-5
    assert "no hidden size" in caplog.text

    X, y = make_text_classification(2)
    auto = TransformerClassifier(model=backbone, epochs=1, batch_size=8, random_state=0, verbose=0).fit(X, y)
    assert auto.learning_rate == "auto" and auto.learning_rate_ == auto_learning_rate(auto.model_)
    fixed = TransformerClassifier(model=backbone, epochs=1, batch_size=8, learning_rate=3e-3, random_state=0,
                                  verbose=0).fit(X, y)
    assert fixed.learning_rate_ == 3e-3
    with pytest.raises(ValueError, match="learning_rate"):
        TransformerClassifier(model=backbone, learning_rate="fast").fit(X, y)


def test_adamw_is_fused_on_cpu_and_follows_the_unfused_one(backbone, monkeypatch):
    from nlpipe.neural import _loop

    made = []
    real = torch.optim.AdamW

    def spy(*args, **kwargs):
        made.append(kwargs.get("fused", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "AdamW", spy)
    X, y = make_text_classification(2)
    params = dict(model=backbone, epochs=3, batch_size=4, learning_rate=1e-3, random_state=0, verbose=0)
    fused = TransformerClassifier(**params).fit(X, y).predict_proba(X)
    # No dtype qualifies: the per-tensor implementation, as on devices without the kernel.
    monkeypatch.setattr(_loop, "_FUSED_DTYPES", ())
    plain = TransformerClassifier(**params).fit(X, y).predict_proba(X)
    assert made == [True, False]
    np.testing.assert_allclose(fused, plain, atol=1e-4)
