"""Lexicon sentiment as scikit-learn estimators: VADER scores that learn their thresholds.

VADER (Hutto & Gilbert, 2014; the ``vaderSentiment`` package, MIT) handles negation,
intensifiers ("very"), capitals, punctuation emphasis and emoji. nlpipe adds what
an estimator needs: scores that do not saturate on long texts (each sentence is
scored and the compound scores are averaged), thresholds learned from labelled
data, and surface-cue features to stack with TF-IDF.
"""

from ._classifier import SentimentClassifier
from ._intensity import IntensityClassifier, IntensityRegressor
from ._lexicon import LexiconFeatures, LexiconSentiment
from ._preprocess import NegationMarker, SocialTextNormalizer, mark_negation

__all__ = [
    "IntensityClassifier",
    "IntensityRegressor",
    "LexiconFeatures",
    "LexiconSentiment",
    "NegationMarker",
    "SentimentClassifier",
    "SocialTextNormalizer",
    "mark_negation",
]
