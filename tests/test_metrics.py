import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from nlpipe.metrics import pearson_r, pearson_scorer, spearman_r, spearman_scorer


def test_single_and_multi_output():
    rng = np.random.default_rng(0)
    t = rng.random((50, 3))
    p = t + rng.normal(0, 0.1, (50, 3))
    expected = np.mean([stats.pearsonr(t[:, j], p[:, j])[0] for j in range(3)])
    assert pearson_r(t, p) == pytest.approx(expected)
    assert pearson_r(t[:, 0], p[:, 0]) == pytest.approx(stats.pearsonr(t[:, 0], p[:, 0])[0])
    assert spearman_r(t[:, 1], t[:, 1] ** 3) == pytest.approx(1.0)


def test_constant_predictions_count_as_zero_and_shapes_must_match():
    assert pearson_r([0.1, 0.5, 0.9], [0.3, 0.3, 0.3]) == 0.0
    with pytest.raises(ValueError, match="shape"):
        pearson_r([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        spearman_r([1.0], [1.0])


@pytest.mark.parametrize("scorer", [pearson_scorer, spearman_scorer])
def test_scorers_in_cross_validation(scorer):
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(0, 0.05, 60)
    scores = cross_val_score(Ridge(alpha=1e-3), X, y, cv=3, scoring=scorer)
    assert scores.shape == (3,) and (scores > 0.95).all()


# ----------------------------------------------------------- QA and translation
def test_squad_matches_the_official_rules():
    from nlpipe.metrics import squad

    # Normalisation: case, punctuation and articles are ignored; F1 counts shared tokens.
    assert squad(["The Eiffel Tower!"], ["eiffel tower"]) == {"exact_match": 1.0, "f1": 1.0}
    result = squad(["Barack Obama"], ["President Barack Obama"])
    assert result["exact_match"] == 0.0 and result["f1"] == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert squad([["Paris", "the city of Paris"]], ["city of paris"])["exact_match"] == 1.0  # best gold counts
    assert squad([""], [""]) == {"exact_match": 1.0, "f1": 1.0}  # SQuAD 2.0: no answer matches no answer
    assert squad([""], ["something"]) == {"exact_match": 0.0, "f1": 0.0}
    with pytest.raises(ValueError, match="2 items but predictions has 1"):
        squad(["a", "b"], ["a"])
    with pytest.raises(TypeError, match=r"predictions\[0\] is NoneType"):
        squad(["a"], [None])
    with pytest.raises(TypeError, match=r"references\[0\] is int"):
        squad([3], ["a"])


def test_bleu_and_chrf_follow_sacrebleu():
    sacrebleu = pytest.importorskip("sacrebleu")
    from nlpipe.metrics import bleu, chrf

    refs = ["the cat sat on the mat today", "a dog barked at the moon last night"]
    hyps = ["the cat sat on a mat today", "the dog barked at the moon last night"]
    assert bleu(refs, hyps) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score / 100)
    assert chrf(refs, hyps) == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score / 100)
    assert bleu(refs, refs) == pytest.approx(1.0) and 0 < bleu(refs, hyps) < 1
    assert chrf(refs, hyps, word_order=2) != chrf(refs, hyps)
    with pytest.raises(ValueError, match="2 items but translations has 1"):
        bleu(refs, hyps[:1])
    with pytest.raises(TypeError, match=r"translations\[1\] is float"):
        chrf(refs, [hyps[0], float("nan")])


@pytest.mark.parametrize("name", ["exact_match", "squad_f1", "bleu", "chrf"])
def test_new_scorers_by_name_score_predictions(name):
    from nlpipe.metrics import get_scorer

    pytest.importorskip("sacrebleu")

    from sklearn.base import BaseEstimator

    class Echo(BaseEstimator):  # predicts its input: a perfect system when X equals y
        def fit(self, X, y):
            return self

        def predict(self, X):
            return list(X)

    texts = ["the cat sat on the mat today", "a dog barked at the moon last night"]
    scorer = get_scorer(name)
    assert scorer(Echo(), texts, texts) == pytest.approx(1.0)
    assert scorer(Echo(), texts, texts[::-1]) < 0.5
