import random

import numpy as np
import pytest


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
