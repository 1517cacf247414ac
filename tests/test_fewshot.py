"""FewShotClassifier (issue #21, item 1): SetFit's contrastive tuning and head on nlpipe's training loop."""

import contextlib

import numpy as np
import pytest

import nlpipe
from nlpipe.testing import make_text_classification

torch = pytest.importorskip("torch")

X, y = make_text_classification(3, repeat=1)  # 18 texts, 6 per class: a few-shot set


def _fewshot(**params):
    from nlpipe.testing import make_tiny_backbone

    params = {"model": make_tiny_backbone(), "n_iterations": 10, "learning_rate": 3e-3, "random_state": 0,
              "verbose": 0, **params}
    return nlpipe.FewShotClassifier(**params)


def _class_separation(clf, texts, labels):
    """Mean cosine similarity of same-class pairs minus that of different-class pairs (encoder features)."""
    from nlpipe import neural

    ids = neural.encode(clf.tokenizer_, texts, clf.max_length_)
    E = neural.run_inference(clf.model_, ids, forward=neural.mean_pooled_features, batch_size=8, device=clf.device_,
                             amp_dtype=None, pad_id=clf.tokenizer_.pad_token_id)
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    cos = E @ E.T
    labels = np.asarray(labels)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    return cos[same & off].mean() - cos[~same].mean()


def test_contrastive_epochs_pull_classes_apart_and_the_head_reads_them():
    untuned = _fewshot(epochs=0).fit(X, y)  # the head on the pretrained encoder
    tuned = _fewshot().fit(X, y)
    assert _class_separation(tuned, X, y) > _class_separation(untuned, X, y) + 0.1
    assert tuned.score(X, y) >= 0.9
    assert [h["phase"] for h in tuned.history_] == ["contrastive"] and untuned.history_ == []
    # The contrastive loss went down over the epochs.
    longer = _fewshot(n_iterations=4, epochs=3).fit(X, y)
    losses = [h["train_loss"] for h in longer.history_]
    assert losses[-1] < losses[0]


def test_string_labels_probabilities_and_the_classifier_contract():
    clf = _fewshot().fit(X, y)
    assert clf.classes_.tolist() == sorted(set(y))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()
    # It is a TransformerClassifier with a mean-pooled head: what takes one takes it.
    assert isinstance(clf, nlpipe.TransformerClassifier) and clf.pooling_ == "mean"
    assert "pooling" not in clf.get_params() and "head_init" not in clf.get_params()


def test_multilabel_label_lists():
    Xm, _ = make_text_classification(2, repeat=2)
    ym = [("pos", "movie") if i % 2 == 0 else ("neg",) for i in range(len(Xm))]
    clf = _fewshot().fit(Xm, ym)
    assert clf.multilabel_ and clf.classes_.tolist() == ["movie", "neg", "pos"]
    assert [set(p) for p in clf.predict(Xm)] == [set(t) for t in ym]


def test_joint_epochs_continue_end_to_end_after_the_head():
    clf = _fewshot(joint_epochs=4, class_weight="balanced").fit(X, y)
    assert [h["phase"] for h in clf.history_] == ["contrastive"] + ["joint"] * 4
    joint = [h["train_loss"] for h in clf.history_[1:]]
    assert joint[-1] < joint[0] / 1.5  # the classification loss, end to end
    assert clf.score(X, y) >= 0.9


def test_bad_settings_fail_clearly():
    with pytest.raises(ValueError, match="validation_fraction"):
        _fewshot(validation_fraction=0.2).fit(X, y)
    with pytest.raises(ValueError, match="n_iterations"):
        _fewshot(n_iterations=0).fit(X, y)
    teacher = _fewshot(epochs=0).fit(X, y)
    from nlpipe.neural import SoftTargets

    soft = SoftTargets(teacher.predict_proba(X), np.full(len(X), -1), teacher.classes_)
    with pytest.raises(TypeError, match="TransformerClassifier"):
        _fewshot().fit(X, soft)


def test_pair_similarity_loss_targets_and_repeats():
    from nlpipe.neural import pair_similarity_loss

    E = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    # Two rows of the same text: no pair to learn from, a zero loss that still backpropagates.
    zero = pair_similarity_loss(E, torch.tensor([5, 5]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    zero.backward()
    assert float(zero.detach()) == 0.0 and E.grad is not None
    # Multilabel: {a, b} vs {a} share half their labels; orthogonal vectors (cosine 0) err by 0.5.
    loss = pair_similarity_loss(E.detach(), torch.tensor([0, 1]), torch.tensor([[1.0, 1.0], [1.0, 0.0]]))
    assert float(loss) == pytest.approx(0.25)
    # Balanced: one positive pair right and three negative pairs wrong cost as much as the reverse.
    labels = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    right_pos = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])  # all alike
    assert float(pair_similarity_loss(right_pos, torch.arange(3), labels)) == pytest.approx(0.5)


@contextlib.contextmanager
def _encoder_inputs(model, record):
    """Record the ``input_ids`` of every encoder call on ``model`` while the block runs."""
    hook = model.base_model.embeddings.register_forward_pre_hook(
        lambda module, args, kwargs: record.append(kwargs["input_ids"]), with_kwargs=True)
    try:
        yield record
    finally:
        hook.remove()


def _lengths_batch(lengths, seed=0):
    from nlpipe.neural import collate

    rng = np.random.default_rng(seed)
    return collate([rng.integers(5, 90, size=n).tolist() for n in lengths], pad_id=0, device="cpu")


def test_trim_padding_gives_the_same_features_and_gradients_on_fewer_positions():
    from nlpipe.neural import load_backbone, mean_pooled_features, quiet_transformers
    from nlpipe.testing import make_tiny_backbone

    with quiet_transformers(0):
        model = load_backbone(make_tiny_backbone(), "sequence-classification", num_labels=2).eval()
    batch = _lengths_batch([3, 40, 5, 38, 4, 6, 39, 2])  # two lengths apart: two groups
    features, grads = [], []
    with _encoder_inputs(model, []) as calls:
        for trim in (False, True):
            model.zero_grad()
            features.append(mean_pooled_features(model, batch, trim_padding=trim))
            (features[-1] * torch.linspace(-1, 1, features[-1].shape[1])).sum().backward()
            grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    positions = [ids.numel() for ids in calls]
    torch.testing.assert_close(features[1], features[0], atol=1e-5, rtol=1e-4)  # same rows, same order
    assert len(grads[0]) == len(grads[1])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert positions[0] == 8 * 40 and len(positions) == 3 and sum(positions[1:]) < positions[0] / 1.5
    # Rows of one length: nothing to gain, one call on the batch as it is.
    with _encoder_inputs(model, []) as calls:
        mean_pooled_features(model, _lengths_batch([20] * 6), trim_padding=True)
    assert [ids.numel() for ids in calls] == [6 * 20]


def test_length_groups_is_the_cheapest_split():
    import itertools

    from nlpipe.neural import length_groups

    rng = np.random.default_rng(0)
    for trial in range(30):
        lengths = rng.integers(1, 60, size=rng.integers(1, 9)).tolist()
        mask = _lengths_batch(lengths, seed=trial)["attention_mask"]
        cost = int(rng.integers(0, 80))
        groups = length_groups(mask, call_cost=cost)
        rows = np.concatenate([r.numpy() for r, _ in groups])
        assert sorted(rows.tolist()) == list(range(len(lengths)))  # every row once
        assert all(n == max(lengths[i] for i in r.tolist()) for r, n in groups)
        found = sum(len(r) * n + cost for r, n in groups)
        # Brute force: every split of the length-sorted rows into consecutive groups.
        s = sorted(lengths)
        best = min(sum((b - a) * s[b - 1] + cost for a, b in zip((0, *cuts), (*cuts, len(s))))
                   for m in range(len(s)) for cuts in itertools.combinations(range(1, len(s)), m))
        assert found == best
    # Left padding (a 0 before a 1) is not trimmed from the right: no groups.
    assert length_groups(torch.tensor([[0, 1, 1], [1, 1, 1]])) is None


def test_contrastive_steps_run_the_encoder_on_length_groups(monkeypatch):
    # Few-shot batches are random texts, not texts of one length: each step runs short and long texts apart.
    import nlpipe.neural
    from nlpipe.neural import mean_pooled_features

    texts = [" ".join(["movie"] * n) for n in (2, 30, 3, 28, 2, 31, 4, 29)]
    calls = []

    def recording(model, batch, **kw):
        if not model.training:  # the head's inference pass after the contrastive steps
            return mean_pooled_features(model, batch, **kw)
        with _encoder_inputs(model, calls):
            return mean_pooled_features(model, batch, **kw)

    monkeypatch.setattr(nlpipe.neural, "mean_pooled_features", recording)
    _fewshot(n_iterations=2, batch_size=8).fit(texts, [0, 1] * 4)
    widths = [ids.shape[1] for ids in calls]
    # 2 steps of all 8 texts, each as 2 encoder calls: the short texts', then the long ones'.
    assert len(widths) == 4 and widths[0] == widths[2] < widths[1] == widths[3]
