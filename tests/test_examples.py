"""Every script in examples/ runs end to end in its --smoke mode (tiny local models, in-script data).

Each runs in a subprocess from an empty temporary folder, as a user would run it (two at a
time on two cores), and its printed tables are checked: a header, the expected rows, numbers where numbers belong.
A new example without an entry in ``CHECKS`` fails ``test_every_example_is_smoke_tested``.
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?x?$")


def table(stdout, header):
    """The rows (lists of cells) of the markdown table printed under ``header``."""
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    assert start is not None, f"table header {header!r} not printed:\n{stdout}"
    rows = []
    for line in lines[start + 2:]:  # skip the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def numbers(row, columns):
    """The given cells of a row as floats, failing on anything that is not a number."""
    values = []
    for k in columns:
        for part in row[k].split("±"):
            assert NUMBER.match(part.strip()), f"cell {row[k]!r} of row {row} is not a number"
            values.append(float(part.strip().rstrip("x").replace(",", "")))
    return values


def check_quickstart(out, folder):
    rows = table(out, "| model | mean | std |")
    assert [r[0] for r in rows] == ["TfidfSVMClassifier", "TfidfNBClassifier"]
    assert all(0 <= v <= 1 for r in rows for v in numbers(r, [1, 2]))
    proba = table(out, "| text | predicted | P(neg) | P(pos) |")
    assert len(proba) == 2 and all(sum(numbers(r, [2, 3])) == pytest.approx(1, abs=2e-3) for r in proba)
    assert "same test predictions: True" in out


def check_cross_validate(out, folder):
    rows = table(out, "| model | accuracy (mean ± std) | fit s/fold | score s/fold |")
    assert [r[0] for r in rows] == ["TfidfSVMClassifier", "TransformerClassifier", "LexiconSentiment"]
    for row in rows:
        mean, std, fit, _ = numbers(row, [1, 2, 3])
        assert 0 <= mean <= 1 and std >= 0 and fit >= 0
    # The toy set is easy: the TF-IDF model must have learned it.
    assert numbers(rows[0], [1])[0] >= 0.8


def check_grid_search(out, folder):
    header = "| rank | params | macro-F1 | fit s |"
    first, second = table(out, header), table(out.split("## 2.")[1], header)
    assert len(first) == 12 and len(second) == 10
    assert all(numbers(r, [0, 2, 3]) for r in first + second)
    assert any("TfidfNBClassifier()" in r[1] for r in second) and any("TfidfSVMClassifier()" in r[1] for r in second)
    assert re.search(r"held-out macro-F1 of the best pipeline: [01]\.\d{4}", out)


def check_save_load(out, folder):
    rows = dict(table(out, "| file given to nlpipe.load | outcome |"))
    assert rows["the saved file"] == "loaded TfidfSVMClassifier"
    assert rows["cut to half its length"].startswith("refused: ValueError")
    assert rows["model data swapped for another model's"].startswith("refused: ValueError") and "checksum" in \
        rows["model data swapped for another model's"]
    assert rows["a joblib pickle"].startswith("refused: ValueError")
    assert "warned InconsistentVersionWarning" in rows["manifest says nlpipe 0.0.1"]
    assert rows["Pipeline with a step from this script"].startswith("refused: ValueError")
    assert rows["the same with trusted=['__main__.URLMasker']"] == "loaded Pipeline"
    assert "same probabilities: True" in out


def check_intensity(out, folder):
    header = "| emotion | train | dev | Pearson tfidf | Pearson tfidf + vader | levels accuracy | levels MAE |"
    rows = table(out, header)
    assert [r[0] for r in rows] == ["anger", "fear", "joy", "sadness", "**average**"]
    for row in rows:
        pearson_plain, pearson_vader, accuracy, mae = numbers(row, [3, 4, 5, 6])
        assert -1 <= pearson_plain <= 1 and -1 <= pearson_vader <= 1 and 0 <= accuracy <= 1 and mae >= 0
    # The hand-written ladders are learnable: intensity must rise with the words.
    assert numbers(rows[-1], [4])[0] > 0.5


def check_summarization(out, folder):
    rows = table(out, "| system | R-1 | R-2 | R-L | R-Lsum | seconds |")
    assert [r[0] for r in rows] == ["Lead-1", "TextRank", "LexRank", "SupervisedExtractive",
                                    "Abstractive (zero-shot)"]
    assert all(0 <= v <= 100 for r in rows for v in numbers(r, [1, 2, 3, 4]))
    assert numbers(rows[0], [1])[0] > 0  # Lead-1 shares words with the reference


def check_compress_and_report(out, folder):
    header = "| model | parameters | pickle MB | ms / 1,000 texts | accuracy | size ratio | speed-up | accuracy delta |"
    rows = table(out, header)
    assert [r[0] for r in rows] == ["fp32", "int8", "pruned 30%", "pruned 30% + int8"]
    params = [numbers(r, [1])[0] for r in rows]
    assert params[2] < params[0], "structured pruning must remove parameters"
    size_ratio = [numbers(r, [5])[0] for r in rows]
    assert size_ratio[0] == 1 and size_ratio[1] < 1, "int8 must shrink the pickle"
    plot = folder / "compression_report.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(plot) in out


def check_compare_baselines(out, folder):
    scores = re.findall(r"macro-F1 (\d\.\d{4}) ± (\d\.\d{4})$", out, re.MULTILINE)
    assert len(scores) == 4, out


def check_generation_qa_smollm2(out, folder):
    for task in ("TextGenerator", "GenerativeQuestionAnswerer", "Translator English -> French"):
        assert re.search(rf"^## {re.escape(task)}, zero-shot: \d+\.\d\d s per item", out, re.MULTILINE), task
    assert re.search(r"SQuAD exact match \d\.\d\d, F1 \d\.\d\d on 4 questions", out)
    assert out.count("  -> ") == 10


def check_serve_client(out, folder):
    assert re.search(r"^nlpipe serve sentiment\.nlpipe --port \d+: ready after \d+\.\d s$", out, re.MULTILINE), out
    rows = table(out, "| text | POST /predict | POST /predict_proba |")
    assert [r[1] for r in rows] == ["pos", "neg", "pos"]
    for row in rows:
        proba = dict(part.split(": ") for part in row[2].split(", "))
        assert set(proba) == {"neg", "pos"} and sum(map(float, proba.values())) == pytest.approx(1, abs=2e-3)
        assert max(proba, key=lambda c: float(proba[c])) == row[1]  # predict_proba agrees with predict
    errors = {r[0]: (r[1], r[2]) for r in table(out, "| request | status | answer |")}
    status, error = errors["POST /predict, body not JSON"]
    assert status == "400" and "not valid JSON" in error
    status, error = errors['POST /predict {"texts": "one string"}']
    assert status == "422" and "must be a list" in error
    status, error = errors["POST /predict, 300 texts"]
    assert status == "413" and "at most 256" in error
    assert errors["GET /nowhere"][0] == "404"
    assert "still serving after the bad requests: True" in out
    assert "graceful shutdown logged: True" in out


def check_ask_documents(out, folder):
    assert "4 files -> 4 passages" in out
    rows = table(out, "| question | answer | file | character | score |")
    assert [r[2] for r in rows] == ["rivers/nile.txt", "cities/tokyo.txt", "mountains/everest.md"]
    assert all(0 <= v <= 1 for r in rows for v in numbers(r, [4]))
    assert re.search(r"saved index: \d+\.\d MB; the loaded copy gives the same answers: True", out)


# example -> (modules it needs beyond nlpipe's core, output check)
CHECKS = {
    "quickstart.py": ((), check_quickstart),
    "cross_validate.py": (("torch", "transformers", "vaderSentiment"), check_cross_validate),
    "grid_search.py": ((), check_grid_search),
    "save_load.py": ((), check_save_load),
    "intensity.py": (("vaderSentiment",), check_intensity),
    "summarization.py": (("torch", "transformers", "spacy", "rouge_score"), check_summarization),
    "compress_and_report.py": (("torch", "transformers", "matplotlib"), check_compress_and_report),
    "compare_baselines.py": (("spacy",), check_compare_baselines),
    "generation_qa_smollm2.py": (("torch", "transformers"), check_generation_qa_smollm2),
    "serve_client.py": (("fastapi", "uvicorn", "prometheus_client", "httpx"), check_serve_client),
    "ask_documents.py": (("torch", "transformers", "bm25s"), check_ask_documents),
}


def test_every_example_is_smoke_tested():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(CHECKS), "add each new example to CHECKS (and each removed one out of it)"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_layout(name):
    # The shape every example promises: a docstring saying how to run both modes, main(argv=None),
    # and `raise SystemExit(main())` under the __main__ guard.
    tree = ast.parse((EXAMPLES / name).read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and f"python examples/{name}" in doc and "--smoke" in doc
    main = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"), None)
    assert main is not None and [a.arg for a in main.args.args] == ["argv"]
    assert isinstance(main.args.defaults[0], ast.Constant) and main.args.defaults[0].value is None
    guard = tree.body[-1]
    assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "__name__ == '__main__'"
    assert ast.unparse(guard.body[0]) == "raise SystemExit(main())"


def _run_smoke(name, folder):
    # One thread each: the tiny models gain nothing from more, and on a busy machine thread
    # contention made their training 10x slower. Agg: the plot goes to a file, no display is needed.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop("NLPIPE_DATA", None)  # smoke runs must not need the benchmark data
    return subprocess.run([sys.executable, str(EXAMPLES / name), "--smoke"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def smoke_runs(request, tmp_path_factory):
    """Start the selected examples' smoke runs, as many at a time as there are cores.

    Most of a smoke run is importing torch, transformers and scikit-learn, on one core: running
    them side by side halves this file's time on 2 cores.
    """
    selected = [item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_example_smoke_run"]
    runnable = [name for name in selected
                if all(importlib.util.find_spec(m) is not None for m in CHECKS[name][0])]
    with ThreadPoolExecutor(max_workers=max(1, min(len(runnable), os.cpu_count() or 1))) as pool:
        runs = {}
        for name in runnable:
            folder = tmp_path_factory.mktemp(name.removesuffix(".py"))
            runs[name] = (pool.submit(_run_smoke, name, folder), folder)
        yield runs
        pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_smoke_run(name, smoke_runs):
    missing = [m for m in CHECKS[name][0] if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{name} needs {missing}")
    future, folder = smoke_runs[name]
    proc = future.result()
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    CHECKS[name][1](proc.stdout, folder)
