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


# ------------------------------------------------------------------------ Dask
@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("distributed")
    from dask.distributed import Client, LocalCluster

    # Two worker processes on the loopback interface only, no dashboard; shut down after the module.
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.parametrize("case", ["tfidf", "transformer"])
def test_grid_search_on_a_dask_cluster_equals_the_serial_run(dask_client, case):
    import joblib

    est, grid = list(_cases())[0 if case == "tfidf" else 1]
    serial = GridSearchCV(est, grid, cv=3).fit(X, y)
    with joblib.parallel_backend("dask"):
        parallel = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert parallel.best_params_ == serial.best_params_


@pytest.mark.parametrize("case", ["tfidf", "transformer"])
def test_parallel_post_fit_predicts_a_dask_dataframe_partition_by_partition(dask_client, case):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    wrappers = pytest.importorskip("dask_ml.wrappers")

    est, _ = list(_cases())[0 if case == "tfidf" else 1]
    fitted = est.fit(X, y)
    texts = list(X) * 25
    frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=4)
    # predict_meta: nlpipe refuses dask's placeholder rows (missing values), so the output type is given.
    wrapped = wrappers.ParallelPostFit(estimator=fitted, predict_meta=pd.Series([], dtype=object))
    lazy = wrapped.predict(frame)
    assert hasattr(lazy, "compute")  # nothing ran yet
    np.testing.assert_array_equal(np.asarray(lazy.compute()), fitted.predict(texts))


def test_workers_run_torch_on_their_share_of_the_cores(dask_client):
    pytest.importorskip("torch")
    threads = dask_client.run(lambda: __import__("torch").get_num_threads())
    assert all(n == 1 for n in threads.values()), threads  # 1 thread per worker: no oversubscription


# -------------------------------------------------------------- data-parallel fine-tuning
def test_two_process_ddp_fit_matches_one_process_with_the_doubled_batch(tmp_path):
    import socket
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("torch")
    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    from nlpipe.testing import make_tiny_backbone

    with socket.socket() as s:  # a free loopback port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "proba.npy"
    script = Path(__file__).with_name("ddp_fit.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={port}", str(script), str(out), "4"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    single = nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=2, batch_size=8, learning_rate=3e-3,
                                          verbose=0, random_state=0).fit(X, y)
    np.testing.assert_allclose(np.load(out), single.predict_proba(X), atol=1e-4)
