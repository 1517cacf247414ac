"""Knowledge distillation: a student learns a teacher's soft outputs over transfer texts."""

import numbers
import os

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier, is_regressor
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..base import HasMethods, Interval, check_texts, fit_context, parameter_docs, store_params


def _teacher_logits(teacher, texts):
    """Per-class scores whose softmax (sigmoid for multilabel) gives the teacher's probabilities."""
    if hasattr(teacher, "decision_function"):
        try:
            D = np.asarray(teacher.decision_function(texts), dtype=np.float64)
        except AttributeError:  # available_if hid it (e.g. an SVM without probability)
            D = None
        if D is not None:
            return np.column_stack([np.zeros(len(D)), D]) if D.ndim == 1 else D
    with np.errstate(divide="ignore"):
        P = np.asarray(teacher.predict_proba(texts), dtype=np.float64)
        return np.log(np.clip(P, 1e-12, 1.0))


def _delegate(name):
    return available_if(lambda self: hasattr(self.student, name))


class Distiller(MetaEstimatorMixin, BaseEstimator):
    """Train a smaller ``student`` to reproduce a ``teacher``'s outputs (knowledge distillation).

    ``fit(X, y=None)`` runs the teacher over the transfer texts ``X`` (no labels
    needed) and trains a clone of ``student`` on its outputs softened by
    ``temperature``, mixed with the gold labels ``y`` where given (Hinton et al.,
    2015). Students:

    * ``TransformerClassifier`` (e.g. on :func:`truncated_backbone`, the first
      layers of the teacher's encoder): it is fitted on
      :class:`nlpipe.neural.SoftTargets`, whose loss is ``w * T^2 * KL`` to the
      teacher's softened distribution plus ``(1 - w) *`` cross-entropy on the
      gold labels (per-label binary cross-entropy for multilabel teachers), with
      ``w = teacher_weight``.
    * a scikit-learn classifier taking ``sample_weight`` (``TfidfSVMClassifier``,
      ``TfidfNBClassifier``, ``LogisticRegression`` in a pipeline...): each text
      appears once per class, weighted by the teacher's softened probability
      (the expected loss under the teacher's distribution); gold labels add
      weight ``1 - teacher_weight`` to their class. Multilabel teachers give such
      students their thresholded label sets.
    * regressors (``TransformerRegressor`` or any scikit-learn regressor) for
      regression teachers: trained on ``w * teacher + (1 - w) * gold``.

    Parameters
    ----------
    teacher : estimator
        A fitted classifier or regressor (``prefit=True``), or one to fit on ``X, y``.
    student : estimator
        The unfitted student; cloned in ``fit``.
    temperature : float, default=2.0
        Softening of the teacher's probabilities (classifiers).
    teacher_weight : float in [0, 1], default=0.5
        Weight of the teacher's outputs against the gold labels (1 ignores ``y``).
    prefit : bool, default=True
        Use ``teacher`` as fitted; False fits a clone on ``X, y`` first (then
        ``cross_val_score`` refits teacher and student on each training fold).

    Attributes
    ----------
    student_ : estimator
        The trained student; ``predict`` and friends delegate to it.
    teacher_ : estimator
        The teacher used.
    classes_ : ndarray
        The teacher's classes (classifiers).

    See Also
    --------
    truncated_backbone : a student backbone made of the teacher's first layers.
    Quantizer, Pruner : compress a fitted model without training.

    Examples
    --------
    >>> from nlpipe import TfidfNBClassifier, TfidfSVMClassifier
    >>> from nlpipe.compression import Distiller
    >>> X = ["good film", "great film", "bad film", "awful film"] * 3
    >>> y = ["pos", "pos", "neg", "neg"] * 3
    >>> teacher = TfidfNBClassifier(min_df=1).fit(X, y)
    >>> student = Distiller(teacher=teacher, student=TfidfSVMClassifier(min_df=1)).fit(X)
    >>> student.predict(["a good film", "an awful film"]).tolist()
    ['pos', 'neg']
    """

    _parameter_constraints = {
        "teacher": [HasMethods(["fit", "predict"])],
        "student": [HasMethods(["fit", "predict"])],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "teacher_weight": [Interval(numbers.Real, 0, 1)],
        "prefit": ["boolean"],
    }

    def __init__(self, *, teacher, student, temperature=2.0, teacher_weight=0.5, prefit=True):
        store_params(self, locals())

    @fit_context
    def fit(self, X, y=None):
        """Train the student on the teacher's outputs over ``X`` (and on ``y`` where given).

        Parameters
        ----------
        X : list of str
            Transfer texts (unlabelled texts work).
        y : array-like or None, default=None
            Gold labels or targets: None, or one per text with ``None`` (classifiers)
            or NaN (regressors) for unlabelled texts.

        Returns
        -------
        self : Distiller
        """
        texts = check_texts(X)
        if self.prefit:
            teacher = self.teacher
            check_is_fitted(teacher, msg="prefit=True needs a fitted teacher: fit it first, or pass prefit=False.")
        else:
            if y is None:
                raise ValueError("prefit=False fits the teacher on X, y: y is needed.")
            teacher = clone(self.teacher).fit(X, y)
        if y is not None and len(y) != len(texts):
            raise ValueError(f"X and y have different lengths: {len(texts)} texts, {len(y)} labels.")
        self.teacher_ = teacher
        student = clone(self.student)
        if is_regressor(teacher):
            self.student_ = self._fit_regression(student, texts, y)
        elif is_classifier(teacher) or hasattr(teacher, "classes_"):
            self.classes_ = np.asarray(teacher.classes_)
            self.student_ = self._fit_classification(student, texts, y)
        else:
            raise TypeError(f"The teacher must be a classifier or a regressor; got a {type(teacher).__name__}.")
        return self

    # ------------------------------------------------------------ regression
    def _fit_regression(self, student, texts, y):
        target = np.asarray(self.teacher_.predict(texts), dtype=np.float64)
        if y is not None:
            gold = np.asarray(y, dtype=np.float64).reshape(target.shape)
            has = ~np.isnan(gold)
            w = self.teacher_weight
            target = np.where(has, w * target + (1 - w) * np.where(has, gold, 0.0), target)
        return student.fit(texts, target)

    # -------------------------------------------------------- classification
    def _multilabel(self):
        return bool(getattr(self.teacher_, "multilabel_", False))

    def _gold_indices(self, y, n):
        """Class index per text (-1 when unlabelled); an indicator row per text (-1 rows) for multilabel."""
        classes = list(self.classes_)
        if y is None:
            return np.full((n, len(classes)), -1.0) if self._multilabel() else np.full(n, -1)
        if self._multilabel():
            binarizer = getattr(self.teacher_, "label_binarizer_", None)
            rows = []
            for labels in y:
                if labels is None:
                    rows.append(np.full(len(classes), -1.0))
                elif binarizer is not None:
                    rows.append(binarizer.transform([labels])[0].astype(float))
                else:
                    rows.append(np.asarray(labels, dtype=float))
            return np.vstack(rows)
        index = {c: i for i, c in enumerate(classes)}
        out = np.full(n, -1)
        for i, label in enumerate(y):
            if label is not None and not (isinstance(label, float) and np.isnan(label)):
                if label not in index:
                    raise ValueError(f"y[{i}]={label!r} is not one of the teacher's classes {classes}.")
                out[i] = index[label]
        return out

    def _fit_classification(self, student, texts, y):
        from ..classification import TransformerClassifier

        Z = _teacher_logits(self.teacher_, texts)
        T = float(self.temperature)
        soft = expit(Z / T) if self._multilabel() else softmax(Z / T, axis=1)
        gold = self._gold_indices(y, len(texts))
        if isinstance(student, TransformerClassifier):
            from ..finetune import import_neural

            targets = import_neural().SoftTargets(
                soft, gold, self.classes_, temperature=T, teacher_weight=float(self.teacher_weight),
                multilabel=self._multilabel(), label_binarizer=getattr(self.teacher_, "label_binarizer_", None),
            )
            return student.fit(texts, targets)
        if self._multilabel():
            hard = np.where(gold >= 0, gold, (soft > 0.5).astype(float)).astype(int)
            binarizer = getattr(self.teacher_, "label_binarizer_", None)
            return student.fit(texts, binarizer.inverse_transform(hard) if binarizer is not None else hard)
        # Each text once per class, weighted by the teacher's probability: the expected loss under its distribution.
        n, k = soft.shape
        weights = self.teacher_weight * soft
        labelled = gold >= 0
        weights[np.flatnonzero(labelled), gold[labelled]] += 1 - self.teacher_weight
        rows, cols = np.nonzero(weights > 1e-4)
        return student.fit([texts[i] for i in rows], self.classes_[cols], sample_weight=weights[rows, cols])

    # ------------------------------------------------------------ delegation
    @_delegate("predict")
    @parameter_docs
    def predict(self, X):
        """Predict with the student.

        Returns
        -------
        y_pred : ndarray
        """
        check_is_fitted(self, "student_")
        return self.student_.predict(X)

    @_delegate("predict_proba")
    @parameter_docs
    def predict_proba(self, X):
        """Class probabilities of the student."""
        check_is_fitted(self, "student_")
        return self.student_.predict_proba(X)

    @_delegate("decision_function")
    @parameter_docs
    def decision_function(self, X):
        """Decision scores of the student.

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self, "student_")
        return self.student_.decision_function(X)

    @parameter_docs
    def score(self, X, y, sample_weight=None):
        """The student's ``score``.

        Parameters
        ----------
        y : array-like
            True labels or targets.
        sample_weight : array-like, default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "student_")
        return self.student_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        try:
            tags.estimator_type = clone(self.student).__sklearn_tags__().estimator_type
        except (TypeError, AttributeError):
            pass
        return tags


def truncated_backbone(model, n_layers, path=None):
    """Save the first ``n_layers`` of a transformer's encoder as a backbone folder for a student.

    Parameters
    ----------
    model : str, path-like or fitted transformer estimator
        A backbone folder / hub id in the local cache, or a fitted nlpipe
        transformer model (its fine-tuned encoder is used).
    n_layers : int
        Encoder layers to keep (counted from the embeddings).
    path : str or path-like, default=None
        Target folder; when None, a new temporary folder that is removed when the
        process exits (give a path to keep the backbone).

    Returns
    -------
    path : str
        The folder, ready for ``TransformerClassifier(model=path)``.

    Examples
    --------
    >>> import tempfile
    >>> from transformers import AutoConfig
    >>> from nlpipe.compression import truncated_backbone
    >>> from nlpipe.testing import make_tiny_backbone
    >>> teacher = make_tiny_backbone()  # 2 layers
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     student = truncated_backbone(teacher, 1, path=tmp)
    ...     config = AutoConfig.from_pretrained(student)
    >>> student == tmp, config.num_hidden_layers
    (True, 1)
    """
    import tempfile

    from .. import neural

    if isinstance(n_layers, bool) or not isinstance(n_layers, numbers.Integral) or n_layers < 1:
        raise ValueError(f"n_layers must be a positive int; got {n_layers!r}.")
    if hasattr(model, "model_"):
        encoder, tokenizer = model.model_.base_model, model.tokenizer_
    else:
        with neural.quiet_transformers(0):
            encoder = neural.load_backbone(os.fspath(model), "embedding")
            tokenizer = neural.load_tokenizer(os.fspath(model))
    import copy

    encoder = copy.deepcopy(encoder).to("cpu")
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise TypeError(f"Cannot cut the layers of a {type(encoder).__name__}: it has no encoder.layer list.")
    if n_layers > len(layers):
        raise ValueError(f"n_layers={n_layers} but the encoder has only {len(layers)} layers.")
    encoder.encoder.layer = layers[:n_layers]
    encoder.config.num_hidden_layers = n_layers
    if path is None:
        import atexit
        import shutil

        path = tempfile.mkdtemp(prefix="nlpipe-student-")
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    encoder.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return os.fspath(path)
