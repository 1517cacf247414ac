import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from nlpipe.metrics import pearson_r, pearson_scorer, spearman_r, spearman_scorer


def test_single_and_multi_output():
    rng = np.random.default_rng(0)
    t = rng.random((50, 3))
    p = t + rng.normal(0, 0.1, (50, 3))
    expected = np.mean([stats.pearsonr(t[:, j], p[:, j])[0] for j in range(3)])
    assert pearson_r(t, p) == pytest.approx(expected)
    assert pearson_r(t[:, 0], p[:, 0]) == pytest.approx(stats.pearsonr(t[:, 0], p[:, 0])[0])
    assert spearman_r(t[:, 1], t[:, 1] ** 3) == pytest.approx(1.0)


def test_constant_predictions_count_as_zero_and_shapes_must_match():
    assert pearson_r([0.1, 0.5, 0.9], [0.3, 0.3, 0.3]) == 0.0
    with pytest.raises(ValueError, match="shape"):
        pearson_r([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        spearman_r([1.0], [1.0])


@pytest.mark.parametrize("scorer", [pearson_scorer, spearman_scorer])
def test_scorers_in_cross_validation(scorer):
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(0, 0.05, 60)
    scores = cross_val_score(Ridge(alpha=1e-3), X, y, cv=3, scoring=scorer)
    assert scores.shape == (3,) and (scores > 0.95).all()
