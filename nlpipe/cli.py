"""The ``nlpipe`` command: demo, fit, predict, cv, serve, ask.

Bad input (missing file or column, empty file, non-text column, bad parameter)
exits with status 2 and one ``nlpipe: error: ...`` line, never a traceback.
"""

import argparse
import ast
import logging
import sys
import time
from pathlib import Path

from ._version import __version__

MODELS = {"tfidf-svm": "TfidfSVMClassifier", "tfidf-nb": "TfidfNBClassifier"}


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _make_model(name, params):
    import nlpipe

    est = getattr(nlpipe, MODELS[name])()
    if params:
        try:
            est.set_params(**params)
        except ValueError as exc:
            raise CLIError(f"--param: {exc}") from None
    return est


def _parse_params(pairs):
    params = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--param expects NAME=VALUE, got {pair!r}")
        try:
            params[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            params[key] = raw  # a bare word is a string
    return params


def _read_table(path):
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"data file {str(path)!r} does not exist")
    try:
        if path.suffix in (".tsv", ".tab"):
            frame = pd.read_csv(path, sep="\t", keep_default_na=False)
        elif path.suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=path.suffix == ".jsonl")
        else:
            frame = pd.read_csv(path, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise CLIError(f"data file {str(path)!r} is empty") from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read data file {str(path)!r}: {str(exc).splitlines()[0]}") from None
    if len(frame) == 0:
        raise CLIError(f"data file {str(path)!r} has a header but no rows")
    return frame


def _column(frame, col, path, *, text):
    if col not in frame.columns:
        cols = ", ".join(map(str, frame.columns))
        raise CLIError(f"column {col!r} not found in {path} (columns: {cols})")
    values = frame[col]
    if text and values.dtype.kind != "O" and str(values.dtype) not in ("string", "str"):
        raise CLIError(f"column {col!r} in {path} holds {values.dtype} values, not text; pick the text column with --text-col")
    return values.tolist()


def _load_model(path, trust_pickle=False):
    from ._persist import read_model
    from .base import BaseTextEstimator

    path = Path(path)
    try:
        model = read_model(path, trust_pickle=trust_pickle)
    except FileNotFoundError:
        raise CLIError(f"model file {str(path)!r} does not exist") from None
    except Exception as exc:  # any loading failure is a bad file for the user
        raise CLIError(f"cannot load model {str(path)!r}: {exc}") from None
    if not isinstance(model, BaseTextEstimator):
        raise CLIError(f"{str(path)!r} does not hold an nlpipe model (got {type(model).__name__})")
    return model


def cmd_fit(args):
    import joblib

    frame = _read_table(args.data)
    X = _column(frame, args.text_col, args.data, text=True)
    y = _column(frame, args.label_col, args.data, text=False)
    model = _make_model(args.model, _parse_params(args.param))
    t0 = time.perf_counter()
    model.fit(X, y)
    if str(args.out).endswith(".nlpipe"):
        from ._persist import save

        save(model, args.out)  # the safe format: loading it never runs code from the file
    else:
        joblib.dump(model, args.out)
    print(
        f"fitted {type(model).__name__} on {len(X):,} texts, {len(model.classes_)} classes "
        f"in {time.perf_counter() - t0:.1f} s -> {args.out}"
    )
    return 0


def cmd_predict(args):
    model = _load_model(args.model, args.trust_pickle)
    frame = _read_table(args.data)
    X = _column(frame, args.text_col, args.data, text=True)
    out = frame.copy()
    out["prediction"] = list(model.predict(X))
    if args.proba:
        if not hasattr(model, "predict_proba"):
            raise CLIError(f"{type(model).__name__} has no predict_proba (fit it with --param probability=True)")
        proba = model.predict_proba(X)
        for j, cls in enumerate(model.classes_):
            out[f"proba_{cls}"] = proba[:, j]
    if args.out:
        out.to_csv(args.out, index=False)
        print(f"wrote {len(out):,} predictions to {args.out}")
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def _cv_table(models, X, y, folds, seed):
    from sklearn.model_selection import StratifiedKFold, cross_validate

    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    rows = []
    for name, model in models:
        res = cross_validate(model, X, y, cv=cv, scoring=("accuracy", "f1_macro"))
        rows.append((name, res))
    lines = [f"{'model':<22}{'accuracy':>16}{'macro-F1':>16}{'fit s/fold':>12}"]
    for name, res in rows:
        acc, f1 = res["test_accuracy"], res["test_f1_macro"]
        lines.append(
            f"{name:<22}{acc.mean():>9.4f} ± {acc.std():.3f}{f1.mean():>9.4f} ± {f1.std():.3f}"
            f"{res['fit_time'].mean():>12.2f}"
        )
    return "\n".join(lines)


def cmd_cv(args):
    frame = _read_table(args.data)
    X = _column(frame, args.text_col, args.data, text=True)
    y = _column(frame, args.label_col, args.data, text=False)
    params = _parse_params(args.param)
    names = list(MODELS) if args.model == "all" else [args.model]
    models = [(MODELS[n], _make_model(n, params if args.model != "all" else None)) for n in names]
    print(f"{args.folds}-fold stratified cross-validation on {len(X):,} texts from {args.data}\n")
    print(_cv_table(models, X, y, args.folds, args.seed))
    return 0


def cmd_demo(args):
    from ._demo import run_demo

    if args.folds < 2:
        raise CLIError(f"--folds must be at least 2, got {args.folds}.")
    return run_demo(args)


def cmd_serve(args):
    from .serve import serve

    for name in ("max_batch_size", "max_queue", "max_texts", "max_text_chars", "workers"):
        if getattr(args, name) < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.max_latency_ms < 0:
        raise CLIError(f"--max-latency-ms must be >= 0, got {args.max_latency_ms}")
    serve(args.model, host=args.host, port=args.port, workers=args.workers, trust_pickle=args.trust_pickle,
          max_batch_size=args.max_batch_size, max_latency_ms=args.max_latency_ms, max_queue=args.max_queue,
          max_texts=args.max_texts, max_text_chars=args.max_text_chars, log_level=args.log_level,
          access_log=not args.no_access_log)
    return 0


_DOC_SUFFIXES = (".txt", ".md", ".rst")


def _read_folder(folder):
    """``(ids, texts)`` of the text files under ``folder`` (ids: paths relative to it), sorted by path."""
    paths = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in _DOC_SUFFIXES)
    if not paths:
        raise CLIError(f"{str(folder)!r} holds no {', '.join(_DOC_SUFFIXES)} files to index")
    ids, texts = [], []
    for path in paths:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise CLIError(f"{str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        ids.append(path.relative_to(folder).as_posix())
    return ids, texts


def _build_index(args):
    """A RetrievalQA (with --reader) or a retriever over the folder's files, cut into passages."""
    import pandas as pd

    from .classification import TransformerEmbedder
    from .question_answering import ExtractiveQuestionAnswerer
    from .retrieval import BM25Retriever, DenseRetriever, HybridRetriever, PassageChunker, RetrievalQA

    if args.retriever != "bm25" and not args.encoder:
        raise CLIError(f"--retriever {args.retriever} needs --encoder (a local encoder folder)")
    verbose = 0 if args.quiet else 1
    bm25 = BM25Retriever(verbose=verbose)
    dense = DenseRetriever(encoder=TransformerEmbedder(model=args.encoder), verbose=verbose) if args.encoder else None
    retriever = {"bm25": bm25, "dense": dense, "hybrid": HybridRetriever(sparse=bm25, dense=dense, verbose=verbose)
                 if dense is not None else None}[args.retriever]
    ids, texts = _read_folder(args.source)
    chunker = PassageChunker(size=args.size, overlap=args.overlap)
    documents = pd.DataFrame({"text": texts, "id": ids})
    t0 = time.perf_counter()
    if args.reader:
        model = RetrievalQA(retriever=retriever, reader=ExtractiveQuestionAnswerer(model=args.reader, verbose=verbose),
                            chunker=chunker, n_passages=args.passages, verbose=verbose).fit(documents)
        n = model.retriever_.n_documents_
    else:
        model = retriever.fit(chunker.fit_transform(documents))
        n = model.n_documents_
    print(f"indexed {len(ids):,} files as {n:,} passages in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return model


def cmd_ask(args):
    import json

    from .retrieval import BaseRetriever, RetrievalQA

    if args.passages < 1 or args.size < 1 or not 0 <= args.overlap < args.size:
        raise CLIError("--passages and --size must be at least 1, and 0 <= --overlap < --size")
    source = Path(args.source)
    if source.is_dir():
        model = _build_index(args)
        if args.save:
            from ._persist import save

            save(model, args.save)
            print(f"saved the index to {args.save}", file=sys.stderr)
    elif source.is_file():
        model = _load_model(source, args.trust_pickle)
        if not isinstance(model, (RetrievalQA, BaseRetriever)):
            raise CLIError(f"{args.source!r} holds a {type(model).__name__}, not a RetrievalQA or a retriever")
    else:
        raise CLIError(f"{args.source!r} is neither a folder of text files nor a saved index")
    if isinstance(model, RetrievalQA):
        table = model.predict_sources(args.questions)
        rows = [{"question": r.question, "answer": r.answer, "score": None if r.score != r.score else round(r.score, 4),
                 "source": str(getattr(r, "source_id", r.passage_id)),
                 "start": int(r.start + r.answer_start) if r.answer and hasattr(r, "start") else None,
                 "passage": r.passage} for r in table.itertuples()]
    else:
        table = model.search(args.questions, k=args.passages)
        text_col = model.text_column
        rows = [{"question": args.questions[int(r["query"])], "rank": int(r["rank"]) + 1, "score": round(float(r["score"]), 4),
                 "source": str(r.get("source_id", r["id"])), "start": int(r["start"]) if "start" in r else None,
                 "passage": r[text_col]} for _, r in table.iterrows()]
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        elif "answer" in row:
            where = f"{row['source']}, character {row['start']}" if row["start"] is not None else row["source"]
            print(f"Q: {row['question']}\nA: {row['answer'] or '(no answer in the documents)'}   [{where}]\n"
                  f"   {' '.join(row['passage'].split())[:300]}\n")
        else:
            print(f"Q: {row['question']}  #{row['rank']}  {row['source']} (score {row['score']})\n"
                  f"   {' '.join(row['passage'].split())[:300]}\n")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="nlpipe", description="NLP tasks as scikit-learn estimators.")
    parser.add_argument("--version", action="version", version=f"nlpipe {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="a tour of every task on the bundled SMS spam set, with an HTML report")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default="nlpipe-demo-report.html",
                   help="where to write the HTML report (default: ./nlpipe-demo-report.html)")
    p.add_argument("--encoder", default="auto", metavar="auto|none|PATH",
                   help="encoder to fine-tune: the installed all-MiniLM-L6-v2 (auto), none, or a local folder")
    p.add_argument("--lm", default="auto", metavar="auto|none|PATH",
                   help="instruction model: the installed SmolLM2-135M-Instruct (auto), none, or a local folder")
    p.add_argument("--n-finetune", type=int, default=400, help="messages to fine-tune the encoder on (default: 400)")
    p.add_argument("--n-eval", type=int, default=300, help="test messages for the neural models (default: 300)")
    p.add_argument("--n-summaries", type=int, default=4, help="messages to summarize (default: 4)")
    p.add_argument("--quick", action="store_true", help="600 messages per step: a quick check of every section")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)

    def data_args(p, label=True):
        p.add_argument("--data", required=True, help="CSV, TSV or JSON-lines file with a header")
        p.add_argument("--text-col", default="text", help="column holding the texts (default: text)")
        if label:
            p.add_argument("--label-col", default="label", help="column holding the labels (default: label)")

    p = sub.add_parser("fit", help="fit a model on a data file and save it (.nlpipe: safe format; else joblib)")
    p.add_argument("--model", required=True, choices=sorted(MODELS))
    data_args(p)
    p.add_argument("--out", required=True, help="where to write the fitted model: .nlpipe (the safe format: share this one; loading it never "
                        "runs code from the file) or .joblib (a pickle: loading it runs code, so only for yourself; "
                        "'nlpipe predict' then needs --trust-pickle)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="estimator parameter, repeatable")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("predict", help="predict with a saved model")
    p.add_argument("--model", required=True, help="a model saved by 'nlpipe fit --out model.nlpipe'")
    data_args(p, label=False)
    p.add_argument("--trust-pickle", action="store_true",
                   help="UNSAFE: also load a .joblib/.pkl model, which runs code from the file when loaded; "
                        "only for files you made yourself")
    p.add_argument("--out", help="write a CSV here (default: print to stdout)")
    p.add_argument("--proba", action="store_true", help="add one probability column per class")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("cv", help="cross-validate models on a data file")
    p.add_argument("--model", default="all", choices=[*sorted(MODELS), "all"])
    data_args(p)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="estimator parameter, repeatable")
    p.set_defaults(func=cmd_cv)

    p = sub.add_parser("serve", help="serve a saved model over HTTP (FastAPI + uvicorn, adaptive batching)",
                       description="Serve a saved model over HTTP: POST /predict (and the model's other methods) "
                                   "with {\"texts\": [...]}, GET / for a page to try it, /docs for the API.")
    p.add_argument("model", help="an .nlpipe file (nlpipe.save / nlpipe fit --out x.nlpipe)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--max-batch-size", type=int, default=32, help="most texts per model call (default: 32)")
    p.add_argument("--max-latency-ms", type=float, default=10.0,
                   help="longest a request waits for its batch to fill (default: 10)")
    p.add_argument("--max-queue", type=int, default=4096, help="most texts waiting; beyond, 503 (default: 4096)")
    p.add_argument("--max-texts", type=int, default=256, help="most texts per request (default: 256)")
    p.add_argument("--max-text-chars", type=int, default=20_000, help="most characters per text (default: 20000)")
    p.add_argument("--workers", type=int, default=1, help="server processes, each with a copy of the model (default: 1)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="UNSAFE: also load .joblib/.pkl files, which run code from the file when loaded; "
                        "only for files you made yourself")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug", "trace"],
                   help="server log level (default: info)")
    p.add_argument("--no-access-log", action="store_true",
                   help="no log line per request (less work at high request rates)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("ask", help="answer questions from a folder of text files (or a saved index)",
                       description="Index the .txt/.md/.rst files under a folder (cut into passages) and answer "
                                   "questions from them: with --reader, the answer span and where it is; without, "
                                   "the best passages. Or ask a saved index (--save, nlpipe.save of a RetrievalQA "
                                   "or a retriever).")
    p.add_argument("source", help="a folder of text files, or a saved .nlpipe index")
    p.add_argument("questions", nargs="+", help="one or more questions")
    p.add_argument("--reader", metavar="PATH", help="extractive QA model folder (e.g. a SQuAD checkpoint); "
                                                     "without it, the best passages are printed")
    p.add_argument("--retriever", default="bm25", choices=["bm25", "dense", "hybrid"],
                   help="how passages are found (default: bm25; dense and hybrid need --encoder)")
    p.add_argument("--encoder", metavar="PATH", help="sentence-embedding model folder for dense/hybrid retrieval")
    p.add_argument("--passages", type=int, default=3, help="passages read (or shown) per question (default: 3)")
    p.add_argument("--size", type=int, default=200, help="most words per passage (default: 200)")
    p.add_argument("--overlap", type=int, default=40, help="words shared by consecutive passages (default: 40)")
    p.add_argument("--save", metavar="FILE.nlpipe", help="also save the index, to ask it again without re-indexing")
    p.add_argument("--trust-pickle", action="store_true",
                   help="UNSAFE: also load a .joblib/.pkl index, which runs code from the file when loaded")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_ask)
    return parser


def main(argv=None):
    """Run the ``nlpipe`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 on a user error.
    """
    args = build_parser().parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        pkg_logger = logging.getLogger("nlpipe")
        pkg_logger.addHandler(handler)
        pkg_logger.setLevel(logging.INFO)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"nlpipe: error: {exc}", file=sys.stderr)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        # Estimator validation errors already name the problem and position.
        print(f"nlpipe: error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
