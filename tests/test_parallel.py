"""Parallel search: GridSearchCV with joblib's loky processes gives the serial run's results (issue #9, first part)."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

import nlpipe
from nlpipe.testing import make_text_classification

X, y = make_text_classification(2)


def _cases():
    yield nlpipe.TfidfSVMClassifier(random_state=0), {"C": [0.1, 1.0], "ngram_range": [(1, 1), (1, 2)]}
    pytest.importorskip("torch")
    from nlpipe.testing import make_tiny_backbone

    yield (nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=1, batch_size=8, verbose=0, random_state=0),
           {"learning_rate": [1e-3, 3e-3]})


@pytest.mark.parametrize("case", ["tfidf", "transformer"])
def test_grid_search_in_loky_processes_equals_the_serial_run(case):
    est, grid = list(_cases())[0 if case == "tfidf" else 1]
    serial = GridSearchCV(est, grid, cv=3).fit(X, y)
    parallel = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X, y)  # estimators pickled into 2 worker processes
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_array_equal(parallel.predict(X), serial.predict(X))
