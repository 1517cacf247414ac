"""Data loaders: the bundled SMS Spam Collection, and benchmark sets read from ``data_home``.

Nothing here downloads. The benchmark sets are read from a folder laid out as
``<data_home>/<dataset>/<file>``: ``data_home`` is the argument, else the
``NLPIPE_DATA`` environment variable, else ``~/nlpipe_data`` (see
:func:`get_data_home`). The documentation's "Data sets" page (``docs/datasets.md``)
says where to get each set and which files, columns and keys the loaders read.

Every ``load_*`` function returns ``(X, y)`` -- ``X`` a list of str, ``y`` a
numpy array -- or, with ``as_frame=True``, the whole table as a
:class:`pandas.DataFrame` with every column the file has.

Examples
--------
The SMS Spam Collection ships with nlpipe:

>>> from nlpipe.datasets import load_sms_spam
>>> X, y = load_sms_spam(split="train")
>>> len(X), y[:3].tolist()
(4460, ['ham', 'spam', 'ham'])

The benchmark sets are read from ``data_home`` (here a temporary folder holding
a two-row ``imdb/train.csv``, set through ``NLPIPE_DATA``):

>>> import os, tempfile
>>> from pathlib import Path
>>> from unittest import mock
>>> from nlpipe.datasets import load_imdb
>>> with tempfile.TemporaryDirectory() as home:
...     Path(home, "imdb").mkdir()
...     _ = Path(home, "imdb", "train.csv").write_text(
...         "text,label,rating,file\\nA joy to watch.,pos,9,0_9.txt\\nDull and long.,neg,2,1_2.txt\\n")
...     with mock.patch.dict(os.environ, {"NLPIPE_DATA": home}):
...         X, y = load_imdb("train")
>>> X, y.tolist()
(['A joy to watch.', 'Dull and long.'], ['pos', 'neg'])
"""

import html
import os
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = [
    "get_data_home",
    "load_20newsgroups",
    "load_ag_news",
    "load_chnsenticorp",
    "load_cnn_dailymail",
    "load_emoint",
    "load_imdb",
    "load_sms_spam",
    "load_sst2",
]

_CITATION_SMS = (
    "Almeida, T.A., Gómez Hidalgo, J.M., Yamakami, A. (2011). Contributions to the Study of "
    "SMS Spam Filtering: New Collection and Results. DocEng'11."
)


def get_data_home(data_home=None):
    """Return the folder benchmark data sets are read from.

    The folder is, in order: ``data_home`` when given, else the ``NLPIPE_DATA``
    environment variable when it is set and not empty, else ``~/nlpipe_data``
    (as scikit-learn's ``get_data_home`` falls back to ``~/scikit_learn_data``).
    ``~`` is expanded. The folder is neither created nor required to exist:
    nlpipe never downloads or writes there, and a loader whose file is missing
    says which file it looked for.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder; when None, ``NLPIPE_DATA``, else ``~/nlpipe_data``.

    Returns
    -------
    data_home : pathlib.Path

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from unittest import mock
    >>> from nlpipe.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as home:
    ...     given = get_data_home(home)
    ...     with mock.patch.dict(os.environ, {"NLPIPE_DATA": home}):
    ...         from_env = get_data_home()
    >>> given == from_env == Path(home)
    True
    >>> with mock.patch.dict(os.environ, {"NLPIPE_DATA": ""}):
    ...     get_data_home() == Path.home() / "nlpipe_data"
    True
    """
    return _data_home(data_home)[0]


def _data_home(data_home):
    """``(folder, where it came from)``: the argument, ``NLPIPE_DATA`` or the default."""
    if data_home is not None:
        return Path(data_home).expanduser(), "given as data_home="
    env = os.environ.get("NLPIPE_DATA")
    if env:
        return Path(env).expanduser(), "set by NLPIPE_DATA"
    return Path("~", "nlpipe_data").expanduser(), "the default, as NLPIPE_DATA is not set"


def _missing_data_message(what, path, home, source):
    """The error text for a data file that is not where it was looked for."""
    folder = "" if home.is_dir() else " (that folder does not exist)"
    return (
        f"{what} not found: expected {str(path)!r}. The data folder is {str(home)!r}{folder}: "
        f"{source}. Set the NLPIPE_DATA environment variable (or pass data_home=) to the folder "
        "that holds the data sets; docs/datasets.md says where to get each one and how to lay it out."
    )


def _read(path):
    import pandas as pd

    if path.suffix == ".tsv":
        return pd.read_csv(path, sep="\t", quoting=3, keep_default_na=False)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    # keep_default_na=False: a message that reads "NA" or "null" is text, not a missing value.
    return pd.read_csv(path, keep_default_na=False)


def _load(dataset, files, split, *, data_home, as_frame, text_col="text", target_col="label"):
    if split not in files:
        raise ValueError(f"split={split!r} is not one of {sorted(files)} for {dataset}.")
    home, source = _data_home(data_home)
    path = home / dataset / files[split]
    if not path.is_file():
        raise FileNotFoundError(_missing_data_message(f"{dataset} {split} split", path, home, source))
    frame = _read(path)
    return _as_output(frame, as_frame, text_col, target_col)


def _as_output(frame, as_frame, text_col, target_col):
    if as_frame:
        return frame
    X = frame[text_col].astype(str).tolist()
    y = frame[target_col].to_numpy() if target_col in frame.columns else None
    return X, y


def load_sms_spam(*, split=None, as_frame=False):
    """Load the bundled SMS Spam Collection (5,574 messages, ham/spam).

    HTML entities of the corpus' web source are decoded (``&lt;#&gt;``, the
    source's stand-in for a number, reads ``<#>``). Terms: "free for all
    purposes"; please cite Almeida et al. (2011),
    *Contributions to the Study of SMS Spam Filtering: New Collection and
    Results*, DocEng'11. Ships with nlpipe; needs no ``data_home``.

    Parameters
    ----------
    split : {"train", "test"} or None, default=None
        A stratified 80/20 split (4,460 / 1,114); None returns all rows.
    as_frame : bool, default=False
        Return a DataFrame with columns ``text, label, split``.

    Returns
    -------
    X, y : list of str, ndarray of str
        Messages and their labels ("ham" or "spam"), unless ``as_frame``.
    frame : pandas.DataFrame
        When ``as_frame=True``.

    Examples
    --------
    >>> from nlpipe.datasets import load_sms_spam
    >>> X, y = load_sms_spam()
    >>> len(X), sorted(set(y))
    (5574, ['ham', 'spam'])
    >>> load_sms_spam(split="test", as_frame=True).shape
    (1114, 3)
    """
    import pandas as pd

    if split not in (None, "train", "test"):
        raise ValueError(f"split={split!r} is not one of None, 'train', 'test'.")
    with resources.files("nlpipe").joinpath("data/sms_spam.csv.gz").open("rb") as fh:
        frame = pd.read_csv(fh, compression="gzip", keep_default_na=False)
    # The corpus keeps the HTML entities of its web source ("&lt;#&gt;" stands for a number, "&amp;" for "&").
    frame["text"] = frame["text"].map(html.unescape)
    if split is not None:
        frame = frame[frame["split"] == split].reset_index(drop=True)
    return _as_output(frame, as_frame, "text", "label")


def load_sst2(split="train", *, data_home=None, as_frame=False):
    """Load GLUE SST-2 binary sentence sentiment (1 = positive).

    Parameters
    ----------
    split : {"train", "dev", "test_unlabeled"}, default="train"
        67,349 / 872 / 1,821 sentences; ``test_unlabeled`` has no labels (y is None).
    data_home : str or path-like, default=None
        Folder holding ``sst2/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table as a DataFrame.

    Returns
    -------
    X, y : list of str, ndarray of int
        Unless ``as_frame``, which returns a pandas.DataFrame.

    Examples
    --------
    The files are tab-separated, with a header: ``<data_home>/sst2/train.tsv`` and
    ``dev.tsv`` hold ``text`` and ``label``, ``test_unlabeled.tsv`` ``id`` and ``text``.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_sst2
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "sst2").mkdir()
    ...     _ = Path(home, "sst2", "dev.tsv").write_text("text\\tlabel\\na charming journey .\\t1\\nno wit , only gags\\t0\\n")
    ...     _ = Path(home, "sst2", "test_unlabeled.tsv").write_text("id\\ttext\\n0\\tuneasy mishmash .\\n")
    ...     X, y = load_sst2("dev", data_home=home)
    ...     X_test, y_test = load_sst2("test_unlabeled", data_home=home)
    >>> X, y.tolist()
    (['a charming journey .', 'no wit , only gags'], [1, 0])
    >>> X_test, y_test
    (['uneasy mishmash .'], None)
    """
    files = {"train": "train.tsv", "dev": "dev.tsv", "test_unlabeled": "test_unlabeled.tsv"}
    return _load("sst2", files, split, data_home=data_home, as_frame=as_frame)


def load_20newsgroups(split="train", *, data_home=None, as_frame=False):
    """Load 20 Newsgroups, bydate split (headers, footers and quotes kept).

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        11,314 / 7,532 posts.
    data_home : str or path-like, default=None
        Folder holding ``20newsgroups/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table (``text, label, label_id, doc_id``) as a DataFrame.

    Returns
    -------
    X, y : list of str, ndarray of str
        Posts and newsgroup names, unless ``as_frame``.

    Examples
    --------
    ``<data_home>/20newsgroups/train.csv`` and ``test.csv``, with a header:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_20newsgroups
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "20newsgroups").mkdir()
    ...     _ = Path(home, "20newsgroups", "test.csv").write_text(
    ...         'text,label,label_id,doc_id\\n"Subject: orbit\\n\\nThe launch slipped.",sci.space,14,7\\n')
    ...     X, y = load_20newsgroups("test", data_home=home)
    ...     frame = load_20newsgroups("test", data_home=home, as_frame=True)
    >>> X, y.tolist()
    (['Subject: orbit\\n\\nThe launch slipped.'], ['sci.space'])
    >>> list(frame.columns)
    ['text', 'label', 'label_id', 'doc_id']
    """
    files = {"train": "train.csv", "test": "test.csv"}
    return _load("20newsgroups", files, split, data_home=data_home, as_frame=as_frame)


def load_imdb(split="train", *, data_home=None, as_frame=False):
    """Load the IMDB Large Movie Review Dataset (labels "pos"/"neg").

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        25,000 reviews each.
    data_home : str or path-like, default=None
        Folder holding ``imdb/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table (``text, label, rating, file``) as a DataFrame.

    Returns
    -------
    X, y : list of str, ndarray of str
        Reviews and labels, unless ``as_frame``.

    Examples
    --------
    ``<data_home>/imdb/train.csv`` and ``test.csv``, with a header:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_imdb
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "imdb").mkdir()
    ...     _ = Path(home, "imdb", "test.csv").write_text(
    ...         "text,label,rating,file\\nA joy to watch.,pos,9,0_9.txt\\nDull and long.,neg,2,1_2.txt\\n")
    ...     X, y = load_imdb("test", data_home=home)
    >>> X, y.tolist()
    (['A joy to watch.', 'Dull and long.'], ['pos', 'neg'])
    """
    files = {"train": "train.csv", "test": "test.csv"}
    return _load("imdb", files, split, data_home=data_home, as_frame=as_frame)


def load_ag_news(split="train", *, data_home=None, as_frame=False):
    """Load AG News (descriptions only; 4 topics).

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        ``train`` is the 10,001-row subset; ``test`` has 7,600 rows.
    data_home : str or path-like, default=None
        Folder holding ``ag_news/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table as a DataFrame (``test`` also has ``title``).

    Returns
    -------
    X, y : list of str, ndarray of str
        Descriptions and topic names, unless ``as_frame``.

    Examples
    --------
    ``<data_home>/ag_news/train_subset.csv`` and ``test.csv``, with a header:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_ag_news
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "ag_news").mkdir()
    ...     _ = Path(home, "ag_news", "train_subset.csv").write_text(
    ...         "text,label,label_id\\nShares rose after the report.,Business,2\\nThe striker scored twice.,Sports,1\\n")
    ...     X, y = load_ag_news(data_home=home)
    >>> X, y.tolist()
    (['Shares rose after the report.', 'The striker scored twice.'], ['Business', 'Sports'])
    """
    files = {"train": "train_subset.csv", "test": "test.csv"}
    return _load("ag_news", files, split, data_home=data_home, as_frame=as_frame)


def load_emoint(split="train", *, emotion=None, data_home=None, as_frame=False):
    """Load EmoInt-2017 emotion-intensity regression (tweets, intensity in [0, 1]).

    Parameters
    ----------
    split : {"train", "dev"}, default="train"
        3,613 / 347 tweets.
    emotion : {"anger", "fear", "joy", "sadness"} or None, default=None
        Keep one emotion's tweets (models are usually trained per emotion).
    data_home : str or path-like, default=None
        Folder holding ``emoint2017/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table (``text, intensity, emotion, id``) as a DataFrame.

    Returns
    -------
    X, y : list of str, ndarray of float
        Tweets and intensities, unless ``as_frame``.

    Examples
    --------
    ``<data_home>/emoint2017/train.csv`` and ``dev.csv``, with a header:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_emoint
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "emoint2017").mkdir()
    ...     _ = Path(home, "emoint2017", "train.csv").write_text(
    ...         "text,intensity,emotion,id\\nSo angry right now,0.8,anger,10000\\nWhat a lovely day,0.6,joy,30000\\n")
    ...     X, y = load_emoint(emotion="anger", data_home=home)
    >>> X, y.tolist()
    (['So angry right now'], [0.8])
    """
    emotions = ("anger", "fear", "joy", "sadness")
    if emotion is not None and emotion not in emotions:
        raise ValueError(f"emotion={emotion!r} is not one of {list(emotions)} or None.")
    files = {"train": "train.csv", "dev": "dev.csv"}
    frame = _load("emoint2017", files, split, data_home=data_home, as_frame=True)
    if emotion is not None:
        frame = frame[frame["emotion"] == emotion].reset_index(drop=True)
    out = _as_output(frame, as_frame, "text", "intensity")
    return out if as_frame else (out[0], out[1].astype(np.float64))


def load_cnn_dailymail(split="dev", *, data_home=None, as_frame=False):
    """Load the CNN/DailyMail summarization sample (lower-cased, PTB-tokenized).

    Parameters
    ----------
    split : {"dev"}, default="dev"
        The 500-article ``dev_sample``.
    data_home : str or path-like, default=None
        Folder holding ``cnn_dailymail/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table (with the See et al. system outputs) as a DataFrame.

    Returns
    -------
    X, y : list of str, ndarray of str
        Articles and reference summaries (one sentence per line), unless ``as_frame``.

    Examples
    --------
    ``<data_home>/cnn_dailymail/dev_sample.jsonl``, one JSON object per line:

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_cnn_dailymail
    >>> row = {"id": "000003", "article": "( cnn ) the river rose . people left .", "summary": "the river rose ."}
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "cnn_dailymail").mkdir()
    ...     _ = Path(home, "cnn_dailymail", "dev_sample.jsonl").write_text(json.dumps(row) + "\\n")
    ...     X, y = load_cnn_dailymail(data_home=home)
    >>> X, y.tolist()
    (['( cnn ) the river rose . people left .'], ['the river rose .'])
    """
    files = {"dev": "dev_sample.jsonl"}
    return _load(
        "cnn_dailymail", files, split, data_home=data_home, as_frame=as_frame,
        text_col="article", target_col="summary",
    )


def load_chnsenticorp(split="train", *, data_home=None, as_frame=False):
    """Load ChnSentiCorp Chinese review sentiment (1 = positive).

    Parameters
    ----------
    split : {"train", "dev"}, default="train"
        9,600 / 1,200 reviews.
    data_home : str or path-like, default=None
        Folder holding ``chnsenticorp/``; default: :func:`get_data_home`.
    as_frame : bool, default=False
        Return the whole table as a DataFrame.

    Returns
    -------
    X, y : list of str, ndarray of int
        Reviews and labels, unless ``as_frame``.

    Examples
    --------
    ``<data_home>/chnsenticorp/train.csv`` and ``dev.csv`` (UTF-8), with a header:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nlpipe.datasets import load_chnsenticorp
    >>> with tempfile.TemporaryDirectory() as home:
    ...     Path(home, "chnsenticorp").mkdir()
    ...     _ = Path(home, "chnsenticorp", "train.csv").write_text(
    ...         "text,label\\n酒店很干净，服务很好。,1\\n房间太小了。,0\\n", encoding="utf-8")
    ...     X, y = load_chnsenticorp(data_home=home)
    >>> X, y.tolist()
    (['酒店很干净，服务很好。', '房间太小了。'], [1, 0])
    """
    files = {"train": "train.csv", "dev": "dev.csv"}
    return _load("chnsenticorp", files, split, data_home=data_home, as_frame=as_frame)
