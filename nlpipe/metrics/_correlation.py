"""Correlation metrics of intensity predictions (the EmoInt/SemEval measures), averaged over output columns."""

import numpy as np
from scipy import stats
from sklearn.metrics import make_scorer

from ..base import parameter_docs


# The parameters both correlations share, described once.
_correlation_docs = parameter_docs(entries={
    "y_true": "array-like of shape (n_samples,) or (n_samples, n_outputs)\n    True values.",
    "y_pred": "array-like of the same shape\n    Predictions.",
})


def _columns(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}.")
    if y_true.ndim == 1:
        return y_true[:, None], y_pred[:, None]
    return y_true, y_pred


def _mean_corr(corr, y_true, y_pred):
    t, p = _columns(y_true, y_pred)
    if t.shape[0] < 2:
        raise ValueError("A correlation needs at least 2 samples.")
    values = []
    for j in range(t.shape[1]):
        if np.ptp(t[:, j]) == 0 or np.ptp(p[:, j]) == 0:
            values.append(0.0)  # a constant has no correlation; 0 instead of NaN keeps CV means usable
        else:
            values.append(float(corr(t[:, j], p[:, j])[0]))
    return float(np.mean(values))


@_correlation_docs
def pearson_r(y_true, y_pred):
    """Pearson correlation, averaged over output columns (the EmoInt/SemEval metric).

    Returns
    -------
    r : float
        Mean Pearson r over the columns; a constant column counts as 0.

    Examples
    --------
    >>> from nlpipe.metrics import pearson_r
    >>> round(pearson_r([0.1, 0.5, 0.9], [0.2, 0.4, 0.8]), 4)
    0.982
    """
    return _mean_corr(stats.pearsonr, y_true, y_pred)


@_correlation_docs
def spearman_r(y_true, y_pred):
    """Spearman rank correlation, averaged over output columns.

    Returns
    -------
    rho : float
        Mean Spearman rho over the columns; a constant column counts as 0.

    Examples
    --------
    >>> from nlpipe.metrics import spearman_r
    >>> spearman_r([0.1, 0.5, 0.9], [0.2, 0.4, 0.8])
    1.0
    """
    return _mean_corr(stats.spearmanr, y_true, y_pred)


pearson_scorer = make_scorer(pearson_r)
spearman_scorer = make_scorer(spearman_r)
