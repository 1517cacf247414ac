"""FewShotClassifier (issue #21, item 1): SetFit's contrastive tuning and head on nlpipe's training loop."""

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
