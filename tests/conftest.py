import os
import random

import numpy as np
import pytest


def pytest_configure(config):
    # `make test` runs one pytest-xdist worker per core; with torch's and BLAS's default of a thread per
    # core in every worker, the workers' thread pools fight over the cores. The tiny test models gain
    # nothing from more than one thread. Set before any test module imports torch.
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        threads = str(max(1, (os.cpu_count() or 1) // int(workers)))
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, threads)


@pytest.fixture(autouse=True)
def _fixed_seeds():
    # Estimators take random_state explicitly; this only pins code that falls back to globals.
    random.seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def tiny_binary():
    from nlpipe.testing import make_text_classification

    return make_text_classification(2, repeat=2)


@pytest.fixture(scope="session")
def tiny_multiclass():
    from nlpipe.testing import make_text_classification

    return make_text_classification(3, repeat=2)
