"""Text preprocessors of the sentiment models' vectorizers, as classes that ``nlpipe.load`` may rebuild.

A fitted ``TfidfVectorizer`` keeps its ``preprocessor``. Were it a function, a saved model would
have to name a function for the loader to look up, and ``nlpipe.load`` looks up classes only (a
file that could name a function could name any). These classes hold no state and call one fixed
function.
"""

import re

from ._lexicon import _analyzer

_NEGATION_SCOPE_END = re.compile(r"^[.:;!?,]+$")
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]+")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


def mark_negation(text):
    """Lowercase ``text`` and prefix ``NOT_`` to words after a negation, up to the next punctuation.

    The classic negation handling for bag-of-words sentiment (Das & Chen, 2001;
    Pang et al., 2002): "not good" and "good" become different features.

    Parameters
    ----------
    text : str
        A text.

    Returns
    -------
    marked : str
        Space-joined tokens.

    See Also
    --------
    NegationMarker : the same, as a callable object a saved model can hold.

    Examples
    --------
    >>> from nlpipe.sentiment import mark_negation
    >>> mark_negation("It was not good at all. Great ending!")
    'it was not NOT_good NOT_at NOT_all . great ending !'
    """
    _, negations = _analyzer()
    out, negated = [], False
    for tok in _TOKEN.findall(text.lower()):
        if _NEGATION_SCOPE_END.match(tok):
            negated = False
            out.append(tok)
        elif negated:
            out.append("NOT_" + tok)
        else:
            out.append(tok)
            negated = tok in negations or tok.endswith("n't")
    return " ".join(out)


class _Stateless:
    """A callable without state: equal to any other instance, and refusing state from a file."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(type(self).__qualname__)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        if state:
            raise ValueError(f"{type(self).__name__} holds no state; got {sorted(state)!r}.")


class NegationMarker(_Stateless):
    """:func:`mark_negation` as a callable object: the preprocessor of ``SentimentClassifier``'s word n-grams.

    See Also
    --------
    mark_negation : the function it calls.

    Examples
    --------
    >>> from nlpipe.sentiment import NegationMarker
    >>> NegationMarker()("Not bad, really.")
    'not NOT_bad , really .'
    """

    def __call__(self, text):
        return mark_negation(text)


class SocialTextNormalizer(_Stateless):
    """Lower-case a text and map every @mention and URL to one placeholder each (``IntensityRegressor``'s n-grams).

    No single handle or link is then learned as a feature.

    Examples
    --------
    >>> from nlpipe.sentiment import SocialTextNormalizer
    >>> SocialTextNormalizer()("So ANGRY @bob www.x.com")
    'so angry @user http'
    """

    def __call__(self, text):
        return _URL.sub("http", _MENTION.sub("@user", text)).lower()
