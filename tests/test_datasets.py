"""Loaders: the bundled SMS set, and benchmark sets read from data_home (never downloaded)."""

import json

import numpy as np
import pytest

from nlpipe import datasets


def test_sms_spam_bundled():
    X, y = datasets.load_sms_spam()
    assert len(X) == len(y) == 5574
    assert (y == "spam").sum() == 747
    assert all(isinstance(x, str) for x in X)
    train = datasets.load_sms_spam(split="train", as_frame=True)
    test = datasets.load_sms_spam(split="test", as_frame=True)
    assert (len(train), len(test)) == (4460, 1114)
    assert list(train.columns) == ["text", "label", "split"]
    assert (test.label == "spam").sum() == 149
    with pytest.raises(ValueError, match="split='dev'"):
        datasets.load_sms_spam(split="dev")


def _write(home, rel, text):
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def data_home(tmp_path):
    _write(tmp_path, "sst2/train.tsv", 'text\tlabel\na "quoted" gem\t1\ndull\t0\n')
    _write(tmp_path, "sst2/dev.tsv", "text\tlabel\nfine\t1\n")
    _write(tmp_path, "sst2/test_unlabeled.tsv", "id\ttext\n0\tunknown\n")
    _write(tmp_path, "20newsgroups/train.csv", "text,label,label_id,doc_id\nhi,sci.space,14,1\nNA,alt.atheism,0,2\n")
    _write(tmp_path, "imdb/test.csv", "text,label,rating,file\ngreat,pos,9,a.txt\n")
    _write(tmp_path, "ag_news/train_subset.csv", "text,label,label_id\nstocks,Business,2\n")
    _write(tmp_path, "emoint2017/train.csv", "text,intensity,emotion,id\nugh,0.75,anger,1\nyay,0.5,joy,2\n")
    _write(tmp_path, "chnsenticorp/dev.csv", "text,label\n很好,1\n")
    rows = [{"id": "1", "article": "a . b .", "summary": "a ."}]
    _write(tmp_path, "cnn_dailymail/dev_sample.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path


def test_loaders_read_the_layout(data_home):
    X, y = datasets.load_sst2(data_home=data_home)
    assert X == ['a "quoted" gem', "dull"] and y.tolist() == [1, 0]
    X, y = datasets.load_sst2("test_unlabeled", data_home=data_home)
    assert X == ["unknown"] and y is None
    X, y = datasets.load_20newsgroups(data_home=data_home)
    assert X == ["hi", "NA"]  # "NA" is a text, not a missing value
    assert datasets.load_20newsgroups(data_home=data_home, as_frame=True).columns.tolist()[-1] == "doc_id"
    assert datasets.load_imdb("test", data_home=data_home)[1].tolist() == ["pos"]
    assert datasets.load_ag_news(data_home=data_home)[1].tolist() == ["Business"]
    X, y = datasets.load_emoint(emotion="joy", data_home=data_home)
    assert X == ["yay"] and y.dtype == np.float64 and y.tolist() == [0.5]
    assert datasets.load_chnsenticorp("dev", data_home=data_home)[0] == ["很好"]
    X, y = datasets.load_cnn_dailymail(data_home=data_home)
    assert X == ["a . b ."] and y.tolist() == ["a ."]


def test_env_var_is_the_default(data_home, monkeypatch):
    monkeypatch.setenv("NLPIPE_DATA", str(data_home))
    assert datasets.load_sst2("dev")[0] == ["fine"]


def test_missing_data_errors_name_the_path(data_home, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"expected '.*imdb/train\.csv'.*NLPIPE_DATA"):
        datasets.load_imdb(data_home=data_home)
    monkeypatch.setenv("NLPIPE_DATA", str(data_home / "nope"))
    with pytest.raises(FileNotFoundError, match=r"nope/imdb/train\.csv'.*does not exist\): set by NLPIPE_DATA"):
        datasets.load_imdb()
    with pytest.raises(FileNotFoundError, match=r"does not exist\): given as data_home="):
        datasets.load_imdb(data_home=data_home / "nope")
    with pytest.raises(ValueError, match="split='validation'"):
        datasets.load_imdb("validation", data_home=data_home)
    with pytest.raises(ValueError, match="emotion='love'"):
        datasets.load_emoint(emotion="love", data_home=data_home)


@pytest.mark.parametrize("env", [None, ""])
def test_default_folder_is_nlpipe_data_in_home(tmp_path, monkeypatch, env):
    # Neither data_home nor NLPIPE_DATA (unset or empty): ~/nlpipe_data, as scikit-learn's ~/scikit_learn_data.
    monkeypatch.setenv("HOME", str(tmp_path))
    if env is None:
        monkeypatch.delenv("NLPIPE_DATA", raising=False)
    else:
        monkeypatch.setenv("NLPIPE_DATA", env)
    default = tmp_path / "nlpipe_data"
    assert datasets.get_data_home() == default
    assert not default.exists()  # reading never creates the folder
    with pytest.raises(FileNotFoundError) as err:
        datasets.load_sst2("dev")
    message = str(err.value)
    assert repr(str(default / "sst2" / "dev.tsv")) in message and "NLPIPE_DATA is not set" in message
    assert "Set the NLPIPE_DATA environment variable" in message
    assert not default.exists()
    _write(default, "sst2/dev.tsv", "text\tlabel\nfine\t1\n")
    assert datasets.load_sst2("dev")[0] == ["fine"]


def test_data_home_expands_the_user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NLPIPE_DATA", "~/benchmarks")
    assert datasets.get_data_home() == tmp_path / "benchmarks"
    assert datasets.get_data_home("~/elsewhere") == tmp_path / "elsewhere"
