"""nlpipe serve: a real server on 127.0.0.1 (a free port), started and stopped by the tests."""

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

import nlpipe  # noqa: E402
from nlpipe import TfidfSVMClassifier, TfidfNBClassifier  # noqa: E402
from nlpipe.serve import make_app  # noqa: E402
from nlpipe.testing import make_text_classification  # noqa: E402

X, Y = make_text_classification(3, repeat=3)


@contextlib.contextmanager
def running(app):
    """``app`` served by uvicorn on 127.0.0.1, a free port; yields the base URL, stops the server after."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers):
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def svm():
    return TfidfSVMClassifier(min_df=1, probability=True, random_state=0).fit(X, Y)


@pytest.fixture(scope="module")
def server(svm):
    with running(make_app(svm, max_batch_size=8, max_latency_ms=20, max_texts=16, max_text_chars=500,
                          model_sha256="abc")) as url:
        yield url


def test_endpoints_follow_the_model(server, svm):
    with httpx.Client(base_url=server, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").json() == {"status": "ready"}
        meta = client.get("/metadata").json()
        assert meta["estimator"] == "nlpipe.text._tfidf.TfidfSVMClassifier"
        assert meta["classes"] == svm.classes_.tolist() and meta["model_sha256"] == "abc"
        assert meta["methods"] == ["predict", "predict_proba", "decision_function"]
        assert meta["params"]["C"] == svm.C and meta["nlpipe_version"] == nlpipe.__version__
        answer = client.post("/predict", json={"texts": X[:5]}).json()
        assert answer == {"predictions": svm.predict(X[:5]).tolist()}
        proba = client.post("/predict_proba", json={"texts": X[:3]}).json()
        np.testing.assert_allclose(proba["probabilities"], svm.predict_proba(X[:3]), atol=1e-9)
        assert proba["classes"] == svm.classes_.tolist()
        scores = client.post("/decision_function", json={"texts": X[:3]}).json()["scores"]
        np.testing.assert_allclose(scores, svm.decision_function(X[:3]), atol=1e-9)
        assert client.post("/transform", json={"texts": X[:1]}).status_code == 404  # the model has no transform
        page = client.get("/")
        assert page.status_code == 200 and "<textarea" in page.text and "http" not in page.text.split("<body>")[0]
        spec = client.get("/openapi.json").json()
        assert {"/predict", "/predict_proba", "/decision_function", "/metrics"} <= set(spec["paths"])
        assert client.get("/docs").status_code == 200


def test_labels_keep_their_type(svm):
    ints = TfidfNBClassifier(min_df=1).fit(X, [len(set(y)) + i % 2 for i, y in enumerate(Y)])
    with running(make_app(ints)) as url:
        predictions = httpx.post(f"{url}/predict", json={"texts": X[:4]}, timeout=30).json()["predictions"]
    assert predictions == ints.predict(X[:4]).tolist() and all(type(p) is int for p in predictions)


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "not valid JSON"),
    (b'["a list"]', 422, "JSON object with a 'texts' list"),
    (b'{"text": ["typo in the key"]}', 422, "'texts' list"),
    (b'{"texts": "one string"}', 422, "must be a list"),
    (b'{"texts": []}', 422, "is empty"),
    (b'{"texts": ["ok", 3]}', 422, "texts[1] holds a int"),
    (b'{"texts": [null]}', 422, "texts[0] holds a NoneType"),
    (json.dumps({"texts": ["x"] * 17}).encode(), 413, "17 texts in one request; at most 16"),
    (json.dumps({"texts": ["ok", "y" * 501]}).encode(), 413, "texts[1] has 501 characters"),
    (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
    (b"[" * 20_000 + b"]" * 20_000, 400, "not valid JSON"),  # nested past the recursion limit
])
def test_bad_requests_get_4xx_json_and_the_server_keeps_serving(server, body, status, message):
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == status
        error = response.json()["error"]
        assert message in error and "Traceback" not in response.text
        assert client.post("/predict", json={"texts": ["still serving"]}).status_code == 200


def test_bodies_must_be_json_and_not_larger_than_the_limits_need(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        plain = client.post("/predict", content=b'{"texts": ["a"]}', headers={"Content-Type": "text/plain"})
        assert plain.status_code == 415 and "application/json" in plain.json()["error"]
        form = client.post("/predict", data={"texts": "a"})
        assert form.status_code == 415
        huge = client.post("/predict", content=b'{"texts": ["' + b"x" * 1_000_000 + b'"]}',
                           headers={"Content-Type": "application/json"})
        assert huge.status_code == 413 and "larger than" in huge.json()["error"]  # refused before parsing
        get = client.get("/predict")
        assert get.status_code == 405 and "GET is not allowed" in get.json()["error"]
        ok = client.post("/predict", json={"texts": ["still serving"]}, headers={"Content-Type": "application/json; charset=utf-8"})
        assert ok.status_code == 200


def test_concurrent_clients_get_exactly_their_own_answers(server, svm):
    texts = [f"{X[i % len(X)]} {i}" for i in range(120)]
    expected = svm.predict(texts).tolist()

    async def one(client, i):
        batch = texts[i : i + 1 + i % 3]  # requests of 1 to 3 texts
        response = await client.post("/predict", json={"texts": batch})
        return i, response.status_code, response.json()

    async def many():
        async with httpx.AsyncClient(base_url=server, timeout=60) as client:
            return await asyncio.gather(*(one(client, i) for i in range(100)))

    for i, status, answer in asyncio.run(many()):
        assert status == 200
        assert answer["predictions"] == expected[i : i + 1 + i % 3], i
    metrics = httpx.get(f"{server}/metrics", timeout=30).text
    sizes = {line.split(" ")[0]: float(line.split(" ")[1]) for line in metrics.splitlines()
             if line.startswith("nlpipe_batch_size_")}
    assert sizes["nlpipe_batch_size_count"] < 100  # fewer model calls than requests: they were batched
    assert 'nlpipe_requests_total{endpoint="/predict",status="200"}' in metrics
    assert "nlpipe_queue_depth" in metrics and "nlpipe_request_seconds_bucket" in metrics


class _Counting:
    """A model that records the size of every call."""

    classes_ = np.array(["a", "b"])

    def __init__(self):
        self.calls = []

    def get_params(self, deep=False):
        return {}

    def predict(self, X):
        self.calls.append(len(X))
        time.sleep(0.05)  # long enough for a burst of requests to arrive while it runs
        return np.array(["a"] * len(X))


def test_a_lone_request_never_waits_for_a_batch_and_a_crowd_is_batched():
    model = _Counting()
    # A latency budget of a minute: a lone request that waited for its batch to fill would time out.
    with running(make_app(model, max_batch_size=64, max_latency_ms=60_000, warm_up=False)) as url:
        with httpx.Client(base_url=url, timeout=20) as client:
            for _ in range(3):  # one client, one request at a time
                assert client.post("/predict", json={"texts": ["x"]}).json() == {"predictions": ["a"]}
        assert model.calls == [1, 1, 1]

    # A crowd on a server with a short budget (the minute above would make the test wait it out): the first
    # request runs at once, the others arrive while it runs and are batched.
    model = _Counting()
    with running(make_app(model, max_batch_size=64, max_latency_ms=300, warm_up=False)) as url:
        async def crowd():
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                return await asyncio.gather(*(client.post("/predict", json={"texts": [f"t{i}"]}) for i in range(40)))

        answers = asyncio.run(crowd())
    assert all(a.status_code == 200 for a in answers)
    assert sum(model.calls) == 40 and len(model.calls) < 10, model.calls


class _Picky:
    """A model that fails on one poisoned text: only the request that holds it may fail."""

    classes_ = np.array(["a", "b"])

    def get_params(self, deep=False):
        return {}

    def predict(self, texts):
        if any("poison" in t for t in texts):
            raise ValueError("this text cannot be read: poison")
        if any("crash" in t for t in texts):
            raise RuntimeError("an internal failure with a secret path /srv/model")
        time.sleep(0.01)
        return np.array(["a" if len(t) % 2 else "b" for t in texts])


def test_a_failing_item_fails_only_its_own_request():
    async def many(url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            bodies = [["poison"] if i == 7 else ["crash here"] if i == 11 else [f"text {i}"] for i in range(24)]
            responses = await asyncio.gather(*(client.post("/predict", json={"texts": b}) for b in bodies))
            return bodies, responses

    with running(make_app(_Picky(), max_batch_size=32, max_latency_ms=50)) as url:
        bodies, responses = asyncio.run(many(url))
    for i, (body, response) in enumerate(zip(bodies, responses)):
        if i == 7:
            assert response.status_code == 422 and "poison" in response.json()["error"]
        elif i == 11:
            assert response.status_code == 500
            assert "/srv/model" not in response.text and "Traceback" not in response.text
        else:
            assert response.status_code == 200
            assert response.json()["predictions"] == ["a" if len(body[0]) % 2 else "b"]


class _Slow(_Picky):
    def predict(self, texts):
        time.sleep(0.3)
        return np.array(["a"] * len(texts))


def test_a_full_queue_answers_503_with_retry_after():
    async def many(url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(*(client.post("/predict", json={"texts": ["x", "y"]}) for _ in range(12)))

    with running(make_app(_Slow(), max_batch_size=2, max_latency_ms=0, max_queue=4, warm_up=False)) as url:
        responses = asyncio.run(many(url))
        assert httpx.get(f"{url}/healthz").status_code == 200
    codes = [r.status_code for r in responses]
    assert 200 in codes and 503 in codes and set(codes) <= {200, 503}
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["Retry-After"] == "1" and "busy" in busy.json()["error"]


def test_question_answering_takes_pairs():
    from nlpipe import ExtractiveQuestionAnswerer
    from nlpipe.testing import make_question_answering, make_tiny_backbone

    pytest.importorskip("torch")
    X_qa, y_qa = make_question_answering()
    qa = ExtractiveQuestionAnswerer(model=make_tiny_backbone(), epochs=1, verbose=0, random_state=0).fit(X_qa, y_qa)
    pairs = [{"question": q, "context": c} for q, c in zip(X_qa["question"][:3], X_qa["context"][:3])]
    with running(make_app(qa)) as url:
        assert httpx.get(f"{url}/metadata").json()["input"] == "pairs"
        answers = httpx.post(f"{url}/predict", json={"pairs": pairs}, timeout=60).json()["predictions"]
        spans = httpx.post(f"{url}/predict_spans", json={"pairs": pairs}, timeout=60).json()["spans"]
        bad = httpx.post(f"{url}/predict", json={"pairs": [{"question": "no context"}]}, timeout=60)
    assert answers == qa.predict(X_qa.iloc[:3])
    assert [s["answer"] for s in spans] == answers and {"start", "end", "score"} <= set(spans[0])
    assert bad.status_code == 422 and "'question' and 'context'" in bad.json()["error"]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_serves_a_saved_model_and_shuts_down_gracefully(svm, tmp_path):
    path = nlpipe.save(svm, tmp_path / "svm.nlpipe")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nlpipe.cli", "serve", str(path), "--port", str(port),
                             "--max-latency-ms", "5", "--no-access-log"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.poll() else "slow"
            time.sleep(0.2)
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"texts": X[:2]}, timeout=30).json()
        assert answer["predictions"] == svm.predict(X[:2]).tolist()
        meta = httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=30).json()
        from nlpipe.serve._app import file_sha256

        assert meta["model_sha256"] == file_sha256(path)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    # uvicorn finishes, then re-raises the SIGTERM it caught, so the exit status says what stopped it.
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out and "Traceback" not in out
    assert '"POST /predict' not in out  # --no-access-log: no line per request
    refused = subprocess.run([sys.executable, "-m", "nlpipe.cli", "serve", str(tmp_path / "svm.joblib")],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--trust-pickle" in refused.stderr


class _Gated(_Picky):
    """A model whose calls wait for the test to open the gate."""

    def __init__(self):
        self.gate = threading.Event()
        self.held = 0  # texts in the call now waiting at the gate

    def predict(self, texts):
        self.held = len(texts)
        assert self.gate.wait(timeout=60)
        return np.array(["a"] * len(texts))


def test_graceful_shutdown_finishes_in_flight_requests():
    model = _Gated()
    app = make_app(model, max_batch_size=4, max_latency_ms=0, warm_up=False)
    results = []

    with running(app) as url:
        def call():
            results.append(httpx.post(f"{url}/predict", json={"texts": ["x"]}, timeout=60).status_code)

        clients = [threading.Thread(target=call) for _ in range(6)]
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + 30
        # All in flight before the server is told to stop: the first batch runs (held at the gate), the
        # rest wait in the queue. On a slow machine several requests may arrive before the first batch
        # is taken, so the batch held at the gate can be more than one request.
        def in_flight():
            depth = re.search(r"^nlpipe_queue_depth (\S+)$", httpx.get(f"{url}/metrics", timeout=30).text, re.M)
            return model.held + int(float(depth.group(1)))

        while in_flight() != 6:
            assert time.monotonic() < deadline, f"the requests never all reached the server ({in_flight()} of 6)"
            time.sleep(0.01)
        threading.Timer(0.3, model.gate.set).start()  # opens once the server is already shutting down
    for thread in clients:
        thread.join(timeout=30)
    assert results == [200] * 6


def test_nothing_to_serve_and_bad_cli_values():
    with pytest.raises(TypeError, match="nothing to serve"):
        make_app(object())
    done = subprocess.run([sys.executable, "-m", "nlpipe.cli", "serve", "m.nlpipe", "--max-batch-size", "0"],
                          capture_output=True, text=True, timeout=60, env={**os.environ})
    assert done.returncode == 2 and "--max-batch-size must be at least 1" in done.stderr


def _browser():
    """Debian's chromium driven by selenium, headless; a skip (a failure on CI) when it is not installed."""
    import shutil

    webdriver = pytest.importorskip("selenium.webdriver")
    binary, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (binary and driver):
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("chromium / chromedriver not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)


def test_the_page_runs_the_model_in_a_real_browser(server, svm, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = _browser()
    try:
        browser.get(server + "/")
        wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))
        wait.until(lambda b: b.find_element(By.ID, "estimator").text == "TfidfSVMClassifier")
        assert "classes" in browser.find_element(By.ID, "meta").text
        box = browser.find_element(By.ID, "input")
        box.clear()
        box.send_keys("\n".join(X[:3]))
        Select(browser.find_element(By.ID, "method")).select_by_value("predict_proba")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#rows tr")) == 3)
        header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#head th")]
        assert header == ["input", *map(str, svm.classes_)]
        first = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#rows tr:first-child td")]
        assert first[0] == X[0]
        np.testing.assert_allclose([float(v) for v in first[1:]], svm.predict_proba(X[:1])[0], atol=1e-3)
        Select(browser.find_element(By.ID, "method")).select_by_value("predict")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda b: [td.text for td in b.find_elements(By.CSS_SELECTOR, "#rows tr td:nth-child(2)")]
                   == svm.predict(X[:3]).tolist())
        screenshot = os.environ.get("NLPIPE_SCREENSHOT") or str(tmp_path / "page.png")
        assert browser.save_screenshot(screenshot)
        box.clear()
        browser.find_element(By.ID, "run").click()  # nothing to send: the server's error shows on the page
        wait.until(lambda b: "is empty" in b.find_element(By.ID, "error").text)
        assert browser.get_log("browser") == [] or all(e["level"] != "SEVERE" or "422" in e["message"]
                                                       for e in browser.get_log("browser"))
    finally:
        browser.quit()


def test_workers_each_load_the_model(svm, tmp_path):
    path = nlpipe.save(svm, tmp_path / "svm.nlpipe")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nlpipe.cli", "serve", str(path), "--port", str(port),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"texts": X[:2]}, timeout=5)
                assert answer.json()["predictions"] == svm.predict(X[:2]).tolist()
                break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail(f"the server did not answer: {proc.stdout.read() if proc.poll() is not None else ''}")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert out.count("Application startup complete") == 2, out  # one model per worker process
    assert "Traceback" not in out


def test_retrieval_qa_and_retrievers_are_served():
    from nlpipe.retrieval import BM25Retriever, RetrievalQA
    from nlpipe.testing import make_tiny_backbone

    pytest.importorskip("torch")
    docs = ["The Nile is the longest river in Africa.", "Mount Everest is the highest mountain on Earth.",
            "Tokyo is the capital of Japan."]
    questions = ["Which river is the longest?", "What is the capital of Japan?"]
    qa = RetrievalQA(reader=nlpipe.ExtractiveQuestionAnswerer(model=make_tiny_backbone(), random_state=0, verbose=0),
                     n_passages=1, verbose=0).fit(docs, ids=["nile", "everest", "tokyo"])
    bm25 = BM25Retriever(k=2, verbose=0).fit(docs, ids=["nile", "everest", "tokyo"])
    with running(make_app(qa)) as url:
        answers = httpx.post(f"{url}/predict_sources", json={"texts": questions}, timeout=60).json()["answers"]
    with running(make_app(bm25)) as url:
        ids = httpx.post(f"{url}/predict", json={"texts": questions}, timeout=60).json()["predictions"]
    assert [a["passage_id"] for a in answers] == ["nile", "tokyo"]
    assert [a["answer"] for a in answers] == qa.predict(questions)
    assert ids == bm25.predict(questions).tolist() and [row[0] for row in ids] == ["nile", "tokyo"]
