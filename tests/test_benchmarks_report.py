"""``python -m benchmarks report`` on the committed results (no benchmark runs, only the summary is rebuilt), and the runs file the scripts share."""

import argparse
import hashlib
import importlib.util
import json
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATA_README = ROOT.parent / "shared" / "data" / "README.md"
# area section title prefix -> the results files it is built from
AREAS = {
    "Classification baselines": ["baselines.md"],
    "Transformers": ["transformers.md"],
    "Sentiment": ["sentiment.md"],
    "Learning rate": ["learning_rate.md"],
    "Summarization": ["summarization.md"],
    "Compression and distillation": ["compression.md", "distillation.md"],
    "Inference": ["inference.md"],
    "Serving": ["serve.md"],
    "Scale-out": ["scale.md"],
    "Retrieval": ["retrieval.md"],
    "Few-shot classification": ["fewshot.md"],
    "Parameter-efficient fine-tuning": ["peft.md"],
}
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _report_module():
    spec = importlib.util.spec_from_file_location("_nlpipe_bench_report", ROOT / "benchmarks" / "_report.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_report(results, out):
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "report", "--results-dir", str(results),
                           "--report-dir", str(out), "--data-home", str(DATA_README.parent)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return (Path(out) / "README.md").read_text(encoding="utf-8")


def _sections(readme):
    """``## title`` -> (text, table rows as lists of cells)."""
    out = {}
    for block in re.split(r"^## ", readme, flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in body.splitlines()
                if line.startswith("|") and not re.match(r"^\|(-+\|)+$", line)]
        out[title] = (body, rows)
    return out


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0], "corrupt IHDR chunk"
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND", f"{path.name} is truncated"
    return struct.unpack(">II", data[16:24])


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    before = _digest(RESULTS)
    readme = _run_report(RESULTS, out)
    assert _digest(RESULTS) == before, "report must not touch the results folder when --out is elsewhere"
    return out, readme


def test_each_area_has_nlpipe_and_peer_rows_with_numbers(report):
    _, readme = report
    sections = _sections(readme)
    for prefix, files in AREAS.items():
        title = next((t for t in sections if t.startswith(prefix)), None)
        assert title, f"no section for {prefix}"
        body, rows = sections[title]
        if not any((RESULTS / f).exists() for f in files):
            assert "Not run yet" in body
            continue
        header, rows = rows[0], rows[1:]
        role = header.index("role")
        measured = header[role + 1:-1]  # the metric and speed columns
        assert measured, header
        for wanted in ("**nlpipe**", "peer"):
            with_numbers = [r for r in rows if r[role] == wanted
                            and any(NUMBER.search(c) for c in r[role + 1:-1])]
            assert with_numbers, f"{title}: no {wanted} row with numbers"
        for f in files:
            if (RESULTS / f).exists():
                assert f"({f})" in body or f"/{f})" in body, f"{title} does not link {f}"


def test_pngs_exist_and_are_valid(report):
    out, readme = report
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", readme)
    areas_with_results = sum(any((RESULTS / f).exists() for f in files) for files in AREAS.values())
    assert len(linked) == areas_with_results
    for name in linked:
        width, height = _png_size(out / name)
        assert width >= 400 and height >= 200


def test_every_number_in_the_tables_comes_from_the_results(report):
    _, readme = report
    sources = [p.read_text(encoding="utf-8") for p in RESULTS.iterdir() if p.suffix in (".md", ".json")
               and p.name != "README.md"]
    if DATA_README.is_file():
        sources.append(DATA_README.read_text(encoding="utf-8"))
    known = {n for text in sources for n in NUMBER.findall(text)}
    table_lines = [re.sub(r"\]\([^)]*\)", "]", line) for line in readme.splitlines() if line.startswith("|")]
    assert len(table_lines) > 20
    found, skip = set(), None
    for line in table_lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "system" in cells:  # a header: the system column names things ("Zhang et al. (2015)"), measures nothing
            skip = cells.index("system")
            continue
        found |= {n for i, c in enumerate(cells) if i != skip for n in NUMBER.findall(c)}
    unknown = sorted(found - known)
    assert not unknown, f"numbers in README.md found in no results file: {unknown}"


def test_json_takes_precedence_while_its_markdown_is_unchanged(tmp_path):
    """A JSON written with its .md is used; once the .md is rewritten without it, the .md tables are parsed."""
    rep = _report_module()
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(RESULTS / "baselines.md", results / "baselines.md")
    sentinel = rep.num(0.123456, ".4f")  # a value no results file holds
    rows = [rep.row("sst2, SVM", "nlpipe TfidfSVMClassifier() defaults", "nlpipe", {"acc": sentinel},
                    rep.num(9.87654, ".3f"), group="sst2"),
            rep.row("sst2, SVM", "raw scikit-learn pipeline, same settings", "peer", {"acc": sentinel},
                    rep.num(9.87654, ".3f"), group="sst2")]
    js = rep.write_json(results / "baselines.md", "baselines", rows, "test")
    assert json.loads(js.read_text())["rows"][0]["scores"]["acc"]["text"] == "0.1235"

    readme = _run_report(results, tmp_path / "a")
    assert "0.1235" in readme and "9.877" in readme
    assert "JSON `baselines.json`" in readme
    # the other settings still come from the .md
    assert "| imdb, SVM | nlpipe TfidfSVMClassifier() defaults | **nlpipe** |" in readme

    (results / "baselines.md").write_text((results / "baselines.md").read_text() + "\n", encoding="utf-8")
    readme = _run_report(results, tmp_path / "b")
    assert "0.1235" not in readme
    assert "ignored (its .md was rewritten since): `baselines.json`" in readme


def test_markdown_table_parser():
    rep = _report_module()
    text = "# T\n\n## Part\n\n| name | acc | time |\n|---|---|---|\n| a | **0.91** | 1,234.5 ms |\n| ab | 0.8 | |\n"
    (table,) = rep.parse_tables(text)
    assert table.heading == "Part"
    assert table.cell(table.find("a"), "acc") == "**0.91**"
    assert rep.first(table.cell(table.find("a"), "time")) == {"value": 1234.5, "text": "1,234.5"}
    assert rep.first(table.cell(table.find("ab"), "time")) is None
    assert rep.find_table(rep.parse_tables(text), "acc", "missing") is None


def test_runs_file_keeps_each_run_as_it_is_added_and_resume_skips_them(tmp_path):
    """benchmarks/_common.Runs: the persistence fewshot.py, learning_rate.py and peft.py resume from."""
    spec = importlib.util.spec_from_file_location("_nlpipe_bench_common", ROOT / "benchmarks" / "_common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)

    def args(**kw):
        return argparse.Namespace(**{"out": str(tmp_path / "bench.md"), "runs": None, "resume": False,
                                     "report_only": False, **kw})

    runs = common.Runs(args(), key=("task", "spec"))
    assert runs.path == tmp_path / "bench_runs.json" and len(runs) == 0
    runs.add({"task": "a", "spec": {"lr": 1e-4, "seed": 0}, "acc": 0.5})
    # on disk at once, whole (written through a temporary file that is renamed away)
    assert json.loads(runs.path.read_text(encoding="utf-8"))[0]["acc"] == 0.5
    assert not list(tmp_path.glob("*.tmp"))
    runs.add({"task": "a", "spec": {"lr": 1e-4, "seed": 1}, "acc": 0.6})

    resumed = common.Runs(args(resume=True), key=("task", "spec"))
    assert len(resumed) == 2
    assert resumed.done(task="a", spec={"seed": 1, "lr": 1e-4})  # dict keys match whatever their order
    assert not resumed.done(task="a", spec={"lr": 1e-4, "seed": 2})
    assert not resumed.done(task="b", spec={"lr": 1e-4, "seed": 0})
    assert resumed.find(task="a", spec={"lr": 1e-4, "seed": 0})["acc"] == 0.5
    assert common.Runs(args(report_only=True), key=("task",)).done(task="a")
    # without --resume a run starts from nothing; --runs names another file
    assert len(common.Runs(args(), key=("task",))) == 0
    assert common.Runs(args(resume=True, runs=str(tmp_path / "other.json")), key=("task",)).path.name == "other.json"
