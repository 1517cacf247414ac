"""OnnxExporter: fitted transformer estimators run in ONNX Runtime, agree with torch, pickle as bytes, need no torch."""

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from sklearn.exceptions import NotFittedError  # noqa: E402

import nlpipe  # noqa: E402
from nlpipe import TfidfSVMClassifier, TransformerClassifier, TransformerEmbedder, TransformerRegressor  # noqa: E402
from nlpipe.compression import OnnxExporter, Pruner, Quantizer  # noqa: E402
from nlpipe.exceptions import InvalidParameterError  # noqa: E402
from nlpipe.inference import OnnxModel  # noqa: E402
from nlpipe.testing import make_text_classification, make_tiny_backbone  # noqa: E402

X, Y = make_text_classification(3, repeat=3)
TAGS = [["sport"] if "match" in t or "goal" in t else ["politics", "news"] if i % 2 else ["news"]
        for i, t in enumerate(X)]
TARGETS = np.array([len(t) / 50.0 for t in X])
TRAIN = {"epochs": 3, "batch_size": 8, "learning_rate": 3e-3, "random_state": 0, "verbose": 0}


def _fit(kind):
    model = make_tiny_backbone()
    if kind == "classifier":
        return TransformerClassifier(model=model, **TRAIN).fit(X, Y)
    if kind == "multilabel":
        return TransformerClassifier(model=model, **TRAIN).fit(X, TAGS)
    if kind == "mean-pooled":
        return TransformerClassifier(model=model, pooling="mean", **TRAIN).fit(X, Y)
    if kind == "regressor":
        return TransformerRegressor(model=model, **TRAIN).fit(X, TARGETS)
    return TransformerEmbedder(model=model, verbose=0).fit(X)


KINDS = ["classifier", "multilabel", "mean-pooled", "regressor", "embedder"]


@pytest.fixture(scope="module")
def exported():
    """``kind -> (torch model, fp32 export)``, fitted and exported once for the module."""
    out = {}
    for kind in KINDS:
        model = _fit(kind)
        out[kind] = (model, OnnxExporter(n_threads=1).fit_transform(model))
    return out


def _methods(model):
    return [m for m in ("predict", "predict_proba", "decision_function", "transform") if hasattr(model, m)]


@pytest.mark.parametrize("kind", KINDS)
def test_fp32_export_matches_torch(exported, kind):
    model, fast = exported[kind]
    assert type(fast) is type(model) and isinstance(fast.model_, OnnxModel)
    assert not isinstance(model.model_, OnnxModel)  # the input is left as it was
    assert _methods(fast) == _methods(model)
    for method in _methods(model):
        expected, got = getattr(model, method)(X), getattr(fast, method)(X)
        if method == "predict" and kind != "regressor":  # labels: identical
            assert np.array_equal(np.asarray(got, dtype=object), np.asarray(expected, dtype=object))
        else:
            np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), atol=1e-4,
                                       err_msg=f"{kind}.{method}")
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(fast.classes_, model.classes_)
    if kind != "embedder":
        assert fast.score(X, TAGS if kind == "multilabel" else TARGETS if kind == "regressor" else Y) == pytest.approx(
            model.score(X, TAGS if kind == "multilabel" else TARGETS if kind == "regressor" else Y), abs=1e-6)
    assert fast.model_.info["max_abs_diff_fp32"] < 1e-4
    assert [step["step"] for step in fast.compression_] == ["OnnxExporter"]


@pytest.mark.parametrize("kind", ["classifier", "multilabel", "embedder"])
def test_pickles_as_bytes_and_rebuilds_the_session(exported, kind, tmp_path):
    model, fast = exported[kind]
    fast.predict(X[:2]) if kind != "embedder" else fast.transform(X[:2])  # a live session and tokenizer
    blob = pickle.dumps(fast)
    restored = pickle.loads(blob)
    assert restored.model_._session is None  # rebuilt on first use, never unpickled
    method = "transform" if kind == "embedder" else "predict_proba"
    np.testing.assert_allclose(getattr(restored, method)(X), getattr(fast, method)(X), atol=1e-6)
    assert len(blob) < 1.5 * len(pickle.dumps(model))
    path = nlpipe.save(fast, tmp_path / "fast.nlpipe")  # the safe format takes it too (no pickle on load)
    np.testing.assert_allclose(getattr(nlpipe.load(path), method)(X), getattr(fast, method)(X), atol=1e-6)


def test_threads_are_set_in_the_session_options(exported):
    _, fast = exported["classifier"]
    assert fast.model_.session.get_session_options().intra_op_num_threads == 1
    fast = copy.deepcopy(fast)
    fast.model_.set_threads(2)
    assert fast.model_.session.get_session_options().intra_op_num_threads == 2


@pytest.mark.parametrize("quantize", ["dynamic", "static"])
def test_int8_exports_are_smaller_and_agree(exported, quantize, tmp_path, monkeypatch):
    model, fp32 = exported["classifier"]
    monkeypatch.chdir(tmp_path)
    step = OnnxExporter(quantize=quantize, calibration_size=8)
    small = step.fit(model, X).transform(model)
    assert list(tmp_path.iterdir()) == []  # ONNX Runtime's calibration leaves <uuid>.data files in the cwd
    assert len(step.calibration_) == (8 if quantize == "static" else 0)
    assert small.model_.info["precision"] == f"int8-{quantize}"
    assert len(pickle.dumps(small)) < 0.8 * len(pickle.dumps(fp32))
    assert (small.predict(X) == model.predict(X)).mean() >= 0.9
    np.testing.assert_allclose(small.predict_proba(X), model.predict_proba(X), atol=0.15)
    restored = pickle.loads(pickle.dumps(small))
    np.testing.assert_array_equal(restored.predict(X), small.predict(X))


def test_static_int8_needs_calibration_texts(exported):
    model, _ = exported["classifier"]
    with pytest.raises(ValueError, match="calibrates on texts"):
        OnnxExporter(quantize="static").fit(model)
    with pytest.raises(TypeError, match="str"):
        OnnxExporter(quantize="static").fit(model, [1, 2, 3])


def test_exported_model_predicts_where_torch_cannot_be_imported(exported, tmp_path):
    _, fast = exported["multilabel"]
    path = tmp_path / "fast.pkl"
    path.write_bytes(pickle.dumps(fast))
    code = textwrap.dedent(f"""
        import importlib.abc, pickle, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("torch", "transformers", "safetensors"):
                    raise ImportError(f"{{name}} is blocked in this test")

        sys.meta_path.insert(0, Block())
        try:
            import torch
        except ImportError:
            pass
        else:
            raise SystemExit("torch imported")
        model = pickle.loads(open({str(path)!r}, "rb").read())
        print(repr(model.predict({X!r})))
        print(repr(model.predict_proba({X!r}).round(5).tolist()))
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers")))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    predicted, proba, loaded = done.stdout.strip().splitlines()
    assert eval(predicted) == fast.predict(X)  # noqa: S307 - our own subprocess's repr of label tuples
    np.testing.assert_allclose(eval(proba), fast.predict_proba(X), atol=1e-4)  # noqa: S307
    assert loaded == "[]"


def test_refuses_what_it_cannot_export(exported):
    model, fast = exported["classifier"]
    with pytest.raises(TypeError, match="Cannot export a TfidfSVMClassifier"):
        OnnxExporter().fit(TfidfSVMClassifier().fit(X, Y))
    with pytest.raises(NotFittedError):
        OnnxExporter().fit(TransformerClassifier(model=make_tiny_backbone()))
    with pytest.raises(ValueError, match="already exported"):
        OnnxExporter().fit(fast)
    with pytest.raises(ValueError, match="compressed in torch"):
        OnnxExporter().fit(Quantizer().fit_transform(model))
    for step in (Quantizer(), Pruner()):
        with pytest.raises(ValueError, match="runs in ONNX Runtime"):
            step.fit_transform(fast)
    with pytest.raises(InvalidParameterError, match="quantize"):
        OnnxExporter(quantize="int4").fit(model)
    with pytest.raises(InvalidParameterError, match="n_threads"):
        OnnxExporter(n_threads=0).fit(model)


def test_refit_of_an_exported_model_trains_torch_again(exported):
    from sklearn.base import clone

    _, fast = exported["classifier"]
    refit = clone(fast).fit(X, Y)
    assert not isinstance(refit.model_, OnnxModel)
    assert (refit.predict(X) == fast.predict(X)).mean() >= 0.9


# ---------------------------------------------------------------------------- Quantizer(dtype="auto")
def test_auto_keeps_the_fastest_candidate_within_the_tolerance(exported):
    model, _ = exported["classifier"]
    step = Quantizer(dtype="auto").fit(model, X)
    timed = [row for row in step.candidates_ if "seconds" in row]
    assert {row["dtype"] for row in timed} >= {"float32", "int8", "onnx-float32", "onnx-int8"}
    chosen = next(row for row in timed if row["dtype"] == step.dtype_)
    assert chosen["eligible"] and chosen["loss"] <= step.tolerance
    assert all(row["seconds"] >= chosen["seconds"] / 1.05 for row in timed if row["eligible"])
    assert next(row for row in timed if row["dtype"] == "float32")["speedup"] == 1.0
    assert step.dtype_ in step.reason_ and "int8 kernels" in step.reason_
    small = step.transform(model)
    assert small.compression_ == [{"step": "Quantizer", **step.get_params(), "chosen": step.dtype_}]
    assert (small.predict(X) == model.predict(X)).mean() >= 1 - step.tolerance
    with pytest.raises(ValueError, match="pass them as fit"):
        Quantizer(dtype="auto").fit(model)
    with pytest.raises(NotFittedError):
        Quantizer(dtype="auto").transform(model)


def test_auto_refuses_candidates_over_the_tolerance(exported, monkeypatch):
    model, _ = exported["classifier"]
    seconds = {"float32": 1.0, "bfloat16": 0.6, "int8": 0.3, "onnx-float32": 0.7, "onnx-int8": 0.2}
    losses = {"int8": 0.02, "onnx-int8": 0.5}  # the two fastest change too many labels

    def fake_measure(models, texts, labels=None):
        return {d: {"seconds": seconds[d], "loss": losses.get(d, 0.0), "bytes": 100} for d in models}

    monkeypatch.setattr("nlpipe.compression._auto.measure", fake_measure)
    # The measurements are made up: building the real candidates (ONNX exports) would only cost time.
    monkeypatch.setattr(Quantizer, "_apply", lambda self, X, family, dtype, exported=None: X)
    step = Quantizer(dtype="auto", tolerance=0.01).fit(model, X)
    timed = {row["dtype"] for row in step.candidates_ if "seconds" in row}
    assert step.dtype_ == ("bfloat16" if "bfloat16" in timed else "onnx-float32")  # bf16 only on CPUs that have it
    assert "Over the tolerance: onnx-int8, int8." in step.reason_
    assert Quantizer(dtype="auto", tolerance=0.05).fit(model, X).dtype_ == "int8"


def test_auto_with_labels_bounds_the_accuracy_lost(exported):
    model, _ = exported["classifier"]
    step = Quantizer(dtype="auto", tolerance=0.0).fit(model, X, labels=Y)
    assert "score lost" in step.reason_
    small = step.transform(model)  # tolerance 0: the choice scores at least as fp32 does on these texts
    assert small.score(X, Y) >= model.score(X, Y)
    assert all(row["loss"] >= 0 for row in step.candidates_ if "loss" in row)
    with pytest.raises(ValueError, match="one per text"):
        Quantizer(dtype="auto").fit(model, X, labels=Y[:3])


def test_auto_follows_what_the_cpu_reports(exported, monkeypatch):
    model, _ = exported["classifier"]
    avx2 = {"model": "an AVX2-only CPU", "flags": ["avx2", "fma"], "int8": "avx2", "bf16": False}
    monkeypatch.setattr("nlpipe.compression._auto.cpu_features", lambda: avx2)
    step = Quantizer(dtype="auto").fit(model, X[:16])
    timed = {row["dtype"] for row in step.candidates_ if "seconds" in row}
    assert "bfloat16" not in timed
    assert any(row["dtype"] == "bfloat16" and "no native bf16" in row["why"] for row in step.candidates_)
    assert "an AVX2-only CPU" in step.reason_
    int8 = Quantizer(dtype="auto")._apply(model, "transformer", "onnx-int8")
    assert int8.model_.info["reduce_range"] is True  # 7-bit weights where int8 products can saturate


def _graph_reading(location):
    """A well-formed ONNX graph whose one weight is read from the file ``location`` (ONNX external data)."""
    from onnx import TensorProto, helper

    weight = helper.make_tensor("W", TensorProto.UINT8, [8], vals=b"\0" * 8, raw=True)
    weight.data_location = TensorProto.EXTERNAL
    for key, value in {"location": location, "offset": "0", "length": "8"}.items():
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    weight.ClearField("raw_data")
    graph = helper.make_graph([helper.make_node("Identity", ["W"], ["outputs"])], "leak", [],
                              [helper.make_tensor_value_info("outputs", TensorProto.UINT8, [8])], initializer=[weight])
    return helper.make_model(graph).SerializeToString()


def test_a_graph_that_reads_local_files_is_refused(exported, tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.bin").write_bytes(b"SECRETS!")  # ONNX Runtime would read it relative to the cwd
    with pytest.raises(ValueError, match="external data"):
        OnnxModel(_graph_reading("secret.bin"), "{}", pad_id=0)
    _, fast = exported["classifier"]
    hostile = copy.deepcopy(fast)
    hostile.model_.__dict__["graph"] = _graph_reading("secret.bin")  # as an attacker would write the file
    path = nlpipe.save(hostile, tmp_path / "hostile.nlpipe")
    with pytest.raises(ValueError, match="external data"):
        nlpipe.load(path)
    with pytest.raises(ValueError, match="external data"):
        pickle.loads(pickle.dumps(hostile))
    for bad, match in [({"pad_id": -1}, "pad_id"), ({"graph": "text"}, "bytes"), ({"optimization": "max"}, "optimiz"),
                       ({"n_threads": True}, "n_threads"), ({"info": []}, "info")]:
        state = {**fast.model_.__getstate__(), **bad}
        with pytest.raises((ValueError, TypeError), match=match):
            OnnxModel.__new__(OnnxModel).__setstate__(state)
