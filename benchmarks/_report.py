"""Machine-readable benchmark results and the summary report ``benchmarks/results/README.md``.

Two halves:

* **Writing.** Every benchmark script (except ``scale.py``, which is not part of this module's scope) calls
  :func:`write_json` after writing its Markdown report: ``results/<area>.json`` holds the rows the summary
  needs, each number as ``{"value": <full precision>, "text": <as printed in the .md>}``, plus the sha256
  of the Markdown file written in the same run.
* **Reporting.** :func:`build` reads ``results/*.json`` and ``results/*.md`` and writes ``README.md`` plus
  one ``report_<area>.png`` per area (matplotlib, Agg). For each area and setting it takes the JSON rows
  when the JSON exists and its sha256 matches the Markdown file next to it; otherwise (no JSON yet, or the
  .md was rewritten by a run that wrote no JSON) it **parses the .md tables**: a small Markdown-table parser
  (:func:`parse_tables`) looks cells up by column header and row label, and keeps every number exactly as
  the .md prints it. No measured number is written in this module.

Published references are read, by the regular expressions in ``REFERENCES``, from the text of the results
files (which cite them) or from the data README (``<data home>/README.md``); a reference whose text is not
found is left out and listed in the README footer.

Roles: ``nlpipe`` (an nlpipe estimator), ``peer`` (the non-nlpipe system measured in the same run: raw
scikit-learn, the Hugging Face pipeline, sumy, VADER, torchao, the serial run) and ``reference`` (a
published or data-README figure, not measured in this run).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
ROLES = ("nlpipe", "peer", "reference")


# ----------------------------------------------------------------------------- writing (benchmark scripts)
def num(value, spec, suffix=""):
    """A measured number: full-precision ``value`` and its ``text`` as the Markdown report prints it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return {"value": float(value), "text": format(value, spec) + suffix}


def row(setting, system, role, scores=None, speed=None, note="", group=None, short=None):
    """One line of the summary: ``scores`` maps metric keys to :func:`num` values, ``speed`` is a :func:`num`.

    ``group`` names the plot panel (default: the setting), ``short`` the point's label there (default: system).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    return {"setting": setting, "group": group or setting, "system": system, "short": short or system,
            "role": role, "scores": {k: v for k, v in (scores or {}).items() if v is not None}, "speed": speed,
            "note": note}


def command(script, argv=None):
    """The command line of a benchmark run, as ``python benchmarks/<script> <args>`` (no ``--data-home``)."""
    import sys

    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", f"benchmarks/{Path(script).name}", *without_data_home(args)])


def without_data_home(args):
    """``args`` without ``--data-home DIR``: the folder is the machine's, the data sets in it are named by the script.

    A recorded command then reads its data from wherever the reader keeps it (``$NLPIPE_DATA``, else
    ``~/nlpipe_data``: ``nlpipe.datasets.get_data_home``).
    """
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--data-home":
            skip = True
        elif not arg.startswith("--data-home="):
            out.append(arg)
    return out


def write_json(md_path, area, rows, command):
    """Write ``<md_path stem>.json`` next to the Markdown report ``md_path`` (call it after writing the .md)."""
    md_path = Path(md_path)
    payload = {
        "area": area,
        "command": command,
        "markdown": md_path.name,
        "markdown_sha256": hashlib.sha256(md_path.read_bytes()).hexdigest(),
        "rows": rows,
    }
    out = md_path.with_suffix(".json")
    out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


# ----------------------------------------------------------------------------- Markdown tables
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


@dataclass
class Table:
    heading: str
    columns: list
    rows: list = field(default_factory=list)

    def column(self, name):
        """Index of the column whose header is ``name`` (else the first that starts with it)."""
        names = [c.strip("* ") for c in self.columns]
        if name in names:
            return names.index(name)
        for i, c in enumerate(names):
            if c.startswith(name):
                return i
        raise KeyError(f"no column {name!r} in {self.columns}")

    def find(self, label):
        """The row whose first cell is ``label`` (else the first that starts with it), or None."""
        for exact in (True, False):
            for r in self.rows:
                first = r[0].strip("* `")
                if (first == label) if exact else first.startswith(label):
                    return r
        return None

    def cell(self, r, name):
        i = self.column(name)
        return r[i] if i < len(r) else ""  # a short row: the missing cells are empty


def _cells(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def parse_tables(text):
    """Every pipe table of a Markdown text, with the last heading above it."""
    lines = text.splitlines()
    tables, heading, i = [], "", 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if (line.startswith("|") and i + 1 < len(lines)
                and re.fullmatch(r"\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*", lines[i + 1].strip())):
            table = Table(heading, _cells(line))
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.rows.append(_cells(lines[i]))
                i += 1
            tables.append(table)
            continue
        i += 1
    return tables


def find_table(tables, *columns, heading=None):
    """The first table that has all ``columns`` (and whose heading contains ``heading``)."""
    for t in tables:
        if heading is not None and heading not in t.heading:
            continue
        try:
            for c in columns:
                t.column(c)
        except KeyError:
            continue
        return t
    return None


def numbers(cell):
    """All numbers of a cell, each as :func:`num` would give it (the text is the cell's own digits)."""
    return [{"value": float(m.replace(",", "")), "text": m} for m in _NUMBER.findall(cell or "")]


def first(cell, suffix=""):
    """The first number of a cell (None when it has none)."""
    found = numbers(cell)
    if not found:
        return None
    out = found[0]
    return {"value": out["value"], "text": out["text"] + suffix}


# ----------------------------------------------------------------------------- areas: Markdown extraction
def _md_baselines(texts):
    text = texts.get("baselines.md")
    if not text:
        return []
    t = find_table(parse_tables(text), "data set", "model", "nlpipe acc", "raw acc", "time nlpipe / raw")
    rows = []
    for r in t.rows if t else []:
        dataset, model = r[t.column("data set")], r[t.column("model")]
        setting = f"{dataset}, {model}"
        times = numbers(t.cell(r, "time nlpipe / raw"))
        same = t.cell(r, "same predictions")
        rows.append(row(setting, f"nlpipe Tfidf{model}Classifier() defaults", "nlpipe",
                        {"acc": first(t.cell(r, "nlpipe acc"))}, times[0] if times else None,
                        note=f"time ratio nlpipe/raw {times[2]['text']}" if len(times) > 2 else "", group=dataset,
                        short=f"nlpipe {model}"))
        rows.append(row(setting, "raw scikit-learn pipeline, same settings", "peer",
                        {"acc": first(t.cell(r, "raw acc"))}, times[1] if len(times) > 1 else None,
                        note=f"same predictions: {same}", group=dataset, short=f"raw sklearn {model}"))
        rows.append(row(setting, "scikit-learn defaults " + ("(TfidfVectorizer + LinearSVC)" if model == "SVM"
                                                            else "(TfidfVectorizer + MultinomialNB)"), "peer",
                        {"acc": first(t.cell(r, "sklearn default acc"))}, None,
                        note="time not in the .md", group=dataset, short=f"sklearn default {model}"))
    return rows


def _md_transformers(texts):
    text = texts.get("transformers.md")
    if not text:
        return []
    t = find_table(parse_tables(text), "measure", "value")
    if t is None:
        return []
    setting = "SST-2 dev (872)"

    def value(label):
        r = t.find(label)
        return t.cell(r, "value") if r else None

    mean_acc = value("SST-2 dev accuracy (872), pooling='mean'")
    cls_acc = value("SST-2 dev accuracy, default pooling='cls'")
    agree = first(value("labels agree with HF pipeline"))
    rows = [
        row(setting, "nlpipe TransformerClassifier(pooling='cls'), seed 0", "nlpipe",
            {"acc": first(cls_acc)}, first(value("nlpipe predict_proba throughput")), short="nlpipe, cls head"),
        row(setting, "nlpipe TransformerClassifier(pooling='mean', LP-FT), mean of seeds", "nlpipe",
            {"acc": first(mean_acc)}, first(value("pooling='mean': predict_proba throughput")),
            short="nlpipe, mean pooling + LP-FT"),
    ]
    # Runs before the "SST-2 dev accuracy, HF pipeline" row give only the pipeline's agreement with nlpipe's
    # labels: with every label equal (agreement exactly 1) the accuracy is nlpipe's; otherwise it stays blank.
    hf_acc = first(value("SST-2 dev accuracy, HF pipeline"))
    derived = hf_acc is None
    if derived and agree and agree["value"] == 1.0:
        hf_acc = first(cls_acc)
    rows.append(row(setting, "Hugging Face pipeline('text-classification'), same weights", "peer",
                    {"acc": hf_acc}, first(value("HF pipeline throughput")),
                    note=(f"labels agree with nlpipe: {agree['text']}" if agree else "")
                    + (" (accuracy = nlpipe's, as every label is equal)" if hf_acc and derived else ""),
                    short="HF pipeline"))
    rows.append(row(setting, "bare model forward (floor, no tokenizer/post-processing)", "peer",
                    {}, first(value("bare-forward floor")), short="bare forward"))
    return rows


def _md_sentiment(texts):
    text = texts.get("sentiment.md")
    if not text:
        return []
    tables = parse_tables(text)
    rows = []
    emo = find_table(tables, "system", "average", "time")
    setting = "EmoInt-2017 dev, mean Pearson r"
    for r in emo.rows if emo else []:
        rows.append(row(setting, r[0], "nlpipe", {"score": first(emo.cell(r, "average"))},
                        first(emo.cell(r, "time")), short=short_call(r[0])))
    sst = find_table(tables, "system", "training sentences", "accuracy", "time")
    setting = "SST-2 dev (872), accuracy"
    for r in sst.rows if sst else []:
        role = "peer" if r[0].startswith("vaderSentiment") else "nlpipe"
        rows.append(row(setting, r[0], role, {"score": first(sst.cell(r, "accuracy"))}, first(sst.cell(r, "time")),
                        note=f"trained on {sst.cell(r, 'training sentences')}", short=short_call(r[0])))
    m = re.search(r"`(SentimentClassifier\([^`]*\))`[^*]*\*\*([\d.]+)\*\* in (\d+) s", text)
    if m:
        rows.append(row("ChnSentiCorp dev (1,200), accuracy", m.group(1), "nlpipe",
                        {"score": first(m.group(2))}, first(m.group(3))))
    return rows


def short_call(name):
    """``SentimentClassifier(analyzer='char', lexicon=None)`` -> ``SentimentClassifier char, None`` (plot labels)."""
    name = re.sub(r"\b(lexicon|analyzer)=|'", "", name.split(" (")[0])
    return name.replace("(", " ").replace(")", "").replace("SentimentIntensityAnalyzer", "SIA").strip()


def _md_summarization(texts):
    text = texts.get("summarization.md")
    if not text:
        return []
    tables = parse_tables(text)
    rows = []
    ext = find_table(tables, "system", "R-1", "R-2", "R-L", "R-Lsum", "docs/s")
    setting = "CNN/DM sample (500), extractive"
    for r in ext.rows if ext else []:
        role = "peer" if r[0].startswith("sumy") else "nlpipe"
        rows.append(row(setting, r[0], role, _rouge(ext, r), first(ext.cell(r, "docs/s"))))
    ab = find_table(tables, "system", "R-1", "time", heading="Abstractive")
    if ab:
        m = re.search(r"first (\d+) articles", ab.heading)
        setting = f"CNN/DM sample, first {m.group(1) if m else '?'} articles, abstractive"
        for r in ab.rows:
            speed = None
            per_article = re.search(r"([\d.]+) s/article", ab.cell(r, "time"))
            if per_article:  # plotted as docs/s, shown as printed
                speed = {"value": 1 / float(per_article.group(1)), "text": per_article.group(0)}
            rows.append(row(setting, r[0], "nlpipe", _rouge(ab, r), speed))
    return rows


def _rouge(t, r):
    return {k: first(t.cell(r, h)) for k, h in (("r1", "R-1"), ("r2", "R-2"), ("rl", "R-L"), ("rlsum", "R-Lsum"))}


def _size_rows(tables, specs):
    """nlpipe rows of the model / size ratio / latency / accuracy tables under each ``(heading, setting)``."""
    rows = []
    for heading, setting in specs:
        t = find_table(tables, "model", "size ratio", "ms / 1,000 texts", "accuracy", heading=heading)
        for r in t.rows if t else []:
            rows.append(row(setting, r[0], "nlpipe",
                            {"acc": first(t.cell(r, "accuracy")), "size": first(t.cell(r, "size ratio"))},
                            first(t.cell(r, "ms / 1,000 texts")), note=f"speed-up {t.cell(r, 'speed-up')}"))
    return rows


def _md_compression(texts):
    rows = []
    text = texts.get("compression.md")
    if text:
        tables = parse_tables(text)
        rows += _size_rows(tables, (("Transformer", "MiniLM on SST-2 dev (compression run)"),
                                    ("TF-IDF", "TF-IDF+SVM on SST-2 dev (compression run)")))
        t = find_table(tables, "model", "ms / 1,000 texts", "accuracy", "labels = fp32", heading="torchao")
        for r in t.rows if t else []:
            role = "peer" if r[0].startswith("torchao") else "nlpipe"
            rows.append(row("MiniLM int8: nlpipe Quantizer (torch.ao) vs torchao, interleaved", r[0], role,
                            {"acc": first(t.cell(r, "accuracy"))}, first(t.cell(r, "ms / 1,000 texts")),
                            note=f"speed-up {t.cell(r, 'speed-up')}"))
    text = texts.get("distillation.md")
    if text:
        rows += _size_rows(parse_tables(text),
                           (("Transformer students", "MiniLM teacher -> students (distillation run)"),
                            ("TF-IDF", "TF-IDF+SVM students (distillation run)")))
    return rows


def _md_inference(texts):
    text = texts.get("inference.md")
    if not text:
        return []
    tables = parse_tables(text)
    rows = []
    t = find_table(tables, "variant", "accuracy", "size ratio", heading="SST-2 dev")
    speeds = [c for c in t.columns if c.startswith("texts/s (")] if t else []
    if speeds:  # the variants at the largest thread count (the last texts/s column)
        threads = speeds[-1][len("texts/s ("):-1]
        setting = f"MiniLM on SST-2 dev, {threads} (inference run)"
        for r in t.rows:
            acc = first(t.cell(r, "accuracy"))
            if acc is None:  # a variant not available or failed in that run
                continue
            rows.append(row(setting, r[0], "peer" if r[0].startswith("peer") else "nlpipe",
                            {"acc": acc, "size": first(t.cell(r, "size ratio"))}, first(t.cell(r, speeds[-1])),
                            note=f"speed-up {t.cell(r, f'speed-up ({threads})')}", short=r[0].split(":")[0]))
    long = find_table(tables, "long_texts", "accuracy", "texts/s")
    m = re.search(r"reviews longer than (\d+) tokens", text)
    for r in long.rows if long and m else []:
        rows.append(row(f"IMDB test reviews > {m.group(1)} tokens (inference run)", f"long_texts='{r[0]}'", "nlpipe",
                        {"acc": first(long.cell(r, "accuracy"))}, first(long.cell(r, "texts/s"))))
    return rows


def _md_serve(texts):
    text = texts.get("serve.md")
    if not text:
        return []
    tables = parse_tables(text)
    rows = []
    for model in ("MiniLM", "TF-IDF + SVM"):
        t = find_table(tables, "server", "clients", "req/s", "p95 ms", heading=model)
        for r in t.rows if t else []:
            clients = t.cell(r, "clients")
            if clients not in ("1", "32") or "OMP_NUM_THREADS" in r[0]:  # the diagnostic row is not a system
                continue
            rows.append(row(f"{model}, {clients} concurrent client{'s' * (clients != '1')} (serve run)", r[0],
                            "nlpipe" if r[0].startswith("nlpipe") else "peer",
                            {"p95": first(t.cell(r, "p95 ms")), "p50": first(t.cell(r, "p50 ms"))},
                            first(t.cell(r, "req/s")), note=f"{t.cell(r, 'failed')} failed of {t.cell(r, 'requests')}",
                            short=r[0].split(",")[0]))
    return rows


def _md_scale(texts):
    text = texts.get("scale.md")
    if not text:
        return []
    rows = []
    for t in parse_tables(text):
        try:
            t.column("wall time")
            t.column("peak memory")
        except KeyError:
            continue
        setting = t.heading
        for r in t.rows:
            serial = "n_jobs=1" in r[0] or "plain" in r[0]
            equal_col = [c for c in t.columns if "equal" in c or "same" in c]
            notes = ["serial run"] if serial else [f"{c}: {t.cell(r, c)}" for c in equal_col[:1]]
            notes += [f"max load {t.cell(r, c)}" for c in t.columns if c == "max load" and t.cell(r, c)]
            rows.append(row(setting, r[0], "peer" if serial else "nlpipe",
                            {"speedup": first(t.cell(r, "speed-up"), "x"), "memory": first(t.cell(r, "peak memory"))},
                            first(t.cell(r, "wall time")), note=", ".join(notes)))
    return rows


def _md_fewshot(texts):
    text = texts.get("fewshot.md")
    if not text:
        return []
    rows = []
    for t in parse_tables(text):
        shots = [c for c in t.columns if c.endswith(": accuracy (mean ± std)")]
        if t.columns[:1] != ["system"] or not shots:
            continue
        for column in shots:
            k = column.split(":")[0]
            for r in t.rows:
                acc = first(t.cell(r, column))
                if acc is None:
                    continue
                title = t.heading.split(" (")[0] if t.heading else "SST-2 dev"
                rows.append(row(f"{title} accuracy, {k.removeprefix('k=')} labelled texts per class", r[0],
                                "peer" if r[0].startswith("setfit") else "nlpipe", {"score": acc},
                                first(t.cell(r, f"{k}: fit s")), short=r[0].split("(")[0].strip()))
    return rows


def _md_peft(texts):
    text = texts.get("peft.md")
    if not text:
        return []
    t = find_table(parse_tables(text), "variant", "dev accuracy")
    if t is None:
        return []
    n_train = first(t.heading.rsplit(", ", 1)[-1]) if t.heading else None
    setting = f"SST-2 dev (872), {n_train['text'] if n_train else '4,000'} training sentences"
    rows = []
    for r in t.rows:
        epoch = first(t.cell(r, "time / epoch"))
        speed = num(n_train["value"] / epoch["value"], ".1f") if n_train and epoch and epoch["value"] else None
        rows.append(row(setting, f"TransformerClassifier, {r[0]}", "nlpipe" if "LoRA" in r[0] else "peer",
                        {"acc": first(t.cell(r, "dev accuracy"))}, speed,
                        note=f"trainable {t.cell(r, 'trainable / total params').rsplit('(', 1)[-1].rstrip(')')}, "
                             f"peak RSS {t.cell(r, 'peak RSS')}", short=r[0]))
    return rows


def _md_learning_rate(texts):
    text = texts.get("learning_rate.md")
    if not text:
        return []
    rows = []
    tables = parse_tables(text)
    sst2 = find_table(tables, "learning_rate", "accuracy", "fit time (median)")
    if sst2 is not None:
        n_train = first(sst2.heading.rsplit(", ", 1)[-1])
        for r in sst2.rows:
            fit = first(sst2.cell(r, "fit time (median)"))
            rows.append(row(f"SST-2 dev, {n_train['text'] if n_train else '2,000'} phrases, 1 epoch",
                            f"TransformerClassifier lr={r[0]}", "nlpipe" if '"auto"' in r[0] else "peer",
                            {"score": first(sst2.cell(r, "accuracy"))},
                            num(n_train["value"] / fit["value"], ".1f") if n_train and fit and fit["value"] else None,
                            short=f"lr={r[0].split()[0]}"))
    emo = find_table(tables, "learning_rate", "EmoInt dev r", "SemEval-2018 dev r")
    if emo is not None:
        for r in emo.rows:
            fit = first(emo.cell(r, "fit time (4 models, median)"))
            if fit is None:  # the TF-IDF reference line
                continue
            rows.append(row("EmoInt-2017 dev, mean Pearson r of 4 emotions", f"TransformerRegressor lr={r[0]}",
                            "nlpipe" if '"auto"' in r[0] else "peer", {"score": first(emo.cell(r, "EmoInt dev r"))},
                            num(3613 * 3 / fit["value"], ".1f"), short=f"lr={r[0].split()[0]}"))
    return rows


def _md_retrieval(texts):
    text = texts.get("retrieval.md")
    if not text:
        return []
    rows = []
    for t in parse_tables(text):
        if find_table([t], "system", "role", "R@10", "queries/s"):  # parts (a), (b), (d)
            for r in t.rows:
                rows.append(row(t.heading, r[0], "nlpipe" if t.cell(r, "role") == "nlpipe" else "peer",
                                {"score": first(t.cell(r, "R@10")), "r1": first(t.cell(r, "R@1"))
                                 if "R@1" in t.columns else None,
                                 "mrr": first(t.cell(r, "MRR@10")) if "MRR@10" in t.columns else None},
                                first(t.cell(r, "queries/s")), short=r[0].split("(")[0].strip()))
        elif find_table([t], "system", "role", "R@10 (known item)", "median ms"):  # part (e): latency, no rate
            for r in t.rows:
                if first(t.cell(r, "median ms")) is None:
                    continue
                rows.append(row(t.heading, r[0], "nlpipe" if t.cell(r, "role") == "nlpipe" else "peer",
                                {"score": first(t.cell(r, "R@10 (known item)"))}, None,
                                note=f"median {t.cell(r, 'median ms')} ms, p95 {t.cell(r, 'p95 ms')} ms",
                                short=r[0].split("(")[0].strip()))
        elif find_table([t], "reader input", "F1 (answerable)", "questions/s"):  # part (c)
            for r in t.rows:
                rows.append(row(t.heading, r[0], "nlpipe", {"score": first(t.cell(r, "F1 (answerable)"))},
                                first(t.cell(r, "questions/s")), note="F1 (answerable)", short=r[0].split(":")[0]))
    return rows


# ----------------------------------------------------------------------------- published references
# (area, setting, label, citation, source file, regex, {group name: metric}, percent?)
# ``source`` is a results file or "data README"; the regex names the number groups.
_F = r"(\d+\.\d+)"
REFERENCES = [
    ("baselines", "20newsgroups, SVM", "linear SVM, Rennie et al. (2003)", "baselines.md",
     r"Rennie et al\. \(2003\) 20NG linear SVM ≈(?P<acc>\d\.\d+)", False),
    ("baselines", "20newsgroups, NB", "multinomial NB, Rennie et al. (2003)", "data README",
     r"≈(?P<acc>\d+\.\d+)% accuracy for multinomial NB", True),
    ("baselines", "imdb, SVM", "NBSVM-bi, Wang & Manning (2012)", "baselines.md",
     r"NBSVM-bi on IMDB (?P<acc>\d\.\d+) \(Wang & Manning, 2012\)", False),
    ("baselines", "ag_news, SVM", "n-gram TF-IDF + LR on the full 120k train set with titles, Zhang et al. (2015)",
     "baselines.md", r"AG News full 120k train with n-gram TF-IDF \+ LR (?P<acc>\d\.\d+)", False),
    ("transformers", "SST-2 dev (872)", "DistilBERT, SST-2 dev, Sanh et al. (2019)", "data README",
     r"DistilBERT (?P<acc>\d+\.\d+) accuracy on SST-2 \*\*dev\*\*", True),
    ("transformers", "SST-2 dev (872)", "BERT-base, GLUE SST-2 test set, Devlin et al. (2019)", "data README",
     r"BERT-base (?P<acc>\d+\.\d+), BERT-large", True),
    ("sentiment", "EmoInt-2017 dev, mean Pearson r", "EmoInt-2017 official baseline (test set)", "sentiment.md",
     r"official baseline (?P<score>\d\.\d+)", False),
    ("sentiment", "EmoInt-2017 dev, mean Pearson r", "EmoInt-2017 best system (test set)", "sentiment.md",
     r"best system (?P<score>\d\.\d+)", False),
    ("sentiment", "SST-2 dev (872), accuracy", "DistilBERT, SST-2 dev, Sanh et al. (2019)", "data README",
     r"DistilBERT (?P<score>\d+\.\d+) accuracy on SST-2 \*\*dev\*\*", True),
    ("sentiment", "ChnSentiCorp dev (1,200), accuracy", "BERT-base-Chinese, dev (Sun et al., 2019)", "sentiment.md",
     r"BERT-base-Chinese (?P<score>\d\.\d+)", False),
    ("summarization", "CNN/DM sample (500), extractive", "Lead-3, full test set, See et al. (2017); R-L column: "
     "ROUGE-1.5.5 R-L, shown under R-Lsum", "summarization.md",
     r"Lead-3 (?P<r1>\d+\.\d+)/(?P<r2>\d+\.\d+)/(?P<rlsum>\d+\.\d+) \(See et al\. 2017", False),
    ("summarization", "CNN/DM sample (500), extractive", "TextRank (published, as cited in summarization.md)",
     "summarization.md", r"TextRank ~(?P<r1>\d+\.\d+)", False),
    ("summarization", "CNN/DM sample (500), extractive", "LexRank (published, as cited in summarization.md)",
     "summarization.md", r"LexRank ~(?P<r1>\d+\.\d+) R-1", False),
    ("summarization", "CNN/DM sample, first 50 articles, abstractive",
     "pointer-generator + coverage, full test set, See et al. (2017); R-L shown under R-Lsum", "data README",
     r"Pointer-generator \+ coverage (?P<r1>\d+\.\d+)/(?P<r2>\d+\.\d+)/(?P<rlsum>\d+\.\d+)", False),
    ("compression", "MiniLM teacher -> students (distillation run)", "DistilBERT (6-layer student of BERT-base), "
     "SST-2 dev, Sanh et al. (2019)", "data README",
     r"DistilBERT (?P<acc>\d+\.\d+) accuracy on SST-2 \*\*dev\*\*", True),
]
# Figures measured by the data README's authors on these files (not in the same run as nlpipe).
DATA_README_MEASURED = [
    ("baselines", "20newsgroups, SVM", "baselines.md", "20newsgroups"),
    ("baselines", "sst2, SVM", "baselines.md", "sst2"),
    ("baselines", "imdb, SVM", "baselines.md", "imdb"),
    ("baselines", "ag_news, SVM", "baselines.md", "ag_news"),
]
MEASURED_REFERENCES = [
    ("transformers", "SST-2 dev (872)", "TF-IDF + LinearSVC (data README, measured on these files)",
     "transformers.md", r"\(TF-IDF\+SVM (?P<acc>\d\.\d+)\)"),
    ("sentiment", "EmoInt-2017 dev, mean Pearson r", "TF-IDF 1-2-grams + Ridge (data README, measured on this dev set)",
     "sentiment.md", r"TF-IDF 1-2-grams \+ Ridge measured on this dev set (?P<score>\d\.\d+)"),
    ("sentiment", "ChnSentiCorp dev (1,200), accuracy", "TF-IDF char 1-3-grams + LinearSVC (data README, measured)",
     "sentiment.md", r"TF-IDF char 1-3-grams \+ LinearSVC (?P<score>\d\.\d+)"),
    ("summarization", "CNN/DM sample (500), extractive", "Lead-3 on this sample (data README, rouge-score)",
     "summarization.md", r"measures Lead-3 on this sample as (?P<r1>\d+\.\d+)/(?P<r2>\d+\.\d+)/(?P<rlsum>\d+\.\d+)"),
    ("summarization", "CNN/DM sample, first 50 articles, abstractive",
     "See et al. pointer_gen_cov output on all 500 sample articles (data README, rouge-score)", "data README",
     r"`pointer_gen_cov`: (?P<r1>\d+\.\d+)/(?P<r2>\d+\.\d+)/(?P<rlsum>\d+\.\d+)"),
]


def references(area, texts, missing):
    """Reference rows of ``area`` read from ``texts`` (file name -> text); misses are appended to ``missing``."""
    out = []
    specs = [(a, s, label, src, rx, pct) for a, s, label, src, rx, pct in REFERENCES]
    specs += [(a, s, label, src, rx, False) for a, s, label, src, rx in MEASURED_REFERENCES]
    for a, setting, label, source, rx, pct in specs:
        if a != area:
            continue
        m = re.search(rx, texts.get(source, ""))
        if not m:
            missing.append(f"{label} (looked for /{rx}/ in {source})")
            continue
        scores = {}
        for key, text in m.groupdict().items():
            scores[key] = {"value": float(text) / (100 if pct else 1), "text": text + ("%" if pct else "")}
        out.append(row(setting, label, "reference", scores, None, note=f"from {source}"))
    for a, setting, source, dataset in DATA_README_MEASURED:
        if a != area or source not in texts:
            continue
        t = find_table(parse_tables(texts[source]), "data set", "README ref. acc")
        r = next((r for r in (t.rows if t else []) if r[0] == dataset and r[1] == setting.split(", ")[1]), None)
        ref = first(t.cell(r, "README ref. acc")) if r else None
        if ref is None:
            missing.append(f"data README measured accuracy for {setting} (column 'README ref. acc' of {source})")
            continue
        out.append(row(setting, "TF-IDF + LinearSVC (data README, measured on these files)", "reference",
                       {"acc": ref}, None, note=f"from {source}", group=setting.split(", ")[0]))
    return out


# ----------------------------------------------------------------------------- area definitions
@dataclass
class Area:
    key: str
    title: str
    files: tuple  # the .md files (each with an optional .json twin)
    metrics: tuple  # (key, header)
    speed: str  # header of the speed column
    speed_higher_is_better: bool
    plot_y: str
    plot_y_label: str
    plot_x_label: str
    intro: str
    extract: object
    xscale: str = "log"


AREAS = [
    Area("baselines", "Classification baselines (TF-IDF)", ("baselines.md",), (("acc", "accuracy"),),
         "fit + predict (s)", False, "acc", "test accuracy", "fit + predict time (s)",
         "nlpipe's `TfidfSVMClassifier()` / `TfidfNBClassifier()` defaults against the raw scikit-learn pipeline "
         "with the same settings and against scikit-learn's defaults, fitted and scored in the same run.",
         _md_baselines),
    Area("transformers", "Transformers (all-MiniLM-L6-v2 fine-tuned on 4,000 SST-2 sentences)", ("transformers.md",),
         (("acc", "accuracy"),), "texts/s", True, "acc", "SST-2 dev accuracy", "predict throughput (texts/s)",
         "nlpipe's `TransformerClassifier` against the Hugging Face `pipeline` on the same saved weights and the bare "
         "model forward (batch 32 each), in the same run.", _md_transformers),
    Area("sentiment", "Sentiment and emotion intensity", ("sentiment.md",), (("score", "score"),),
         "fit + predict (s)", False, "score", "Pearson r / accuracy (see panel)", "fit + predict time (s)",
         "The peer measured in the same run is VADER (`vaderSentiment`) on SST-2; EmoInt and ChnSentiCorp have "
         "no peer in the run, only the references. The score is the metric named in the setting.",
         _md_sentiment, "symlog"),
    Area("learning_rate", "Learning rate: `learning_rate=\"auto\"` against fixed rates", ("learning_rate.md",),
         (("score", "score"),), "train texts/s", True, "score", "accuracy / Pearson r (see panel)",
         "training throughput (texts/s)",
         "all-MiniLM-L6-v2 with the estimators' defaults, `learning_rate=\"auto\"` (1e-4 for this width) against "
         "the old fixed default 5e-5 and larger rates (the peer rows), same data and seeds, dev splits only; "
         "learning_rate.md has the per-seed spread, SemEval-2018 dev and the TF-IDF + transformer ensemble.",
         _md_learning_rate, "linear"),
    Area("summarization", "Summarization (CNN/DailyMail sample)", ("summarization.md",),
         (("r1", "R-1"), ("r2", "R-2"), ("rl", "R-L"), ("rlsum", "R-Lsum")), "docs/s", True, "r1", "ROUGE-1 F1",
         "documents per second",
         "nlpipe's extractive summarizers against sumy's TextRank / LexRank (same sentence splitting, same run); "
         "ROUGE F1 x 100 (rouge-score, stemming).", _md_summarization),
    Area("compression", "Compression and distillation (SST-2 dev)", ("compression.md", "distillation.md"),
         (("acc", "accuracy"), ("size", "size ratio")), "ms / 1,000 texts", False, "acc", "SST-2 dev accuracy",
         "predict latency (ms per 1,000 texts)",
         "nlpipe's `Quantizer`, `Pruner` and `Distiller` against the fp32 model they start from; the peer is "
         "torchao's int8 quantization of the same weights, timed interleaved with nlpipe's int8 model. The size "
         "ratio is the pickle size over the first row of its setting.", _md_compression),
    Area("inference", "Inference: torch and ONNX Runtime variants of one fine-tuned MiniLM", ("inference.md",),
         (("acc", "accuracy"), ("size", "size ratio")), "texts/s", True, "acc", "accuracy",
         "predict throughput (texts/s)",
         "One fine-tuned MiniLM as torch fp32, torch int8 / bf16 (`Quantizer`), ONNX Runtime fp32 and dynamic / "
         "static int8 (`OnnxExporter`) and `Quantizer(dtype='auto')`, each measured in a fresh process; the size ratio "
         "is the pickle size over torch fp32's. Long documents: `long_texts` truncate / mean / max on IMDB test "
         "reviews longer than the model reads at once. The peer (Optimum's ONNX Runtime model) is measured only where "
         "it installs without changing torch or transformers; where it does not, inference.md says why.", _md_inference),
    Area("serve", "Serving: nlpipe serve against a per-request endpoint and BentoML", ("serve.md",),
         (("p50", "p50 latency (ms)"), ("p95", "p95 latency (ms)")), "req/s", True, "p95",
         "p95 latency (ms), lower is better",
         "requests per second",
         "The same saved model behind `nlpipe serve` (adaptive batching), behind a hand-written FastAPI endpoint that "
         "calls `predict` per request (what users write today) and behind BentoML's adaptive batching, loaded by "
         "one request at a time from 1 and 32 concurrent clients over loopback, in the same run. The load generator "
         "shares the machine's cores with the server: read serve.md's notes on the machine load before quoting one.",
         _md_serve),
    Area("scale", "Scale-out (serial vs loky vs Dask)", ("scale.md",),
         (("speedup", "speed-up"), ("memory", "peak memory (MiB)")), "wall time (s)", False, "memory",
         "peak memory of the process tree (MiB)", "wall time (s)",
         "The peer is the serial run of the same work, measured in the same run. No published reference applies "
         "(these are wall times of this machine). A speed-up above the number of cores means the serial phase "
         "shared the cores with other work: read scale.md's notes on the machine load before quoting one.",
         _md_scale),
    Area("retrieval", "Retrieval: BM25, dense and hybrid retrievers, RetrievalQA, 1M passages", ("retrieval.md",),
         (("score", "R@10 / answer F1 (see setting)"), ("r1", "R@1"), ("mrr", "MRR@10")), "queries/s", True, "score",
         "R@10 (answers: F1 on answerable questions)", "queries per second",
         "nlpipe's `BM25Retriever`, `DenseRetriever` (all-MiniLM-L6-v2; at 1M passages a TF-IDF + SVD encoder) and "
         "`HybridRetriever` against bm25s, rank_bm25 and FAISS used directly on the same data, in the same run; "
         "`RetrievalQA` against its reader given the gold paragraph. R@10 is the share of queries whose relevant "
         "document is in the top 10; queries/s: batch `retrieve` calls, except at 1M passages, where it is one query "
         "per call (1000 / the median latency in ms). Read retrieval.md for build times, memory and the targets.",
         _md_retrieval),
    Area("fewshot", "Few-shot classification: FewShotClassifier against SetFit", ("fewshot.md",),
         (("score", "accuracy"),), "fit s", False, "score", "accuracy (mean over draws)", "fit time (s)",
         "k labelled training texts per class, drawn with several seeds; every system fits the same texts and is "
         "scored on the evaluation split (SST-2 dev, AG News test). The peer is the `setfit` package (its defaults) on the same "
         "all-MiniLM-L6-v2 encoder, in the same run; TF-IDF + SVM, a frozen encoder with logistic regression and "
         "full fine-tuning (`TransformerClassifier`) are nlpipe's other options.", _md_fewshot, "linear"),
    Area("peft", "Parameter-efficient fine-tuning: LoRA against full fine-tuning", ("peft.md",),
         (("acc", "accuracy"),), "train texts/s", True, "acc", "SST-2 dev accuracy (mean over seeds)",
         "training throughput (texts/s per epoch)",
         "all-MiniLM-L6-v2 on 4,000 SST-2 sentences: LoRA (`lora=8`) and LP-FT + LoRA against full fine-tuning of "
         "the same model (the peer rows), same data, epochs and seeds, each fit in its own process; peft.md has the "
         "trainable parameters, peak memory, file sizes and the SmolLM2 TextGenerator rows.", _md_peft, "linear"),
]
AREA_BY_KEY = {a.key: a for a in AREAS}


# ----------------------------------------------------------------------------- collecting
def default_data_home():
    """The data folder: ``$NLPIPE_DATA``, else ``~/nlpipe_data`` (its README.md, if any, has reference figures)."""
    from nlpipe.datasets import get_data_home

    return get_data_home()


def read_sources(results=RESULTS, data_home=None):
    """File name -> text for every results .md/.json and the data README (key ``"data README"``)."""
    results = Path(results)
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(results.glob("*.md")) if p.name != "README.md"}
    texts.update({p.name: p.read_text(encoding="utf-8") for p in sorted(results.glob("*.json"))})
    readme = Path(data_home or default_data_home()) / "README.md"
    if readme.is_file():
        texts["data README"] = readme.read_text(encoding="utf-8")
    return texts


def collect(area, results=RESULTS, texts=None, data_home=None):
    """Rows of ``area`` (JSON where current, else parsed from the .md), references, and provenance notes."""
    results = Path(results)
    texts = texts if texts is not None else read_sources(results, data_home)
    json_rows, used_json, stale = [], [], []
    for md in area.files:
        js = results / Path(md).with_suffix(".json").name
        if not js.is_file():
            continue
        payload = json.loads(js.read_text(encoding="utf-8"))
        md_path = results / md
        if md_path.is_file() and hashlib.sha256(md_path.read_bytes()).hexdigest() != payload.get("markdown_sha256"):
            stale.append(js.name)  # the .md was rewritten by a run that did not write this JSON
            continue
        for r in payload["rows"]:
            r["source"] = js.name
        json_rows += payload["rows"]
        used_json.append(js.name)
    json_settings = {r["setting"] for r in json_rows}
    md_rows = []
    for r in area.extract(texts):
        if r["setting"] not in json_settings:
            r["source"] = next((f for f in area.files if _mentions(area, f, r)), area.files[0])
            md_rows.append(r)
    md_used = sorted({r["source"] for r in md_rows})
    md_settings = list(dict.fromkeys(r["setting"] for r in md_rows)) if json_rows else []
    missing = []
    refs = references(area.key, texts, missing)
    measured = json_rows + md_rows
    order = list(dict.fromkeys(r["setting"] for r in measured))
    rows = []
    for setting in order:
        rows += [r for r in measured if r["setting"] == setting]
        rows += [r for r in refs if r["setting"] == setting]
    # references of settings this run did not measure (e.g. a --datasets subset) are left out
    return rows, {"json": used_json, "md": md_used, "md_settings": md_settings, "stale_json": stale,
                  "missing_references": missing}


def _mentions(area, md, r):
    if area.key != "compression":
        return True
    return ("distillation" in r["setting"]) == (md == "distillation.md")


# ----------------------------------------------------------------------------- rendering
def _text(n):
    return "" if n is None else n["text"]


def _esc(s):
    return str(s).replace("|", "/")


def table_lines(area, rows, link=""):
    head = ["setting", "system", "role"] + [h for _, h in area.metrics] + [area.speed, "note / source"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        source = r.get("source")
        note = "; ".join(x for x in (r.get("note", ""), f"[{source}]({link}{source})" if source else "") if x)
        role = f"**{r['role']}**" if r["role"] == "nlpipe" else r["role"]
        cells = [r["setting"], r["system"], role] + [_text(r["scores"].get(k)) for k, _ in area.metrics]
        cells += [_text(r.get("speed")), note]
        lines.append("| " + " | ".join(_esc(c) for c in cells) + " |")
    return lines


def _command(text):
    m = re.search(r"Generated by `([^`]+)`(?: \(total ([\d.]+) min\))?", text or "")
    if not m:
        return None
    return f"`{m.group(1)}`" + (f" ({m.group(2)} min)" if m.group(2) else "")


def plot(area, rows, path):
    """Score (or the area's y metric) against speed, one panel per group; references as dashed lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401

    groups = list(dict.fromkeys(r["group"] for r in rows if r["role"] != "reference"))
    if not groups:
        return False
    ncols = min(len(groups), 3 if len(groups) != 4 else 2)
    nrows = math.ceil(len(groups) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(6.2 * ncols, 8.5), 4.4 * nrows), squeeze=False)
    style = {"nlpipe": dict(marker="o", color="tab:blue"), "peer": dict(marker="s", color="tab:orange")}
    for ax, group in zip(axes.flat, groups):
        members = [r for r in rows if r["group"] == group]
        xs, n_lines = [], 0
        for r in members:
            y = r["scores"].get(area.plot_y)
            x = r.get("speed")
            if y is None:
                if x is not None and r["role"] != "reference":  # speed only: a vertical line
                    ax.axvline(x["value"], color=style[r["role"]]["color"], linestyle=":", linewidth=1)
                    ax.annotate(_short(r.get("short") or r["system"]) + f" {x['text']}", xy=(x["value"], 0.02),
                                xycoords=("data", "axes fraction"), fontsize=7, rotation=90,
                                color=style[r["role"]]["color"], ha="right", va="bottom")
                    xs.append(x["value"])
                continue
            if r["role"] == "reference" or x is None:  # no speed: a horizontal line at its score
                color = "0.5" if r["role"] == "reference" else style[r["role"]]["color"]
                ax.axhline(y["value"], color=color, linestyle="--" if r["role"] == "reference" else ":",
                           linewidth=1)
                ax.annotate(_short(r.get("short") or r["system"]) + f" {y['text']}", xy=(0.01, y["value"]),
                            xycoords=("axes fraction", "data"), fontsize=7, color=color,
                            va="bottom" if n_lines % 2 == 0 else "top")
                n_lines += 1
                continue
            ax.scatter([x["value"]], [y["value"]], s=40, **style[r["role"]])
            xs.append(x["value"])
            # nlpipe labels above the point, peers' below: the two often coincide
            ax.annotate(_short(r.get("short") or r["system"]), (x["value"], y["value"]), fontsize=7,
                        xytext=(4, 4) if r["role"] == "nlpipe" else (4, -10), textcoords="offset points")
        wide = xs and min(xs) > 0 and max(xs) / min(xs) > 10
        if area.xscale == "symlog":
            ax.set_xscale("symlog", linthresh=1)
        elif area.xscale == "log" and wide:
            ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.4g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.margins(x=0.3, y=0.15)
        ax.set_title(group, fontsize=10)
        scale = {"symlog": ", symlog scale", "log": ", log scale"}.get(ax.get_xscale(), "")
        better = ", higher is better" if area.speed_higher_is_better else ", lower is better"
        ax.set_xlabel(area.plot_x_label + scale + better, fontsize=8)
        ax.set_ylabel(area.plot_y_label, fontsize=8)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], linestyle="", **style["nlpipe"], label="nlpipe"),
               plt.Line2D([], [], linestyle="", **style["peer"], label="peer (same run)"),
               plt.Line2D([], [], color="0.5", linestyle="--", label="reference (not this run)"),
               plt.Line2D([], [], color="tab:blue", linestyle=":", label="measured, one axis only")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(area.title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return True


def _short(name, n=38):
    name = name.replace("nlpipe ", "").replace("`", "")
    return name if len(name) <= n else name[: n - 1] + "…"


def build(results=RESULTS, out=None, data_home=None, areas=None):
    """Write ``README.md`` and ``report_<area>.png`` into ``out`` (default: ``results``); return the README path."""
    results = Path(results)
    out = Path(out or results)
    out.mkdir(parents=True, exist_ok=True)
    texts = read_sources(results, data_home)
    link = "" if out.resolve() == results.resolve() else os.path.relpath(results, out) + "/"
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks report` from the result files in this folder (`python -m benchmarks all` "
        "runs every benchmark first). Each nlpipe figure (role **nlpipe**) stands beside the peer measured in "
        "the same run (role *peer*) and beside published or data-README figures (role *reference*: other "
        "hardware, other splits or the full test sets, so only indicative). Speeds are from 2 shared CPU cores; "
        "only ratios within one run are meaningful. Footer: where each number was read. The scripts read their "
        "data sets from the data folder (`--data-home`, else `$NLPIPE_DATA`, else `~/nlpipe_data`; what goes "
        "there and where to get it: `docs/datasets.md`), so the commands below name none.",
        "",
    ]
    provenance = []
    for area in AREAS if areas is None else [AREA_BY_KEY[a] for a in areas]:
        rows, prov = collect(area, results, texts)
        lines += [f"## {area.title}", ""]
        present = [f for f in area.files if f in texts]
        if not present:
            lines += [f"Not run yet: no {', '.join(area.files)} in the results folder.", ""]
            provenance.append((area, prov))
            continue
        lines.append(area.intro)
        lines.append("")
        for f in present:
            cmd = _command(texts[f])
            lines.append(f"- [{f}]({link}{f})" + (f": {cmd}" if cmd else ""))
        lines.append("")
        lines += table_lines(area, rows, link)
        png = f"report_{area.key}.png"
        if plot(area, rows, out / png):
            lines += ["", f"![{area.plot_y_label} vs {area.speed}]({png})"]
        lines.append("")
        provenance.append((area, prov))
    lines += ["## Where the numbers come from", ""]
    for area, prov in provenance:
        parts = []
        if prov["json"]:
            parts.append("JSON " + ", ".join(f"`{f}`" for f in prov["json"]))
        if prov["md"]:
            parts.append("tables parsed from " + ", ".join(f"`{f}`" for f in prov["md"])
                         + (" for " + "; ".join(prov["md_settings"]) if prov["md_settings"] else ""))
        if prov["stale_json"]:
            parts.append("ignored (its .md was rewritten since): " + ", ".join(f"`{f}`" for f in prov["stale_json"]))
        lines.append(f"- {area.title}: " + ("; ".join(parts) or "no results") + ".")
    lines += [
        "",
        "Each benchmark script writes `<area>.json` (full-precision numbers and the text its .md prints) next to "
        "its .md. Where the JSON is missing, or the .md was rewritten by a run that wrote none, `report` parses the "
        "Markdown tables of the .md (`benchmarks/_report.py`: cells looked up by column header and row label; "
        "`scale.py` writes no JSON, so its tables are always parsed). Reference figures are read from the text "
        "of the results files, which cite them, or from a README.md in the data folder (`$NLPIPE_DATA/README.md`; "
        "without one, those rows are left out); nothing "
        "here is typed by hand. Other results: [fuzz.md](" + link + "fuzz.md) (no peer, no speed).",
    ]
    missing = [m for _, prov in provenance for m in prov["missing_references"]]
    if missing:
        lines += ["", "References not found (left out): " + "; ".join(missing) + "."]
    readme = out / "README.md"
    readme.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return readme
