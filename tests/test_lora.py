"""lora= on the fine-tuned estimators (issue #21, item 2): adapters train, the backbone stays, the result is plain."""

import pickle

import numpy as np
import pytest

import nlpipe
from nlpipe.testing import make_text_classification

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

X, y = make_text_classification(2, repeat=2)


def _tiny(cls, **params):
    from nlpipe.testing import make_tiny_backbone

    params = {"model": make_tiny_backbone(), "epochs": 6, "batch_size": 8, "learning_rate": 1e-2, "random_state": 0,
              "verbose": 0, **params}
    return cls(**params)


def _pretrained_state(path, task="sequence-classification", **head):
    from nlpipe.neural import load_backbone, quiet_transformers

    with quiet_transformers(0):
        return {k: v.clone() for k, v in load_backbone(path, task, **head).state_dict().items()}


def test_lora_trains_adapters_and_the_head_only():
    # LP-FT with LoRA: the head starts from a probe on frozen features, then adapters and head train.
    clf = _tiny(nlpipe.TransformerClassifier, lora=4, pooling="mean", head_init="probe").fit(X, y)
    assert clf.score(X, y) == 1.0
    info = clf.lora_
    assert info["r"] == 4 and info["lora_alpha"] == 8 and info["target_modules"] == "all-linear"
    assert info["lora_dropout"] == 0.0 and info["trainable"] < info["total"] / 2
    before = _pretrained_state(clf.model, num_labels=2)
    after = clf.model_.state_dict()
    assert set(after) == set(before)  # merged: a plain model again, no adapter tensors left
    assert not any("lora" in k for k in after)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    # Only linear weights (their merged deltas) and the head moved; embeddings, norms and biases did not.
    assert changed and all(k.endswith(".weight") and "embeddings" not in k and "LayerNorm" not in k
                           or k.startswith("classifier.") for k in changed)
    assert any(".query." in k for k in changed) and any(".intermediate." in k for k in changed)
    assert all(p.requires_grad for p in clf.model_.parameters())


def test_lora_model_pickles_self_contained_and_predicts_the_same(tmp_path):
    clf = _tiny(nlpipe.TransformerClassifier, lora={"r": 2, "lora_alpha": 4, "target_modules": ["query", "key"]})
    clf.fit(X, y)
    assert clf.lora_["target_modules"] == ["query", "key"]
    for copy in (pickle.loads(pickle.dumps(clf)), nlpipe.load(nlpipe.save(clf, tmp_path / "clf.nlpipe"))):
        assert copy.lora_ == clf.lora_
        np.testing.assert_allclose(copy.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_lora_on_regressor_and_text_to_text():
    from nlpipe.testing import make_tiny_causal_lm

    Xr = X[:8]
    yr = np.linspace(0, 1, len(Xr))
    reg = _tiny(nlpipe.TransformerRegressor, lora=2).fit(Xr, yr)
    assert reg.lora_["trainable"] < reg.lora_["total"] and np.isfinite(reg.predict(Xr)).all()
    gen = _tiny(nlpipe.TextGenerator, model=make_tiny_causal_lm(), lora=2, epochs=1, max_new_tokens=4)
    gen.fit(["say hi"] * 4, ["hi"] * 4)
    # The language-model head is tied to the embeddings: it stays frozen with them.
    assert gen.lora_["trainable"] < gen.lora_["total"] / 5
    assert len(gen.predict(["say hi"])) == 1


def test_bad_lora_settings_fail_clearly():
    with pytest.raises(ValueError, match="lora has keys"):
        _tiny(nlpipe.TransformerClassifier, lora={"rank": 4}).fit(X, y)
    with pytest.raises(ValueError, match="lora"):
        _tiny(nlpipe.TransformerClassifier, lora=0).fit(X, y)
    with pytest.raises(ValueError, match="rank r"):
        _tiny(nlpipe.TransformerClassifier, lora={"r": 0}).fit(X, y)
    with pytest.raises(ValueError, match="LoRA could not be set up"):
        _tiny(nlpipe.TransformerClassifier, lora={"r": 2, "target_modules": ["no_such_layer"]}).fit(X, y)


def test_adapter_storage_needs_the_very_base_it_was_trained_on(tmp_path):
    import shutil

    from nlpipe.testing import make_tiny_backbone

    base = tmp_path / "base"
    shutil.copytree(make_tiny_backbone(), base)
    clf = _tiny(nlpipe.TransformerClassifier, model=str(base), lora=2, lora_storage="adapter").fit(X, y)
    merged = pickle.dumps(clf.set_params(lora_storage="merged"))
    clf.set_params(lora_storage="adapter")
    small = pickle.dumps(clf)
    assert len(small) < len(merged) / 3  # adapter and head, not the backbone
    for copy in (pickle.loads(small), nlpipe.load(nlpipe.save(clf, tmp_path / "clf.nlpipe"))):
        np.testing.assert_allclose(copy.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    again = pickle.loads(pickle.dumps(pickle.loads(small)))  # an unpickled model pickles small again
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    from nlpipe.compression import Quantizer

    int8 = pickle.dumps(Quantizer(dtype="int8").fit_transform(clf))  # compressed: stored in full
    shutil.rmtree(base)  # the base is gone: loading says which model it needs
    assert (pickle.loads(int8).predict(X) == clf.predict(X)).mean() >= 0.9
    with pytest.raises(ValueError, match="needs its base model"):
        pickle.loads(small)


def test_adapter_storage_refuses_a_changed_base(tmp_path):
    import shutil

    from nlpipe.neural import load_backbone, quiet_transformers
    from nlpipe.testing import make_tiny_backbone

    base = tmp_path / "base"
    shutil.copytree(make_tiny_backbone(), base)
    clf = _tiny(nlpipe.TransformerClassifier, model=str(base), lora=2, lora_storage="adapter").fit(X, y)
    small = pickle.dumps(clf)
    with quiet_transformers(0):
        changed = load_backbone(str(base), "embedding")
    with torch.no_grad():
        changed.embeddings.word_embeddings.weight.mul_(1.01)
    changed.save_pretrained(base)
    with pytest.raises(ValueError, match="other weights"):
        pickle.loads(small)
    with pytest.raises(ValueError, match="lora_storage='adapter'"):
        _tiny(nlpipe.TransformerClassifier, lora_storage="adapter").fit(X, y)
    with pytest.raises(ValueError, match="lora_storage"):
        nlpipe.FewShotClassifier(model=str(base), lora=2, lora_storage="adapter", verbose=0).fit(X, y)
