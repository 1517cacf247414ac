"""Longer fuzz run (issue #8): nlpipe.load on corrupted files, predict on random input, the CLI on random files.

The test suite runs a bounded number of cases of each (tests/test_persist.py, tests/test_properties.py);
this runs each for ``--seconds`` and counts outcomes. A case passes when valid input gives one output
per text and bad input raises ValueError/TypeError (exit status 2 with one line for the CLI); anything
else escaping is a failure, printed with the input that caused it.

Usage::

    python benchmarks/fuzz.py [--seconds 60]

Writes ``benchmarks/results/fuzz.md``.
"""

import argparse
import contextlib
import io
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import nlpipe
from nlpipe.cli import main as cli_main
from nlpipe.testing import make_text_classification

ODD = ["", " ", "\t\n", "e\u0301", "שלום", "مرحبا", "😀👍🏽", "a\x00b", "漢字", "\u200b", "x" * 500]
BAD = [None, float("nan"), b"bytes", 7, 3.5, ["nested"], "bad\ud800", pd.NA]


def random_text(rng):
    if rng.random() < 0.3:
        return ODD[rng.integers(len(ODD))]
    n = int(rng.integers(0, 30))
    return "".join(chr(int(c)) for c in rng.choice(np.r_[32:127, 0x400:0x450, 0x4E00:0x4E40], size=n))


def mutate(data, rng):
    data = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        kind, pos = rng.integers(4), int(rng.integers(0, len(data) + 1))
        if kind == 0 and data:
            data[pos % len(data)] ^= 1 << int(rng.integers(8))
        elif kind == 1:
            data = data[:pos]
        elif kind == 2:
            data[pos:pos] = bytes(rng.integers(0, 256, size=int(rng.integers(1, 8))).tolist())
        elif data:
            data[pos:pos + 16] = bytes(len(data[pos:pos + 16]))
    return bytes(data)


def fuzz_load(seconds, rng, folder):
    X, y = make_text_classification(2)
    clean = Path(folder) / "clean.nlpipe"
    nlpipe.save(nlpipe.TfidfNBClassifier().fit(X, y), clean)
    data, counts, failures = clean.read_bytes(), {"cases": 0, "refused": 0, "loaded intact": 0}, []
    end = time.time() + seconds
    while time.time() < end:
        path = Path(folder) / "m.nlpipe"
        path.write_bytes(mutate(data, rng))
        counts["cases"] += 1
        try:
            nlpipe.load(path).predict(X)
            counts["loaded intact"] += 1
        except ValueError:
            counts["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
            failures.append(f"load: {type(exc).__name__}: {exc}"[:200])
    return counts, failures


def fuzz_predict(seconds, rng):
    X, y = make_text_classification(2)
    models = [nlpipe.TfidfSVMClassifier(random_state=0).fit(X, y), nlpipe.TfidfNBClassifier().fit(X, y),
              nlpipe.LexiconSentiment().fit(X, y), nlpipe.ExtractiveSummarizer().fit(X)]
    counts, failures = {"cases": 0, "valid": 0, "refused": 0}, []
    end = time.time() + seconds
    while time.time() < end:
        items = [BAD[rng.integers(len(BAD))] if rng.random() < 0.15 else random_text(rng)
                 for _ in range(int(rng.integers(1, 8)))]
        model = models[counts["cases"] % len(models)]
        counts["cases"] += 1
        try:
            out = model.predict(items)
            assert len(out) == len(items)
            counts["valid"] += 1
        except (ValueError, TypeError):
            counts["refused"] += 1
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{type(model).__name__}.predict({items!r:.80}): {type(exc).__name__}: {exc}"[:240])
    return counts, failures


def fuzz_cli(seconds, rng, folder):
    counts, failures = {"cases": 0, "fitted": 0, "refused (status 2)": 0}, []
    end = time.time() + seconds
    while time.time() < end:
        n = int(rng.integers(0, 8))
        rows = [(random_text(rng) if rng.random() > 0.1 else rng.integers(100), ["a", "b", "", None][rng.integers(4)])
                for _ in range(n)]
        path = Path(folder) / "data.csv"
        pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
        counts["cases"] += 1
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli_main(["fit", "--model", "tfidf-nb", "--data", str(path), "--out", str(Path(folder) / "m.nlpipe")])
            except BaseException as exc:  # noqa: BLE001
                failures.append(f"cli: {type(exc).__name__}: {exc}"[:200])
                continue
        if code == 0:
            counts["fitted"] += 1
        elif code == 2 and err.getvalue().startswith("nlpipe: error:") and len(err.getvalue().strip().splitlines()) == 1:
            counts["refused (status 2)"] += 1
        else:
            failures.append(f"cli status {code}: {err.getvalue()[:200]}")
    return counts, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "fuzz.md"))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["nlpipe.load on corrupted files"] = fuzz_load(args.seconds, rng, folder)
        results["predict on random input (4 estimators)"] = fuzz_predict(args.seconds, rng)
        results["nlpipe fit (CLI) on random CSV files"] = fuzz_cli(args.seconds, rng, folder)
    lines = ["# Fuzz run (issue #8)", "",
             f"Generated by `python benchmarks/fuzz.py --seconds {args.seconds:g} --seed {args.seed}` "
             f"(Python {platform.python_version()}, nlpipe {nlpipe.__version__}).", "",
             "| target | cases | outcomes | failures |", "|---|---|---|---|"]
    total_failures = 0
    for name, (counts, failures) in results.items():
        outcomes = ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "cases")
        lines.append(f"| {name} | {counts['cases']:,} | {outcomes} | {len(failures)} |")
        total_failures += len(failures)
    for name, (_, failures) in results.items():
        for f in failures[:10]:
            lines.append(f"\n- {name}: `{f}`")
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
