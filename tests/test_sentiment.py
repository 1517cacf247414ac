"""Lexicon sentiment: VADER's rules survive, long texts do not saturate, thresholds are learned."""

import numpy as np
import pytest

pytest.importorskip("vaderSentiment")

from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from nlpipe import LexiconFeatures, LexiconSentiment  # noqa: E402

POS = ["i love this movie", "a wonderful, great film", "really enjoyable and fun", "the best day ever",
       "what a lovely surprise", "happy with the result", "excellent work", "so good"]
NEG = ["i hate this movie", "an awful, boring film", "really dull and sad", "the worst day ever",
       "what a horrible surprise", "angry about the result", "terrible work", "so bad"]
NEU = ["the movie starts at nine", "the film is in english", "it was released in may", "the day is tuesday",
       "the box is on the table", "the result was posted", "work starts monday", "so it goes"]


def compound(texts):
    return LexiconSentiment().fit(POS + NEG, [1] * 8 + [0] * 8).decision_function(texts)


def test_negation_flips_sign():
    a, b = compound(["the food was good", "the food was not good"])
    assert a > 0 > b


def test_intensifiers_caps_and_punctuation_raise_magnitude():
    base, very, caps, bang = compound(["the food was good", "the food was very good",
                                       "the food was GOOD", "the food was good!!!"])
    assert very > base and caps > base and bang > base


def test_long_texts_stay_in_range_and_do_not_saturate():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    mixed = " ".join(["The acting was great. The plot was awful."] * 200)
    positive = " ".join(["The acting was great."] * 200)
    ours = compound([mixed, positive, "The acting was great."])
    assert np.all(np.abs(ours) <= 1)
    assert abs(ours[0]) < 0.3  # balanced text stays near neutral
    assert ours[1] == pytest.approx(ours[2])  # 200 positive sentences score like one
    raw = SentimentIntensityAnalyzer().polarity_scores(positive)["compound"]
    assert raw > 0.99  # what the raw analyzer does: saturation


def test_three_way_thresholds_are_learned_and_ordered():
    X = POS + NEG + NEU
    y = ["pos"] * 8 + ["neg"] * 8 + ["neu"] * 8
    clf = LexiconSentiment().fit(X, y)
    assert len(clf.thresholds_) == 2 and clf.thresholds_[0] < clf.thresholds_[1]
    assert clf.score(X, y) > 0.8
    scores = np.linspace(-1, 1, 41)
    order = {"neg": 0, "neu": 1, "pos": 2}
    pred = clf.estimator_.predict(scores[:, None])
    ranks = [order[p] for p in pred]
    assert ranks == sorted(ranks), "classes must change monotonically along the compound score"


def test_thresholds_adapt_to_labels():
    X = POS + NEU
    y_strict = [1] * 8 + [0] * 8  # neutral texts are the negative class here
    clf = LexiconSentiment().fit(X, y_strict)
    assert clf.score(X, y_strict) == 1.0
    assert 0 <= clf.thresholds_[0] < 0.5
    assert cross_val_score(LexiconSentiment(), X + NEG, [1] * 8 + [0] * 16, cv=4).mean() > 0.8


def test_features_names_shapes_and_stacking():
    feats = LexiconFeatures().fit(POS)
    F = feats.transform(POS + NEG + ["", "WOW!!! :) 😀 isn't it?"])
    assert F.shape == (18, 10) and list(feats.get_feature_names_out())[:4] == ["compound", "pos", "neg", "neu"]
    assert np.isfinite(F).all()
    last = dict(zip(feats.get_feature_names_out(), LexiconFeatures(log_counts=False).fit(["x"]).transform(
        ["WOW!!! :) 😀 isn't it?"])[0]))
    assert last["exclamations"] == 3 and last["questions"] == 1 and last["emoji"] == 1
    assert last["emoticons"] == 1 and last["negations"] == 1 and last["caps_ratio"] == pytest.approx(1 / 3)
    model = make_pipeline(make_union(TfidfVectorizer(), LexiconFeatures()), LinearSVC())
    X, y = POS + NEG, [1] * 8 + [0] * 8
    assert model.fit(X, y).score(X, y) == 1.0


@pytest.mark.parametrize("lexicon, width", [("vader", 10), ("nrc", 16), ("both", 20)])
def test_features_emotion_lexicon_columns(lexicon, width):
    pytest.importorskip("nrclex")
    feats = LexiconFeatures(lexicon=lexicon, log_counts=False).fit(["x"])
    names = list(feats.get_feature_names_out())
    assert feats.n_features_out_ == len(names) == width
    rows = feats.transform(["I am furious and angry!", "such a happy, joyful day", "the box is on the table"])
    assert rows.shape == (3, width)
    if lexicon == "vader":
        assert not any(n.startswith("nrc_") for n in names)
        return
    assert ("compound" in names) == (lexicon == "both")
    by_name = [dict(zip(names, row)) for row in rows]
    assert by_name[0]["nrc_anger"] == 2 and by_name[0]["nrc_joy"] == 0
    assert by_name[1]["nrc_joy"] >= 2 and by_name[1]["nrc_anger"] == 0
    assert sum(v for k, v in by_name[2].items() if k.startswith("nrc_")) == 0
    assert by_name[0]["exclamations"] == 1


def test_emotion_lexicon_missing_names_the_extra(monkeypatch):
    import importlib.util

    from nlpipe.exceptions import MissingExtraError
    from nlpipe.sentiment import _lexicon

    _lexicon._emotion_lexicon.cache_clear()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nrclex" else real(name, *a))
    try:
        with pytest.raises(MissingExtraError, match=r"nlpipe\[sentiment\]"):
            LexiconFeatures(lexicon="nrc").fit(["x"])
        LexiconFeatures().fit(["x"])  # the VADER columns do not need it
    finally:
        _lexicon._emotion_lexicon.cache_clear()


def _intensity_data():
    X = POS + NEG + NEU
    anger = np.r_[np.full(8, 0.1), np.linspace(0.6, 1.0, 8), np.full(8, 0.2)]
    joy = np.r_[np.linspace(0.6, 1.0, 8), np.full(8, 0.05), np.full(8, 0.3)]
    return X, anger, np.column_stack([anger, joy])


def test_intensity_regressor_single_and_multi_output():
    from nlpipe import IntensityRegressor
    from nlpipe.metrics import pearson_r

    X, anger, both = _intensity_data()
    single = IntensityRegressor(alpha=0.1).fit(X, anger)
    pred = single.predict(X + ["SO ANGRY!!! I HATE IT"])
    assert pred.shape == (25,) and ((pred >= 0) & (pred <= 1)).all()
    assert single.score(X, anger) == pytest.approx(pearson_r(anger, single.predict(X)))
    multi = IntensityRegressor(alpha=0.1, lexicon=None).fit(X, both)
    assert multi.n_outputs_ == 2 and multi.predict(X).shape == (24, 2)
    assert multi.score(X, both) > 0.9


def test_intensity_regressor_clip_and_a_transformer_scored_the_same_way():
    from nlpipe import IntensityRegressor, TransformerRegressor
    from nlpipe.metrics import get_scorer
    from nlpipe.testing import make_tiny_backbone

    X, anger, _ = _intensity_data()
    raw = IntensityRegressor(alpha=1e-3, clip=False).fit(X, anger * 4 - 1.5)
    assert raw.predict(X).min() < 0 and raw.predict(X).max() > 1
    tfidf = IntensityRegressor().fit(X, anger)
    assert get_scorer("pearson")(tfidf, X, anger) == pytest.approx(tfidf.score(X, anger))
    pytest.importorskip("torch")
    neural = TransformerRegressor(model=make_tiny_backbone(), epochs=10, batch_size=8, learning_rate=3e-3,
                                  random_state=0, verbose=0).fit(X, anger)
    assert get_scorer("pearson")(neural, X, anger) > 0.8


def test_intensity_ensemble_averages_its_two_fitted_models():
    pytest.importorskip("torch")
    from sklearn.base import clone

    from nlpipe import IntensityClassifier, IntensityRegressor, TransformerRegressor
    from nlpipe.testing import make_tiny_backbone

    X, anger, both = _intensity_data()
    neural = TransformerRegressor(model=make_tiny_backbone(), epochs=3, batch_size=8, learning_rate=3e-3,
                                  random_state=0, verbose=0)
    ens = IntensityRegressor(transformer=neural, transformer_weight=0.7).fit(X, anger)
    assert ens.transformer_ is not neural and not hasattr(neural, "model_")  # a fitted clone; the parameter untouched
    expected = np.clip(0.7 * ens.transformer_.predict(X) + 0.3 * ens.estimator_.predict(X), 0, 1)
    np.testing.assert_allclose(ens.predict(X), expected)
    tfidf_only = IntensityRegressor().fit(X, anger)
    assert tfidf_only.transformer_ is None
    np.testing.assert_allclose(ens.set_params(transformer_weight=0.0).predict(X), tfidf_only.predict(X))
    assert not hasattr(clone(ens), "transformer_")
    multi = IntensityRegressor(transformer=neural, lexicon=None).fit(X, both)
    assert multi.predict(X).shape == (24, 2) and multi.transformer_.n_outputs_ == 2
    # an ordinal model on top of the ensemble
    levels = ["none", "low", "high"]
    y = np.array(levels)[np.digitize(anger, [0.15, 0.7])]
    clf = IntensityClassifier(levels=levels, regressor=IntensityRegressor(clip=False, transformer=neural), cv=2,
                              random_state=0).fit(X, y)
    assert clf.regressor_.transformer_ is not None and clf.score(X, y) > 0.6
    for bad, match in (({"transformer_weight": 1.5}, "transformer_weight"), ({"transformer": "minilm"}, "transformer")):
        with pytest.raises((ValueError, TypeError), match=match):
            IntensityRegressor(**bad).fit(X, anger)


def test_intensity_classifier_levels_are_ordered():
    from nlpipe import IntensityClassifier

    X, anger, _ = _intensity_data()
    levels = ["none", "low", "high"]
    y = np.array(levels)[np.digitize(anger, [0.15, 0.7])]
    clf = IntensityClassifier(levels=levels).fit(X, y)
    assert clf.classes_.tolist() == levels
    assert np.all(np.diff(clf.thresholds_) > 0)
    grid = np.linspace(-0.5, 1.5, 101)
    ranks = clf.estimator_.predict(grid[:, None])
    assert (np.diff(ranks) >= 0).all(), "levels must rise with the regressor's output"
    proba = clf.predict_proba(X)
    assert proba.shape == (24, 3)
    assert (clf.classes_[proba.argmax(1)] == clf.predict(X)).all()
    assert clf.score(X, y) > 0.7
    with pytest.raises(ValueError, match="missing from levels"):
        IntensityClassifier(levels=["none", "low"]).fit(X, y)
    seeded = [IntensityClassifier(levels=levels, random_state=seed).fit(X, y).thresholds_ for seed in (1, 1, 2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])  # random_state fixes the CV folds the thresholds learn on


def test_sentiment_classifier_features():
    from nlpipe import SentimentClassifier

    X = POS + NEG + ["not good", "not great", "not bad", "not awful"] * 2
    y = [1] * 8 + [0] * 8 + [0, 0, 1, 1] * 2
    tfidf = SentimentClassifier(random_state=0).fit(X, y)
    vocab = tfidf.estimator_[0].transformer_list[0][1].vocabulary_
    assert "NOT_good" in vocab and "NOT_bad" in vocab  # negation-aware tokens
    assert not hasattr(tfidf, "predict_proba")
    assert tfidf.score(X, y) == 1.0
    assert [name for name, _ in tfidf.estimator_[0].transformer_list] == ["words", "lexicon"]
    bare = SentimentClassifier(lexicon=None, random_state=0).fit(X, y)
    assert [name for name, _ in bare.estimator_[0].transformer_list] == ["words"]


def test_sentiment_classifier_chinese_end_to_end():
    from nlpipe import SentimentClassifier

    X = ["这家酒店很好，服务很好", "房间干净，非常满意", "太差了，很失望", "服务差，房间脏，不满意"] * 3
    y = [1, 1, 0, 0] * 3
    clf = SentimentClassifier(analyzer="char", lexicon=None, random_state=0).fit(X, y)
    assert clf.predict(["非常好，很满意", "很差，失望"]).tolist() == [1, 0]


@pytest.mark.parametrize("name", ["SentimentClassifier", "LexiconSentiment", "IntensityClassifier"])
@pytest.mark.parametrize("y", [[["pos"], ["neg", "pos"]] * 8, np.tile([[1, 0], [1, 1]], (8, 1))],
                         ids=["label-lists", "indicator"])
def test_single_label_classifiers_reject_multilabel_y(name, y):
    import nlpipe

    with pytest.raises(ValueError, match="several labels per text"):
        getattr(nlpipe, name)().fit((POS + NEG)[:16], y)
