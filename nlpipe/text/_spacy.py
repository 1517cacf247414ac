"""spaCy tokenization/lemmatization as a scikit-learn transformer."""

import functools
import logging
import numbers
import re
from pathlib import Path

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..base import (
    BaseTextEstimator,
    Interval,
    Options,
    check_texts,
    fit_context,
    import_optional,
    parameter_docs,
    store_params,
)

logger = logging.getLogger(__name__)

__all__ = ["SpacyTokenizer", "import_spacy"]

# Components a tokenizer never needs; excluding them makes trained pipelines ~3x faster.
_UNNEEDED = ("parser", "ner", "senter", "textcat", "entity_ruler", "entity_linker")


def import_spacy():
    """spaCy, imported on first use; when it is missing, the error names the extra to install.

    Returns
    -------
    spacy : module

    Examples
    --------
    >>> from nlpipe.text import import_spacy
    >>> import_spacy().__name__
    'spacy'
    """
    return import_optional("spacy", extra="spacy", what="SpacyTokenizer and sentence splitting")


_PIPELINE_NAME = re.compile(r"blank:[a-z]{2,3}|[A-Za-z][A-Za-z0-9_]{0,99}")


def _is_pipeline_package(name):
    """Whether ``name`` is an installed spaCy pipeline package (its folder has meta.json), found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return any((Path(folder) / "meta.json").is_file() for folder in locations)


@functools.lru_cache(maxsize=8)
def load_spacy(model):
    """Load (once per process) a spaCy pipeline by package name or ``"blank:<lang>"``.

    Parameters
    ----------
    model : str
        A spaCy package name (``"en_core_web_sm"``) or ``"blank:<lang>"``.

    Returns
    -------
    nlp : spacy.language.Language
        The pipeline, without components a tokenizer never needs.
    """
    if not isinstance(model, str) or not _PIPELINE_NAME.fullmatch(model) or not (
            model.startswith("blank:") or _is_pipeline_package(model)):
        # Not a path: a pipeline folder (or any installed package) named by a loaded file would be read or imported.
        raise ValueError(
            f"spaCy pipeline {model!r} is not installed as a spaCy pipeline package (a folder path is not "
            f"accepted). Install its package "
            f"(e.g. pip install {str(model).replace('_', '-')}) or use 'blank:en', which needs no download."
        )
    spacy = import_spacy()
    if model.startswith("blank:"):
        lang = model.split(":", 1)[1]
        try:
            return spacy.blank(lang)
        except (ImportError, OSError, KeyError) as exc:
            raise ValueError(f"spaCy has no language {lang!r} for model={model!r}: {exc}") from None
    try:
        return spacy.load(model, exclude=list(_UNNEEDED))
    except OSError:
        raise ValueError(
            f"spaCy pipeline {model!r} is not installed. Install its package "
            f"(e.g. pip install {model.replace('_', '-')}) or use model='blank:en', which needs no download."
        ) from None


class SpacyTokenizer(TransformerMixin, BaseTextEstimator):
    """Turn texts into normalized, space-joined token strings with spaCy.

    Each text becomes one string of its tokens separated by single spaces, so the
    output feeds any scikit-learn vectorizer (or nlpipe's TF-IDF classifiers via
    their ``tokenizer`` parameter). Tokens are lemmatized where the spaCy
    pipeline has a lemmatizer, lowercased, and stop words, punctuation and
    numbers are dropped on request. The pipeline is loaded in ``fit`` and
    pickled by name, never as the loaded object.

    Parameters
    ----------
    spacy_model : str, default="blank:en"
        A spaCy package name (e.g. ``"en_core_web_sm"``) or ``"blank:<lang>"``
        (tokenizer only, needs no download; ``"blank:zh"`` splits Chinese into
        characters).
    lowercase : bool, default=True
        Lowercase every token.
    lemmatize : bool, default=True
        Replace tokens by their lemma when the pipeline has a lemmatizer;
        ignored otherwise.
    remove_stop_words : bool, default=False
        Drop the language's stop words.
    remove_punct : bool, default=False
        Drop punctuation and symbol tokens.
    remove_numbers : bool, default=False
        Drop tokens that look like numbers ("10", "3.5", "ten").
    batch_size : int, default=1000
        Texts per batch given to ``nlp.pipe``.
    n_jobs : int or None, default=None
        Processes ``nlp.pipe`` runs on (spaCy's ``n_process``): None means 1,
        -1 all cores.
    verbose : int, default=1
        Show a progress bar (``tqdm``) over the texts when > 0.

    Attributes
    ----------
    nlp_ : spacy.language.Language
        The loaded pipeline (reloaded by name after unpickling).
    lemmatizes_ : bool
        Whether lemmas are used (``lemmatize`` and the pipeline has a lemmatizer).

    See Also
    --------
    TfidfSVMClassifier : accepts a SpacyTokenizer as its ``tokenizer``.

    Examples
    --------
    >>> from nlpipe import SpacyTokenizer
    >>> tok = SpacyTokenizer(remove_punct=True).fit(["unused"])
    >>> tok.transform(["Hello, World!", "Spam 4 U!!"]).tolist()
    ['hello world', 'spam 4 u']
    >>> SpacyTokenizer(spacy_model="blank:zh").fit_transform(["我爱北京"]).tolist()
    ['我 爱 北 京']
    """

    _parameter_constraints = {
        "spacy_model": [str],
        "lowercase": ["boolean"],
        "lemmatize": ["boolean"],
        "remove_stop_words": ["boolean"],
        "remove_punct": ["boolean"],
        "remove_numbers": ["boolean"],
        "batch_size": [Interval(numbers.Integral, 1, None)],
        "n_jobs": [None, Interval(numbers.Integral, 1, None), Options([-1])],
        "verbose": [Interval(numbers.Integral, 0, None), "boolean"],
    }

    def __init__(
        self,
        *,
        spacy_model="blank:en",
        lowercase=True,
        lemmatize=True,
        remove_stop_words=False,
        remove_punct=False,
        remove_numbers=False,
        batch_size=1000,
        n_jobs=None,
        verbose=1,
    ):
        store_params(self, locals())

    @fit_context
    @parameter_docs(X="Texts (validated only).")
    def fit(self, X, y=None):
        """Load the spaCy pipeline; the texts are only validated."""
        check_texts(X)
        self.nlp_ = load_spacy(self.spacy_model)
        self.lemmatizes_ = bool(self.lemmatize and "lemmatizer" in self.nlp_.pipe_names)
        logger.debug("loaded spaCy pipeline %r with %s", self.spacy_model, self.nlp_.pipe_names)
        return self

    def _normalize(self, doc):
        out = []
        for tok in doc:
            if tok.is_space:
                continue
            if self.remove_punct and (tok.is_punct or not any(ch.isalnum() for ch in tok.text)):
                continue
            if self.remove_stop_words and tok.is_stop:
                continue
            if self.remove_numbers and tok.like_num:
                continue
            text = (tok.lemma_ or tok.text) if self.lemmatizes_ else tok.text
            out.append(text.lower() if self.lowercase else text)
        return " ".join(out)

    @parameter_docs
    def transform(self, X):
        """Tokenize and normalize texts.

        Returns
        -------
        tokens : ndarray of str, shape (n_samples,)
            One space-joined token string per text.
        """
        check_is_fitted(self, "nlp_")
        texts = check_texts(X)
        docs = self.nlp_.pipe(texts, batch_size=self.batch_size, n_process=1 if self.n_jobs is None else self.n_jobs)
        if self.verbose:
            from tqdm.auto import tqdm

            docs = tqdm(docs, total=len(texts), desc="SpacyTokenizer", unit="text")
        return np.array([self._normalize(doc) for doc in docs], dtype=object)

    def __getstate__(self):
        state = super().__getstate__()
        # The loaded pipeline is large and version-bound: pickle the name, reload on load.
        state.pop("nlp_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "lemmatizes_" in state:
            self.nlp_ = load_spacy(self.spacy_model)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags
