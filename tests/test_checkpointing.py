"""activation_checkpointing= on the fine-tuned estimators: layers recomputed in backward, same result, off after fit."""

import json
from pathlib import Path

import numpy as np
import pytest

import nlpipe
from nlpipe.testing import make_text_classification

torch = pytest.importorskip("torch")

X, y = make_text_classification(2, repeat=2)


@pytest.fixture(scope="module")
def dropout_backbone(tmp_path_factory):
    """The tiny BERT with dropout on: checkpointing must replay the same masks in its recompute."""
    from nlpipe.testing import make_tiny_backbone

    path = make_tiny_backbone(tmp_path_factory.mktemp("dropout") / "bert")
    config_file = Path(path) / "config.json"
    with open(config_file) as fh:
        config = json.load(fh)
    config.update(hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.2)
    with open(config_file, "w") as fh:
        json.dump(config, fh)
    return str(path)


def _fit(cls, model, **params):
    params = {"model": model, "epochs": 2, "batch_size": 8, "learning_rate": 1e-2, "random_state": 0, "verbose": 0,
              **params}
    return cls(**params)


def _count_linear_calls(estimator, fit_args):
    """Linear layers run in training during ``fit``: checkpointing runs the encoder's again in every backward."""
    calls = []
    original = torch.nn.Module.__call__  # the recompute calls the layer's modules through nn.Module.__call__

    def counting(self, *args, **kwargs):
        if self.training and type(self) is torch.nn.Linear:
            calls.append(1)
        return original(self, *args, **kwargs)

    torch.nn.Module.__call__ = counting
    try:
        estimator.fit(*fit_args)
    finally:
        torch.nn.Module.__call__ = original
    return len(calls)


def _is_checkpointing(model):
    return any(getattr(m, "gradient_checkpointing", False) for m in model.modules())


@pytest.mark.parametrize("extra", [{}, {"lora": 2}, {"pooling": "mean", "head_init": "probe"}],
                         ids=["full", "lora", "mean-probe"])
def test_checkpointing_gives_the_same_model_with_dropout(dropout_backbone, extra):
    if "lora" in extra:
        pytest.importorskip("peft")
    plain = _fit(nlpipe.TransformerClassifier, dropout_backbone, **extra)
    checkpointed = _fit(nlpipe.TransformerClassifier, dropout_backbone, activation_checkpointing=True, **extra)
    plain_calls = _count_linear_calls(plain, (X, y))
    checkpointed_calls = _count_linear_calls(checkpointed, (X, y))
    # The encoder layers' linear layers (all but the head's one or two) run twice: once in the forward pass
    # without keeping activations, once in backward.
    assert plain_calls > 0 and checkpointed_calls > 1.5 * plain_calls
    assert [h["train_loss"] for h in checkpointed.history_] == pytest.approx(
        [h["train_loss"] for h in plain.history_], rel=1e-5)
    for (name, a), (_, b) in zip(plain.model_.state_dict().items(), checkpointed.model_.state_dict().items()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=name)
    # Off again once fit is done: prediction and pickles see the model as it was loaded.
    assert not _is_checkpointing(checkpointed.model_)
    np.testing.assert_allclose(checkpointed.predict_proba(X), plain.predict_proba(X), atol=1e-5)


def test_checkpointing_on_text_to_text_and_regression():
    from nlpipe.testing import make_tiny_backbone, make_tiny_causal_lm

    gen = _fit(nlpipe.TextGenerator, make_tiny_causal_lm(), activation_checkpointing=True, epochs=1,
               max_new_tokens=3)
    calls = _count_linear_calls(gen, (["say hi"] * 4, ["hi"] * 4))
    plain_calls = _count_linear_calls(_fit(nlpipe.TextGenerator, make_tiny_causal_lm(), epochs=1, max_new_tokens=3),
                                      (["say hi"] * 4, ["hi"] * 4))
    assert calls > 1.5 * plain_calls
    assert not _is_checkpointing(gen.model_) and len(gen.predict(["say hi"])) == 1
    Xr, yr = X[:8], np.linspace(0, 1, 8)
    reg = _fit(nlpipe.TransformerRegressor, make_tiny_backbone(), activation_checkpointing=True).fit(Xr, yr)
    plain = _fit(nlpipe.TransformerRegressor, make_tiny_backbone()).fit(Xr, yr)
    np.testing.assert_allclose(reg.predict(Xr), plain.predict(Xr), rtol=1e-4, atol=1e-5)


def test_checkpointing_needs_a_transformers_model():
    from nlpipe.neural import TrainingConfig, train

    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    config = TrainingConfig(epochs=1, batch_size=2, activation_checkpointing=True)

    def loss(model, batch, target):
        return torch.nn.functional.cross_entropy(model(batch["input_ids"]), target)

    with pytest.raises(ValueError, match="activation_checkpointing=True, but Sequential holds no transformers model"):
        train(model, [[1, 2], [3, 4]], torch.tensor([0, 1]), loss=loss, config=config, device=torch.device("cpu"),
              pad_id=0)


def test_checkpointing_parameter_is_checked():
    from nlpipe.testing import make_tiny_backbone

    with pytest.raises(ValueError, match="activation_checkpointing"):
        _fit(nlpipe.TransformerClassifier, make_tiny_backbone(), activation_checkpointing="yes").fit(X, y)


def test_cpu_training_runs_without_onednn_and_restores_the_flag():
    # oneDNN's per-shape primitive cache fragments the heap under dynamic padding (see nlpipe/neural/_loop.py).
    from nlpipe.neural import TrainingConfig, encode, load_backbone, load_tokenizer, quiet_transformers, train
    from nlpipe.testing import make_tiny_backbone

    tokenizer = load_tokenizer(make_tiny_backbone())
    with quiet_transformers(0):
        model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2)
    seen = []

    def loss(model, batch, target):
        seen.append(torch.backends.mkldnn.enabled)
        return torch.nn.functional.cross_entropy(model(**batch).logits, target)

    ids = encode(tokenizer, X[:8], max_length=32)
    before = torch.backends.mkldnn.enabled
    train(model, ids, torch.tensor([int(label == "pos") for label in y[:8]]), loss=loss,
          config=TrainingConfig(epochs=1, batch_size=4), device=torch.device("cpu"), pad_id=tokenizer.pad_token_id)
    assert seen == [False, False]
    assert torch.backends.mkldnn.enabled == before

    def failing(model, batch, target):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        train(model, ids, torch.zeros(8, dtype=torch.long), loss=failing, config=TrainingConfig(epochs=1),
              device=torch.device("cpu"), pad_id=tokenizer.pad_token_id)
    assert torch.backends.mkldnn.enabled == before
