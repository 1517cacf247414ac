"""Files built the way an attacker would: a real ``nlpipe.save`` archive with its payload swapped.

Each must be refused with ``ValueError`` before anything is built: no marker file appears, no
function is called, nothing large is allocated. The attacks are crafted on top of what ``save``
writes today, so they keep working when the format changes. Random corruption (the fuzz tests in
test_persist.py) cannot find these: each is a well-formed file whose checksums all match.
"""

import hashlib
import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib

import pytest

import nlpipe
from nlpipe.testing import make_text_classification

X, y = make_text_classification(2)


# ------------------------------------------------------------------ building hostile files
def _archive(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json")), zf.read("estimator.skops")


def _write(path, manifest, payload):
    """An nlpipe archive around ``payload``, with a manifest whose checksum matches (an attacker can compute it)."""
    manifest = {**manifest, "payload_sha256": hashlib.sha256(payload).hexdigest()}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("estimator.skops", payload)
    return path


def _payload_parts(payload):
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        return json.loads(zf.read("schema.json")), {n: zf.read(n) for n in zf.namelist() if n != "schema.json"}


def _payload(schema, files=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("schema.json", json.dumps(schema))
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _json(value):
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _tuple(*items):
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": list(items)}


def _call(module, name, *args):
    """skops' ConstructorFromReduceNode: ``module.name(*args)`` when loaded (meant for ``type(obj)(*args)``)."""
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": _tuple(*args)}


@pytest.fixture
def saved(tmp_path):
    clf = nlpipe.TfidfNBClassifier().fit(X, y)
    return nlpipe.save(clf, tmp_path / "clf.nlpipe")


def _with_root(saved, tmp_path, root, name="evil.nlpipe"):
    """The saved archive with its payload's root node replaced: ``root(original_root)``."""
    manifest, payload = _archive(saved)
    schema, files = _payload_parts(payload)
    meta = {k: schema.pop(k) for k in ("protocol", "_skops_version")}
    return _write(tmp_path / name, manifest, _payload({**root(schema), **meta}, files))


def _assert_refused(path, needle, **kwargs):
    with pytest.raises(ValueError, match=needle):
        nlpipe.load(path, **kwargs)


# ------------------------------------------------------------------ calls named by the file
def test_a_function_of_nlpipe_is_never_called(saved, tmp_path):
    # nlpipe.save(<the estimator>, <any path>): before the fix, load trusted every name under "nlpipe."
    # and skops called it, writing a file anywhere the user can write (a .pth in site-packages runs code).
    marker = tmp_path / "written-by-the-file"
    path = _with_root(saved, tmp_path, lambda est: _call("nlpipe", "save", est, _json(str(marker))))
    # The file is a working attack: skops, given the names as trusted (what load did), calls the function.
    import skops.io as sio

    _, payload = _archive(path)
    sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    assert marker.exists()
    marker.unlink()
    _assert_refused(path, r"rebuild types outside nlpipe.*nlpipe\.save")
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [("os", "makedirs"), ("nlpipe._persist", "save"),
                                          ("nlpipe.base", "check_load_size"), ("builtins", "exec")])
def test_trusting_a_function_is_refused(saved, tmp_path, module, name):
    marker = tmp_path / "made"
    path = _with_root(saved, tmp_path, lambda est: _call(module, name, _json(str(marker))))
    _assert_refused(path, "trusted takes class names only", trusted=[f"{module}.{name}"])
    assert not marker.exists()


def _node(loader, module, name, **extra):
    return {"__class__": name, "__module__": module, "__loader__": loader, **extra}


@pytest.mark.parametrize("node, needle", [
    (_node("FunctionNode", "os", "getcwd", content={"module_path": "os", "function": "getcwd"}), "would call os.getcwd"),
    (_node("PartialNode", "functools", "partial",
           content={"func": _node("FunctionNode", "os", "makedirs", content={}), "args": _tuple(), "kwds": _tuple(),
                    "namespace": _tuple()}), "would call functools.partial"),
    (_node("MethodNode", "nlpipe.text._tfidf", "TfidfNBClassifier", content={"func": "fit", "obj": _json(0)}),
     "MethodNode"),
    (_node("OperatorFuncNode", "operator", "attrgetter", attrs=_tuple(_json("x"))), "OperatorFuncNode"),
    # Containers are built by calling the type they name with no arguments.
    (_node("DictNode", "os", "getcwd", content={}, key_types=_node("ListNode", "builtins", "list", content=[])),
     "DictNode would be built by calling os.getcwd"),
    (_node("ListNode", "nlpipe", "save", content=[]), "ListNode would be built by calling nlpipe.save"),
    # An array node calls its type with the array; a type node hands out whatever it names (e.g. as a preprocessor).
    (_node("NdArrayNode", "os", "system", type="json", content=[], shape=_tuple()), r"outside nlpipe.*os\.system"),
    (_node("TypeNode", "os", "system"), r"outside nlpipe.*os\.system"),
    (_node("SomeFutureNode", "nlpipe", "save"), "loader 'SomeFutureNode'"),
])
def test_calls_and_unknown_loaders_are_refused(saved, tmp_path, node, needle):
    def plant(est):  # hide the node as a fitted attribute of the real estimator
        est["content"]["content"]["planted_"] = node
        return est

    _assert_refused(_with_root(saved, tmp_path, plant), needle)


def test_a_function_as_vectorizer_preprocessor_is_refused(tmp_path):
    # What a fitted model with a function inside looks like: the function would be called on every text.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    import textwrap

    pipe = make_pipeline(TfidfVectorizer(preprocessor=textwrap.dedent), LogisticRegression()).fit(X, y)
    path = nlpipe.save(pipe, tmp_path / "with-function.nlpipe")
    _assert_refused(path, "would call textwrap.dedent")
    pipe.set_params(tfidfvectorizer__preprocessor=str.lower)  # a method of a builtin type
    _assert_refused(nlpipe.save(pipe, tmp_path / "with-method.nlpipe"), "method_descriptor")


def test_nlpipe_models_hold_no_functions(tmp_path):
    # SentimentClassifier and IntensityRegressor keep their preprocessors as allow-listed classes.
    for est, target in [(nlpipe.SentimentClassifier(lexicon=None), y),
                        (nlpipe.IntensityRegressor(lexicon=None), [i / len(X) for i in range(len(X))])]:
        path = nlpipe.save(est.fit(X, target), tmp_path / "m.nlpipe")
        schema, _ = _payload_parts(_archive(path)[1])
        assert '"FunctionNode"' not in json.dumps(schema)
        assert (nlpipe.load(path).predict(X) == est.predict(X)).all()


def test_arrays_larger_than_their_data_are_refused(saved, tmp_path):
    manifest, payload = _archive(saved)
    schema, files = _payload_parts(payload)
    name = next(n for n in files if n.endswith(".npy"))
    data = bytearray(files[name])
    header_end = data.index(b"\n") + 1
    header = bytes(data[:header_end]).decode("latin1")
    shape_start = header.index("'shape': (") + len("'shape': (")
    shape_end = header.index(")", shape_start)
    forged = header[:shape_start] + "10000000000000," + header[shape_end:]
    forged = forged[:-1].ljust(len(header) - 1) + "\n"  # keep the header's length (and alignment)
    files[name] = forged.encode("latin1")[:header_end] + bytes(data[header_end:])
    _assert_refused(_write(tmp_path / "big-array.nlpipe", manifest, _payload(schema, files)), "declares shape")


def test_spacy_pipelines_are_named_by_package_never_by_path(tmp_path):
    pytest.importorskip("spacy")
    tok = nlpipe.SpacyTokenizer(spacy_model="blank:en").fit(X)
    path = nlpipe.save(tok, tmp_path / "tok.nlpipe")
    manifest, payload = _archive(path)
    schema, files = _payload_parts(payload)
    schema["content"]["content"]["spacy_model"] = _json(str(tmp_path))  # a folder spaCy would read a pipeline from
    _assert_refused(_write(tmp_path / "path.nlpipe", manifest, _payload(schema, files)), "folder path is not accepted")


# ------------------------------------------------------------------ decompression bombs
def _zip64(members):
    """A zip archive from (name, compressed bytes, method, crc, uncompressed size): sizes stored as zip64."""
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        name = name.encode()
        extra = struct.pack("<HHQQ", 1, 16, size, len(data))
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(name), len(extra)) + name + extra + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, offset) + name + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def _bomb(prefix_gib, tail):
    """``prefix_gib`` GiB of spaces then ``tail``, deflated into a few MB: a member that parses as the JSON in tail."""
    chunk = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)  # byte-aligned and self-contained: repeatable
    n_chunks = prefix_gib * 1024
    final = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = block * n_chunks + final.compress(tail) + final.flush()
    crc = 0
    big = chunk * 64
    for _ in range(n_chunks // 64):
        crc = zlib.crc32(big, crc)
    crc = zlib.crc32(tail, crc)
    return data, crc, n_chunks * len(chunk) + len(tail)


def test_the_bomb_builder_makes_valid_deflate():
    data, crc, size = _bomb(0, b'{"a": 1}')
    with zipfile.ZipFile(io.BytesIO(_zip64([("m.json", data, 8, crc, size)]))) as zf:
        assert json.loads(zf.read("m.json")) == {"a": 1}
    chunk = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    assert zlib.decompress(block * 3 + tail.compress(b"x") + tail.flush(), -15) == chunk * 3 + b"x"


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """9 GiB declared inside ~9 MB, as the manifest (outer bomb) and as the skops schema (inner bomb)."""
    folder = tmp_path_factory.mktemp("bombs")
    saved = nlpipe.save(nlpipe.TfidfNBClassifier().fit(X, y), folder / "clean.nlpipe")
    manifest, payload = _archive(saved)
    schema, files = _payload_parts(payload)
    data, crc, size = _bomb(9, json.dumps(manifest).encode())
    outer = folder / "outer-bomb.nlpipe"
    outer.write_bytes(_zip64([("manifest.json", data, 8, crc, size),
                              ("estimator.skops", payload, 0, zlib.crc32(payload), len(payload))]))
    data, crc, size = _bomb(9, json.dumps(schema).encode())
    inner_payload = _zip64([("schema.json", data, 8, crc, size)] +
                           [(n, d, 0, zlib.crc32(d), len(d)) for n, d in files.items()])
    inner = _write(folder / "inner-bomb.nlpipe", manifest, inner_payload)
    return {"outer": outer, "inner": inner}


@pytest.mark.parametrize("which", ["outer", "inner"])
def test_decompression_bombs_are_refused_before_inflating(bombs, which):
    with pytest.raises(ValueError, match=r"over max_size=8,589,934,592: a decompression bomb.*load\(path, max_size=\.\.\.\)"):
        nlpipe.load(bombs[which])


def test_a_bomb_costs_no_memory(bombs):
    # In a fresh process, so the peak resident memory measured is the load's own.
    code = ("import resource, sys, nlpipe\n"
            "try:\n    nlpipe.load(sys.argv[1])\nexcept ValueError as e:\n    print('refused', e)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    res = subprocess.run([sys.executable, "-c", code, str(bombs["inner"])], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "refused" in res.stdout
    peak_kib = int(res.stdout.split()[-1])
    assert peak_kib < 2 * 1024 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB while refusing a bomb"


def test_max_size_is_the_limit(saved):
    size = sum(i.file_size for i in zipfile.ZipFile(saved).infolist())
    with pytest.raises(ValueError, match="over max_size=100"):
        nlpipe.load(saved, max_size=100)
    nlpipe.load(saved, max_size=size)
    with pytest.raises(ValueError, match="max_size must be a positive"):
        nlpipe.load(saved, max_size=0)


# ------------------------------------------------------------------ hostile state of allow-listed classes
@pytest.fixture(scope="module")
def neural_file(tmp_path_factory):
    pytest.importorskip("torch")
    from nlpipe.testing import make_tiny_backbone

    clf = nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=1, verbose=0, random_state=0).fit(X, y)
    return nlpipe.save(clf, tmp_path_factory.mktemp("neural") / "tiny.nlpipe")


def _edit_packed(path, out, edit):
    """Rewrite the neural state (``_packed``: config, tokenizer and weight bytes) of a saved model."""
    manifest, payload = _archive(path)
    schema, files = _payload_parts(payload)
    edit(schema["content"]["content"]["_packed"], files)
    return _write(out, manifest, _payload(schema, files))


def _config(packed, files, **changes):
    name = packed["content"]["config"]["content"]["config.json"]["file"]
    files[name] = json.dumps({**json.loads(files[name]), **changes}).encode()


def _rename_file(packed, new_name):
    files_node = packed["content"]["tokenizer"]["content"]
    old = next(iter(files_node))
    # Moved to the end, as the dict's key types are listed in order (every key is a str).
    files_node[new_name] = files_node.pop(old)


def _dict(**content):
    """A skops DictNode: its key types (str for each key, in order) are called on the keys when it is built."""
    return _node("DictNode", "builtins", "dict", content=content,
                 key_types=_node("ListNode", "builtins", "list", content=[_node("TypeNode", "builtins", "str")] * len(content)))


def _add(packed_node, key, value):
    packed_node["content"][key] = value
    packed_node["key_types"]["content"].append(_node("TypeNode", "builtins", "str"))


@pytest.mark.parametrize("edit, needle", [
    # A config describing a 40-billion-value model: refused from its shapes, before allocating it.
    (lambda p, f: _config(p, f, vocab_size=10**10), "over the load limit"),
    (lambda p, f: _config(p, f, auto_map={"AutoConfig": "evil.Config"}, model_type="evil"), "could not be rebuilt"),
    (lambda p, f: _rename_file(p, "../../escaped.json"), "suspicious file name"),
    (lambda p, f: _rename_file(p, "/tmp/absolute.json"), "suspicious file name"),
    (lambda p, f: _add(p, "dtype", _json("load")), "dtype must be float16 or bfloat16"),
    (lambda p, f: _add(p, "structure", _dict(**{"bert.encoder.layer.0": _dict(heads=_json(10**9), neurons=_json(10**9))})),
     "gives 'bert.encoder.layer.0' 1000000000 heads"),
    (lambda p, f: _add(p, "surprise", _json(1)), "unknown fields"),
])
def test_hostile_neural_state_is_refused(neural_file, tmp_path, edit, needle):
    path = _edit_packed(neural_file, tmp_path / "hostile.nlpipe", edit)
    with pytest.raises(ValueError, match=needle):
        nlpipe.load(path)
    assert not (tmp_path.parent / "escaped.json").exists()


def test_the_neural_file_itself_loads(neural_file):
    assert len(nlpipe.load(neural_file).predict(X)) == len(X)


@pytest.fixture(scope="module")
def sparse_file(tmp_path_factory):
    pytest.importorskip("torch")
    from nlpipe.neural import magnitude_prune_linears
    from nlpipe.testing import make_tiny_backbone

    clf = nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=1, verbose=0, random_state=0).fit(X, y)
    magnitude_prune_linears(clf.model_, 0.5)  # half zeros: stored as a bitmask and the non-zero values
    return nlpipe.save(clf, tmp_path_factory.mktemp("sparse") / "sparse.nlpipe")


def _edit_weights(packed, files, edit):
    from safetensors.torch import load, save

    name = packed["content"]["weights"]["file"]
    tensors = load(files[name])
    edit(tensors)
    files[name] = save(tensors)


def _first_sparse(tensors):
    return next(k for k in tensors if k.endswith(".shape")).removesuffix(".shape")


@pytest.mark.parametrize("edit, needle", [
    (lambda t: t.update({f"{_first_sparse(t)}.shape": t[f"{_first_sparse(t)}.shape"] * 1000}),
     "which its mask does not cover"),
    (lambda t: t.update({f"{_first_sparse(t)}.values": t[f"{_first_sparse(t)}.values"][:2]}), "2 values for"),
])
def test_sparse_weights_with_forged_shapes_are_refused(sparse_file, tmp_path, edit, needle):
    assert len(nlpipe.load(sparse_file).predict(X)) == len(X)
    path = _edit_packed(sparse_file, tmp_path / "forged.nlpipe", lambda p, f: _edit_weights(p, f, edit))
    with pytest.raises(ValueError, match=needle):
        nlpipe.load(path)
