"""TransformerClassifier."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils.class_weight import compute_class_weight

from ..base import Options, check_classification_targets, check_texts, label_lists_to_indicator
from .._transformer import _FineTunedBase, fill_checkpoint_doc


@fill_checkpoint_doc
class TransformerClassifier(ClassifierMixin, _FineTunedBase):
    """Fine-tune a pretrained transformer for binary, multiclass or multilabel text classification.

    A fresh classification head is put on the backbone and the whole model is
    fine-tuned by nlpipe's training loop (AdamW, linear warm-up/decay, gradient
    clipping). ``clone`` gives an unfitted copy, and every ``fit`` reloads the
    pretrained backbone, so each cross-validation fold starts from the same
    weights. Prediction runs in length-sorted, dynamically padded batches;
    texts longer than ``max_length`` tokens are truncated.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-uncased"
        Hub id or local folder of a pretrained backbone (``save_pretrained`` layout).
    max_length : int or None, default=None
        Truncate texts to this many tokens; None uses the backbone's limit.
        Larger values are clipped to that limit.
    batch_size : int, default=32
        Batch size for training and prediction.
    epochs : int, default=3
        Passes over the training data.
    learning_rate : float, default=5e-5
        Peak AdamW learning rate.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and norm weights).
    warmup_ratio : float, default=0.1
        Fraction of the steps with a linear learning-rate warm-up.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients are summed before each optimizer step.
    max_grad_norm : float or None, default=1.0
        Gradient clipping norm; None disables clipping.
    validation_fraction : float or None, default=None
        Hold out this fraction (stratified) to measure the validation loss
        after every epoch; the best epoch's weights are kept.
    early_stopping_patience : int or None, default=None
        With a validation split, stop after this many epochs without improvement.
    %CHECKPOINT%
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss (single-label problems).
    pooling : {"cls", "mean", "auto"}, default="cls"
        What the head reads: "cls" is the architecture's own head ([CLS] pooler for
        BERT), as ``AutoModelForSequenceClassification`` and ``pipeline()`` run it;
        "mean" puts the linear head on the average of the token vectors (BERT-style
        heads only); "auto" is "mean" for sentence-transformers backbones, which
        were trained with mean pooling, and "cls" otherwise.
    head_init : {"auto", "random", "probe"}, default="auto"
        "probe" starts the linear head from a linear model fitted on the frozen
        mean-pooled features, then fine-tunes everything (LP-FT); it needs mean
        pooling and costs one extra forward pass over the training texts.
        "auto" probes when the pooling in use is "mean", else starts at random.
    device : str, default="auto"
        "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps".
    mixed_precision : {"auto", "no", "fp16", "bf16"}, default="auto"
        Autocast on CUDA ("auto": bf16 where supported, else fp16); CPU runs fp32.
    random_state : int, RandomState instance or None, default=None
        Seeds the head initialisation, dropout, shuffling and the validation split.
    verbose : int, default=1
        Progress bars when > 0; transformers' own loading reports and bars only when >= 2.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (multilabel: label names, or column indices for an indicator ``y``).
    model_ : transformers.PreTrainedModel
        The fine-tuned model.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    device_ : torch.device
        Where the model lives.
    max_length_ : int
        The truncation length in use.
    multilabel_ : bool
        Whether ``y`` was multilabel.
    label_binarizer_ : MultiLabelBinarizer or None
        Maps label lists to columns, when ``y`` was given as label lists.
    pooling_ : {"cls", "mean"}
        The pooling in use.
    history_ : list of dict
        Per-epoch ``train_loss`` (and ``val_loss``).

    See Also
    --------
    TfidfSVMClassifier : the fast classic baseline with the same API.
    TransformerRegressor : the same core with a regression head.
    TransformerEmbedder : a frozen encoder as a feature extractor.

    Examples
    --------
    >>> from nlpipe import TransformerClassifier
    >>> from nlpipe.testing import make_tiny_backbone, make_text_classification
    >>> X, y = make_text_classification(2)
    >>> clf = TransformerClassifier(model=make_tiny_backbone(), epochs=10, learning_rate=3e-3, batch_size=8,
    ...                             random_state=0, verbose=0).fit(X, y)
    >>> clf.score(X, y)
    1.0
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        **_FineTunedBase._parameter_constraints,
        "class_weight": [None, dict, Options(["balanced"])],
    }

    def __init__(
        self,
        *,
        model="distilbert-base-uncased",
        max_length=None,
        batch_size=32,
        epochs=3,
        learning_rate=5e-5,
        weight_decay=0.01,
        warmup_ratio=0.1,
        gradient_accumulation_steps=1,
        max_grad_norm=1.0,
        validation_fraction=None,
        early_stopping_patience=None,
        checkpoint_dir=None,
        resume=False,
        class_weight=None,
        pooling="cls",
        head_init="auto",
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping_patience = early_stopping_patience
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.class_weight = class_weight
        self.pooling = pooling
        self.head_init = head_init
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        """Fine-tune the backbone on texts and labels.

        Parameters
        ----------
        X : list, ndarray, pandas Series or one-column DataFrame of str
            Training texts.
        y : array-like of shape (n_samples,), list of label lists, or indicator matrix
            Labels (str or int); label lists or a 0/1 matrix for multilabel problems.

        Returns
        -------
        self : TransformerClassifier
        """
        import torch

        self._validate_params()
        texts = check_texts(X)
        y, kind = check_classification_targets(y, len(texts))
        self.multilabel_ = kind != "single"
        self.label_binarizer_ = None
        if kind == "single":
            self.classes_, encoded = np.unique(y, return_inverse=True)
            targets = encoded.astype(np.int64)
            weight = self._class_weights(encoded)
            loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
            problem = "single_label_classification"
        else:
            if self.class_weight is not None:
                raise ValueError("class_weight is not supported with multilabel y.")
            if kind == "lists":
                self.label_binarizer_ = MultiLabelBinarizer()
                targets = self.label_binarizer_.fit_transform(y)
                self.classes_ = self.label_binarizer_.classes_
            else:
                targets = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
                self.classes_ = np.arange(targets.shape[1])
            targets = targets.astype(np.float32)
            loss_fn = torch.nn.BCEWithLogitsLoss()
            problem = "multi_label_classification"
        head = {
            "num_labels": len(self.classes_),
            "problem_type": problem,
            "id2label": {i: str(c) for i, c in enumerate(self.classes_)},
        }
        stratify = targets if kind == "single" else None
        return self._fit_backbone(texts, targets, head=head, loss_fn=loss_fn, stratify=stratify)

    def _fit_distilled(self, texts, soft, gold, *, classes, multilabel, label_binarizer, temperature, alpha):
        """Fine-tune on a teacher's softened probabilities ``soft`` and optional ``gold`` labels.

        Single-label: ``alpha * T^2 * KL(soft || softmax(z / T)) + (1 - alpha) * CE(z, gold)``
        (Hinton et al., 2015), the gold term over the rows that have a label (``gold >= 0``).
        Multilabel: the same with per-label binary cross-entropy; ``gold`` is an indicator
        matrix with ``-1`` rows for unlabelled texts.
        """
        import torch

        self._validate_params()
        self.classes_, self.multilabel_, self.label_binarizer_ = classes, multilabel, label_binarizer
        n = len(classes)
        T = float(temperature)

        def loss_fn(logits, target):
            soft_t = target[:, :n]
            if multilabel:
                gold_t, has = target[:, n:2 * n], target[:, 2 * n] > 0
                loss = alpha * T * T * torch.nn.functional.binary_cross_entropy_with_logits(logits / T, soft_t)
                if alpha < 1 and has.any():
                    loss = loss + (1 - alpha) * torch.nn.functional.binary_cross_entropy_with_logits(
                        logits[has], gold_t[has])
                return loss
            gold_t = target[:, n].long()
            log_student = torch.nn.functional.log_softmax(logits / T, dim=1)
            loss = alpha * T * T * torch.nn.functional.kl_div(log_student, soft_t, reduction="batchmean")
            has = gold_t >= 0
            if alpha < 1 and has.any():
                loss = loss + (1 - alpha) * torch.nn.functional.cross_entropy(logits[has], gold_t[has])
            return loss

        if multilabel:
            has = (gold >= 0).all(axis=1, keepdims=True).astype(np.float32)
            targets = np.hstack([soft, np.where(gold >= 0, gold, 0), has]).astype(np.float32)
            probe = (soft > 0.5).astype(np.float32)
            problem = "multi_label_classification"
        else:
            targets = np.hstack([soft, gold.reshape(-1, 1)]).astype(np.float32)
            probe = soft.argmax(axis=1)
            problem = "single_label_classification"
        head = {"num_labels": n, "problem_type": problem, "id2label": {i: str(c) for i, c in enumerate(classes)}}
        return self._fit_backbone(texts, targets, head=head, loss_fn=loss_fn, probe_targets=probe)

    def _linear_probe(self, features, targets):
        from sklearn.linear_model import LogisticRegression

        n_out = len(self.classes_)
        weight, bias = np.zeros((n_out, features.shape[1])), np.zeros(n_out)
        if self.multilabel_:
            for j in range(n_out):
                column = targets[:, j]
                if column.min() == column.max():  # a label always on (or off) in this training set
                    bias[j] = 4.0 if column[0] else -4.0
                    continue
                probe = LogisticRegression(C=10.0, max_iter=1000).fit(features, column)
                weight[j], bias[j] = probe.coef_[0], probe.intercept_[0]
            return weight, bias
        present = np.unique(targets)
        if len(present) < 2:
            return weight, bias
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            class_weight = {i: class_weight.get(c, 1.0) for i, c in enumerate(self.classes_.tolist())}
        probe = LogisticRegression(C=10.0, max_iter=1000, class_weight=class_weight).fit(features, targets)
        if len(present) == 2:  # one logit difference, split evenly between the two outputs
            weight[present] = np.vstack([-probe.coef_[0], probe.coef_[0]]) / 2
            bias[present] = np.array([-probe.intercept_[0], probe.intercept_[0]]) / 2
        else:
            weight[present], bias[present] = probe.coef_, probe.intercept_
        return weight, bias

    def _class_weights(self, encoded):
        import torch

        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            w = compute_class_weight("balanced", classes=np.arange(len(self.classes_)), y=encoded)
        else:
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight names labels not in y: {sorted(unknown, key=str)}")
            w = np.array([self.class_weight.get(c, 1.0) for c in self.classes_.tolist()])
        return torch.as_tensor(w, dtype=torch.float32)

    def decision_function(self, X):
        """Logits of the classification head.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class; for binary problems the single logit
            difference (positive means ``classes_[1]``), as scikit-learn's.
        """
        logits = self._outputs(X)
        if not self.multilabel_ and logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities (softmax; independent sigmoids for multilabel).

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return self._proba(self._outputs(X))

    def _proba(self, logits):
        if self.multilabel_:
            return 1.0 / (1.0 + np.exp(-logits))
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def _predict_encoded(self, X):
        logits = self._outputs(X)
        if self.multilabel_:
            return (logits > 0).astype(np.int64)
        return np.argmax(logits, axis=1)

    def predict(self, X):
        """Predict labels.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        y_pred : ndarray, list of tuple, or indicator matrix
            Labels in the form given to ``fit``.
        """
        encoded = self._predict_encoded(X)
        if not self.multilabel_:
            return self.classes_[encoded]
        if self.label_binarizer_ is not None:
            return self.label_binarizer_.inverse_transform(encoded)
        return encoded

    def score(self, X, y, sample_weight=None):
        """Accuracy (subset accuracy for multilabel problems).

        Parameters
        ----------
        X : list of str
            Texts.
        y : array-like, list of label lists, or indicator matrix
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        pred = self.predict(X)
        if self.label_binarizer_ is not None:
            return accuracy_score(
                label_lists_to_indicator(self.label_binarizer_, y, len(pred)),
                self.label_binarizer_.transform(pred),
                sample_weight=sample_weight,
            )
        return accuracy_score(y, pred, sample_weight=sample_weight)

    def _fitted_meta(self):
        meta = super()._fitted_meta()
        meta.update(
            classes_=self.classes_.tolist(),
            multilabel_=self.multilabel_,
            label_lists=self.label_binarizer_ is not None,
        )
        return meta

    def _set_fitted_meta(self, meta):
        super()._set_fitted_meta(meta)
        self.classes_ = np.asarray(meta["classes_"])
        self.multilabel_ = meta["multilabel_"]
        self.label_binarizer_ = None
        if meta["label_lists"]:
            self.label_binarizer_ = MultiLabelBinarizer(classes=meta["classes_"]).fit([meta["classes_"]])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.non_deterministic = self.random_state is None
        return tags
