"""Training targets that bring their own loss: a teacher's soft labels (knowledge distillation)."""

import numpy as np
import torch


class SoftTargets:
    """Classification targets given as a teacher's probabilities, mixed with gold labels where known.

    A classifier that receives ``SoftTargets`` as ``y`` trains its head on them
    with :meth:`loss` instead of its own cross-entropy; its ``classes_`` are the
    teacher's. Single-label: ``w * T^2 * KL(proba || softmax(z / T)) + (1 - w) *
    CE(z, gold)`` (Hinton et al., 2015), the gold term over the rows that have a
    label. Multilabel: the same with per-label binary cross-entropy.
    :class:`nlpipe.compression.Distiller` builds them for transformer students.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        The teacher's probabilities, softened by ``temperature``.
    labels : array-like of shape (n_samples,) or (n_samples, n_classes)
        Gold class index per row, -1 where unlabelled; multilabel: a 0/1 row,
        all -1 where unlabelled.
    classes : array-like of shape (n_classes,)
        The teacher's classes (label names, or column indices).
    temperature : float, default=1.0
        The softening ``T`` applied to the teacher (and to the student in the loss).
    teacher_weight : float, default=1.0
        ``w``: the teacher's share of the loss against the gold labels.
    multilabel : bool, default=False
        Independent labels (sigmoids) instead of one class per row.
    label_binarizer : sklearn.preprocessing.MultiLabelBinarizer or None, default=None
        The teacher's, when its multilabel ``y`` were label lists.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from nlpipe.neural import SoftTargets
    >>> soft = SoftTargets(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, -1]), ["neg", "pos"],
    ...                    temperature=2.0, teacher_weight=0.5)
    >>> rows = torch.as_tensor(soft.rows())
    >>> rows.shape
    torch.Size([2, 3])
    >>> bool(soft.loss(torch.tensor([[2.0, -2.0], [-1.0, 1.0]]), rows) > 0)
    True
    >>> soft.probe_labels().tolist()
    [0, 1]
    """

    def __init__(self, proba, labels, classes, *, temperature=1.0, teacher_weight=1.0, multilabel=False,
                 label_binarizer=None):
        self.proba = np.asarray(proba, dtype=np.float64)
        self.labels = np.asarray(labels)
        self.classes = np.asarray(classes)
        self.temperature = float(temperature)
        self.teacher_weight = float(teacher_weight)
        self.multilabel = bool(multilabel)
        self.label_binarizer = label_binarizer
        if self.proba.ndim != 2 or self.proba.shape[1] != len(self.classes):
            raise ValueError(f"proba must have one column per class ({len(self.classes)}); got shape {self.proba.shape}.")
        if len(self.labels) != len(self.proba):
            raise ValueError(f"proba and labels have different lengths: {len(self.proba)} and {len(self.labels)}.")

    def __len__(self):
        return len(self.proba)

    def rows(self):
        """One float32 row per sample: the probabilities, then the gold label(s) and (multilabel) a has-label flag.

        Returns
        -------
        rows : ndarray of float32
            What the training loop batches as the targets.
        """
        if self.multilabel:
            has = (self.labels >= 0).all(axis=1, keepdims=True).astype(np.float32)
            return np.hstack([self.proba, np.where(self.labels >= 0, self.labels, 0), has]).astype(np.float32)
        return np.hstack([self.proba, self.labels.reshape(-1, 1)]).astype(np.float32)

    def probe_labels(self):
        """Hard labels from the teacher, for a linear-probe head initialisation.

        Returns
        -------
        labels : ndarray
            Arg-max class per row; multilabel: the labels above 0.5.
        """
        if self.multilabel:
            return (self.proba > 0.5).astype(np.float32)
        return self.proba.argmax(axis=1)

    def loss(self, logits, target):
        """The distillation loss of a batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (batch, n_classes)
            The student's outputs.
        target : torch.Tensor
            The batch's rows of :meth:`rows`.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        n, T, w = len(self.classes), self.temperature, self.teacher_weight
        soft = target[:, :n]
        functional = torch.nn.functional
        if self.multilabel:
            gold, has = target[:, n:2 * n], target[:, 2 * n] > 0
            value = w * T * T * functional.binary_cross_entropy_with_logits(logits / T, soft)
            if w < 1 and has.any():
                value = value + (1 - w) * functional.binary_cross_entropy_with_logits(logits[has], gold[has])
            return value
        gold = target[:, n].long()
        value = w * T * T * functional.kl_div(functional.log_softmax(logits / T, dim=1), soft, reduction="batchmean")
        has = gold >= 0
        if w < 1 and has.any():
            value = value + (1 - w) * functional.cross_entropy(logits[has], gold[has])
        return value


def pair_similarity_loss(embeddings, sources, labels):
    """SetFit's cosine-similarity loss over every pair of texts in a batch, positives and negatives weighed equally.

    The target similarity of two texts is the Jaccard similarity of their label
    sets: 1 for the same class and 0 for different classes (single-label, one-hot
    ``labels``), the share of labels in common for multilabel rows (two texts
    without labels: 1). The loss is the squared error between the embeddings'
    cosine similarity and that target, averaged over the positive pairs (target
    >= 0.5) and over the negative ones, then between the two, so that a batch of
    many classes is not all negatives. Pairs of rows with the same ``sources``
    value (a text and its repeat) are left out.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n_texts, hidden_size)
        One vector per text of the batch.
    sources : torch.Tensor of shape (n_texts,)
        The training text each row is (rows repeated across iterations share it).
    labels : torch.Tensor of shape (n_texts, n_labels)
        0/1 label indicators per row (one-hot for single-label problems).

    Returns
    -------
    loss : torch.Tensor
        A scalar; 0 (with gradient) when the batch has no pair of different texts.

    Examples
    --------
    >>> import torch
    >>> from nlpipe.neural import pair_similarity_loss
    >>> labels = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> aligned = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])  # same class together, other class orthogonal
    >>> float(pair_similarity_loss(aligned, torch.arange(3), labels))
    0.0
    >>> round(float(pair_similarity_loss(torch.ones(3, 2), torch.arange(3), labels)), 4)  # all alike: negatives err
    0.5
    """
    z = torch.nn.functional.normalize(embeddings.float(), dim=1)
    cos = z @ z.T
    labels = labels.float()
    inter = labels @ labels.T
    count = labels.sum(dim=1)
    union = count[:, None] + count[None, :] - inter
    target = torch.where(union > 0, inter / union.clamp(min=1e-12), torch.ones_like(inter))
    pairs = torch.triu(sources[:, None] != sources[None, :], diagonal=1)
    error = (cos - target) ** 2
    parts = [error[mask].mean() for mask in (pairs & (target >= 0.5), pairs & (target < 0.5)) if mask.any()]
    if not parts:
        return (embeddings * 0).sum()
    return sum(parts) / len(parts)
