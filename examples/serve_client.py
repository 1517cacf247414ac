"""Serve a saved model with ``nlpipe serve`` and call it over HTTP.

Shows

* ``nlpipe.save`` of a ``TfidfNBClassifier`` (TF-IDF + naive Bayes) fitted on a dozen texts written
  in this script (or a ``.nlpipe`` file you give with ``--model``);
* ``nlpipe serve MODEL --port P`` started in a subprocess on 127.0.0.1 (a free port), and a wait
  until ``GET /readyz`` answers 200 (the model is loaded and has run one warm-up prediction);
* requests with httpx: ``POST /predict`` and ``POST /predict_proba`` with ``{"texts": [...]}``,
  ``GET /metadata``, and bad requests, which get a 4xx with a JSON ``{"error": ...}`` naming the problem;
* stopping the server with SIGTERM: it answers what is in flight, then exits.

Run::

    python examples/serve_client.py                       # the in-script sentiment texts
    python examples/serve_client.py --model spam.nlpipe   # serve your own saved model
    python examples/serve_client.py --smoke               # the in-script texts, for tests (seconds)

Needs the ``serve`` extra (``pip install 'nlpipe[serve]'``: FastAPI, uvicorn, prometheus-client) and
httpx. The model file and the server's log go to a temporary folder that is removed at the end.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx

import nlpipe
from nlpipe import TfidfNBClassifier

TRAIN = [
    ("a great film with a great cast", "pos"),
    ("great acting and a lovely story", "pos"),
    ("a lovely, touching film", "pos"),
    ("wonderful music and great acting", "pos"),
    ("a wonderful, touching story", "pos"),
    ("lovely and wonderful, a great time", "pos"),
    ("a boring film with an awful script", "neg"),
    ("awful acting and a dull story", "neg"),
    ("a dull, boring film", "neg"),
    ("terrible music and awful acting", "neg"),
    ("a terrible, boring story", "neg"),
    ("dull and terrible, a waste of time", "neg"),
]
QUERIES = ["a great, touching film", "boring and far too long", "the music was great but the story was awful"]


def free_port():
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_path, port, log):
    """``nlpipe serve MODEL --port P`` in a subprocess (the same as the ``nlpipe`` command)."""
    cmd = [sys.executable, "-m", "nlpipe.cli", "serve", model_path, "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(proc, url, timeout):
    """Poll GET /readyz until it answers 200; seconds taken."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return time.monotonic() - t0
        except httpx.TransportError:  # not listening yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready after {timeout} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="an .nlpipe file to serve (default: fit one on the in-script texts)")
    parser.add_argument("--smoke", action="store_true", help="the in-script texts; finishes in seconds")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model_path = args.model
            print(f"serving {model_path}")
        else:
            X, y = zip(*TRAIN)
            clf = TfidfNBClassifier(min_df=1).fit(list(X), list(y))  # min_df=1: every word of so few texts counts
            model_path = nlpipe.save(clf, os.path.join(tmp, "sentiment.nlpipe"))
            print(f"fitted TfidfNBClassifier on {len(X)} texts, saved with nlpipe.save -> "
                  f"{os.path.basename(model_path)}")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = os.path.join(tmp, "server.log")
        with open(log_path, "wb") as log:
            proc = start_server(model_path, port, log)
            try:
                seconds = wait_ready(proc, url, timeout=60 if args.smoke else 120)
                print(f"nlpipe serve {os.path.basename(model_path)} --port {port}: ready after {seconds:.1f} s")
                with httpx.Client(base_url=url, timeout=30) as client:
                    meta = client.get("/metadata").json()
                    print(f"GET /metadata: {meta['estimator'].rsplit('.', 1)[-1]}, classes {meta['classes']}, "
                          f"methods {meta['methods']}")

                    predictions = client.post("/predict", json={"texts": QUERIES}).json()["predictions"]
                    answer = (client.post("/predict_proba", json={"texts": QUERIES}).json()
                              if "predict_proba" in meta["methods"] else None)
                    print("\n| text | POST /predict | POST /predict_proba |")
                    print("|---|---|---|")
                    for i, (text, label) in enumerate(zip(QUERIES, predictions)):
                        proba = ("n/a" if answer is None else ", ".join(
                            f"{c}: {p:.3f}" for c, p in zip(answer["classes"], answer["probabilities"][i])))
                        print(f"| {text} | {label} | {proba} |")

                    # Bad requests get a 4xx and a JSON error naming the problem; the server keeps serving.
                    bad = [
                        ("POST /predict, body not JSON", lambda: client.post(
                            "/predict", content=b"{texts: oops", headers={"Content-Type": "application/json"})),
                        ('POST /predict {"texts": "one string"}', lambda: client.post(
                            "/predict", json={"texts": "one string"})),
                        ("POST /predict, 300 texts", lambda: client.post("/predict", json={"texts": ["a"] * 300})),
                        ("GET /nowhere", lambda: client.get("/nowhere")),
                    ]
                    print("\n| request | status | answer |")
                    print("|---|---|---|")
                    for name, send in bad:
                        response = send()
                        print(f"| {name} | {response.status_code} | {response.json()['error']} |")
                    still = client.post("/predict", json={"texts": QUERIES[:1]}).json()["predictions"]
                    print(f"\nstill serving after the bad requests: {still == predictions[:1]}")
            finally:
                proc.terminate()  # SIGTERM: finish what is in flight, then exit
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            server_log = fh.read()
        graceful = "Application shutdown complete" in server_log
        print(f"server stopped with SIGTERM: exit status {proc.returncode}, graceful shutdown logged: {graceful}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
