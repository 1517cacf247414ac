"""TransformerClassifier."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils.class_weight import compute_class_weight

from ..base import (
    Options,
    check_classification_targets,
    check_texts,
    label_lists_to_indicator,
    parameter_docs,
    store_params,
)
from ..finetune import import_neural
from ._head import _HeadData, _head_params, _PooledHeadEstimator


_LABELS_DOC = """\
    classes_ : ndarray
        Class labels (multilabel: label names, or column indices for an indicator ``y``).
    %FITTED%
    %TRAINED%
    multilabel_ : bool
        Whether ``y`` was multilabel.
    label_binarizer_ : MultiLabelBinarizer or None
        Maps label lists to columns, when ``y`` was given as label lists.
"""


def _label_docs(classifier_class):
    """Put the classifiers' label attributes where the docstring says ``%LABELS%``.

    Applied before ``shared_parameters``, which then fills the ``%FITTED%`` and
    ``%TRAINED%`` markers that this text brings.
    """
    classifier_class.__doc__ = classifier_class.__doc__.replace("    %LABELS%\n", _LABELS_DOC)
    return classifier_class


@_head_params
@_label_docs
class TransformerClassifier(ClassifierMixin, _PooledHeadEstimator):
    """Fine-tune a pretrained transformer for binary, multiclass or multilabel text classification.

    A fresh classification head is put on the backbone and the whole model is
    fine-tuned by nlpipe's training loop (AdamW, linear warm-up/decay, gradient
    clipping). ``clone`` gives an unfitted copy, and every ``fit`` reloads the
    pretrained backbone, so each cross-validation fold starts from the same
    weights. Prediction runs in length-sorted, dynamically padded batches;
    texts longer than ``max_length`` tokens are truncated, or read whole as
    overlapping windows (``long_texts``). Besides labels, ``fit`` takes a
    teacher's probabilities as ``y`` (:class:`nlpipe.neural.SoftTargets`,
    what :class:`~nlpipe.compression.Distiller` passes) and trains on their loss.

    Parameters
    ----------
    model : str or path-like, default="distilbert-base-uncased"
        Hub id or local folder of a pretrained backbone (``save_pretrained`` layout).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss (single-label problems).
    %HEAD%
    %TRAINING%

    Attributes
    ----------
    %LABELS%
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
        **_PooledHeadEstimator._parameter_constraints,
        "class_weight": [None, dict, Options(["balanced"])],
    }
    # Inverse regularization of the linear probe: weak, as a starting point that fine-tuning then moves.
    _probe_C = 10.0

    def __init__(self, *, model="distilbert-base-uncased", class_weight=None, pooling="cls", head_init="auto",
                 long_texts="truncate", doc_stride=128, **params):
        super().__init__(**params)
        store_params(self, locals())

    def _validate_data(self, X, y):
        import torch

        texts = check_texts(X)
        if isinstance(y, import_neural().SoftTargets):  # a teacher's probabilities (knowledge distillation)
            return self._soft_target_data(texts, y)
        y, kind = check_classification_targets(y, len(texts))
        self.multilabel_ = kind != "single"
        self.label_binarizer_ = None
        if kind == "single":
            self.classes_, encoded = np.unique(y, return_inverse=True)
            weight = self._class_weights(encoded)
            weight = None if weight is None else torch.as_tensor(weight, dtype=torch.float32)
            loss = torch.nn.CrossEntropyLoss(weight=weight)
            return _HeadData(texts, encoded.astype(np.int64), self._head_config("single_label_classification"),
                             loss, stratify=encoded)
        if self.class_weight is not None:
            raise ValueError("class_weight is not supported with multilabel y.")
        if kind == "lists":
            self.label_binarizer_ = MultiLabelBinarizer()
            targets = self.label_binarizer_.fit_transform(y)
            self.classes_ = self.label_binarizer_.classes_
        else:
            targets = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
            self.classes_ = np.arange(targets.shape[1])
        return _HeadData(texts, targets.astype(np.float32), self._head_config("multi_label_classification"),
                         torch.nn.BCEWithLogitsLoss())

    def _soft_target_data(self, texts, soft):
        if len(soft) != len(texts):
            raise ValueError(f"X and y have different lengths: {len(texts)} texts, {len(soft)} soft targets.")
        self.classes_, self.multilabel_, self.label_binarizer_ = soft.classes, soft.multilabel, soft.label_binarizer
        problem = "multi_label_classification" if soft.multilabel else "single_label_classification"
        return _HeadData(texts, soft.rows(), self._head_config(problem), soft.loss, probe=soft.probe_labels())

    def _head_config(self, problem):
        return {"num_labels": len(self.classes_), "problem_type": problem,
                "id2label": {i: str(c) for i, c in enumerate(self.classes_)}}

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
                probe = LogisticRegression(C=self._probe_C, max_iter=1000).fit(features, column)
                weight[j], bias[j] = probe.coef_[0], probe.intercept_[0]
            return weight, bias
        present = np.unique(targets)
        if len(present) < 2:
            return weight, bias
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            class_weight = {i: class_weight.get(c, 1.0) for i, c in enumerate(self.classes_.tolist())}
        probe = LogisticRegression(C=self._probe_C, max_iter=1000, class_weight=class_weight).fit(features, targets)
        if len(present) == 2:  # one logit difference, split evenly between the two outputs
            weight[present] = np.vstack([-probe.coef_[0], probe.coef_[0]]) / 2
            bias[present] = np.array([-probe.intercept_[0], probe.intercept_[0]]) / 2
        else:
            weight[present], bias[present] = probe.coef_, probe.intercept_
        return weight, bias

    def _class_weights(self, encoded):
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced":
            w = compute_class_weight("balanced", classes=np.arange(len(self.classes_)), y=encoded)
        else:
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight names labels not in y: {sorted(unknown, key=str)}")
            w = np.array([self.class_weight.get(c, 1.0) for c in self.classes_.tolist()])
        return w

    @parameter_docs
    def decision_function(self, X):
        """Logits of the classification head.

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

    @parameter_docs
    def predict_proba(self, X):
        """Class probabilities (softmax; independent sigmoids for multilabel)."""
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

    @parameter_docs
    def predict(self, X):
        """Predict labels.

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

    @parameter_docs
    def score(self, X, y, sample_weight=None):
        """Accuracy (subset accuracy for multilabel problems).

        Parameters
        ----------
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
        return tags
