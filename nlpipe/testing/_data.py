"""Tiny, learnable data sets for fast offline tests: text classification, summarization, question answering."""

import numpy as np

# Short, repetitive on purpose: every word recurs so min_df=2 keeps a vocabulary.
TINY_CORPUS = {
    "pos": [
        "a great movie with a great cast",
        "i loved this great film",
        "wonderful acting and a lovely story",
        "lovely film , loved the wonderful cast",
        "great story , wonderful movie",
        "i loved it , a lovely movie",
    ],
    "neg": [
        "a terrible movie with a boring plot",
        "i hated this awful film",
        "boring acting and a terrible story",
        "awful film , hated the boring plot",
        "terrible story , awful movie",
        "i hated it , a boring movie",
    ],
    "neutral": [
        "the movie is two hours long",
        "this film was shown on tuesday",
        "the story is set in paris",
        "the cast met on tuesday in paris",
        "two hours , shown in paris",
        "it was shown , the film is long",
    ],
}


def make_text_classification(n_classes=2, *, repeat=2, label_type=str):
    """A tiny, learnable text classification set.

    Parameters
    ----------
    n_classes : {2, 3}, default=2
        Number of classes.
    repeat : int, default=2
        How often the base sentences repeat.
    label_type : {str, int}, default=str
        Type of the labels.

    Returns
    -------
    X : list of str
        Sentences of :data:`TINY_CORPUS`, the classes interleaved.
    y : ndarray
        One label per sentence.

    Examples
    --------
    >>> from nlpipe.testing import make_text_classification
    >>> X, y = make_text_classification(3, repeat=1)
    >>> len(X), y[:3].tolist()
    (18, ['pos', 'neg', 'neutral'])
    >>> X[:3]
    ['a great movie with a great cast', 'a terrible movie with a boring plot', 'the movie is two hours long']
    >>> make_text_classification(2, label_type=int)[1][:4].tolist()
    [0, 1, 0, 1]
    """
    names = list(TINY_CORPUS)[:n_classes]
    X, y = [], []
    for _ in range(repeat):
        for i in range(len(TINY_CORPUS["pos"])):
            for k, name in enumerate(names):
                X.append(TINY_CORPUS[name][i])
                y.append(name if label_type is str else k)
    return X, np.asarray(y)


def make_summarization(n_documents=12):
    """Tiny multi-sentence documents with one-sentence references (their second sentence).

    Parameters
    ----------
    n_documents : int, default=12
        How many documents; topics cycle through a small set.

    Returns
    -------
    X : list of str
        Documents of four to six sentences.
    y : list of str
        One reference summary per document.

    Examples
    --------
    >>> from nlpipe.testing import make_summarization
    >>> X, y = make_summarization(3)
    >>> print(X[1])  # doctest: +NORMALIZE_WHITESPACE
    A new library opened on Monday. The city library opened with ten thousand new books.
    Children queued for the reading room. Volunteers ran tours of the building. Report number 1.
    >>> y[1]
    'The city library opened with ten thousand new books.'
    """
    topics = [
        ("The river flooded the old town.", "Heavy rain made the river flood the town overnight.",
         "Residents moved to the school on the hill.", "The mayor asked for help from the army.",
         "Water levels fell by the next afternoon.", "Cleaning will take weeks."),
        ("A new library opened on Monday.", "The city library opened with ten thousand new books.",
         "Children queued for the reading room.", "Volunteers ran tours of the building."),
        ("The team won the cup final.", "A late goal won the cup final for the home team.",
         "Fans celebrated in the main square.", "The coach thanked the young players.",
         "The captain lifted the trophy."),
    ]
    X, y = [], []
    for i in range(n_documents):
        sentences = topics[i % len(topics)]
        X.append(" ".join(sentences) + f" Report number {i}.")
        y.append(sentences[1])
    return X, y


_QA_FILLER = (
    "The morning was cold and grey.", "A bus stopped at the corner.", "Two dogs ran across the park.",
    "The shop opened at nine.", "Rain fell on the old roofs.", "A child waved from the window.",
    "The radio played a quiet song.", "Leaves blew along the street.",
)
_QA_FACTS = (
    ("The key is {}.", "What is the key?", ("red", "blue", "green", "gold", "silver", "black")),
    ("The boat belongs to {}.", "Who owns the boat?", ("anna", "boris", "carla", "david", "elena", "felix")),
)


def make_question_answering(n_questions=12, *, n_filler=4, seed=0):
    """Tiny passages with one planted fact each, the question about it and its answer span.

    Parameters
    ----------
    n_questions : int, default=12
        How many (question, passage, answer) triples.
    n_filler : int, default=4
        Filler sentences around the planted fact; more make passages longer
        than a small window (for striding).
    seed : int, default=0
        Seed of the filler order, the fact's position and the answers.

    Returns
    -------
    X : pandas.DataFrame
        Columns ``question`` and ``context``.
    y : list of str
        The answer of each question, a span of its passage.

    Examples
    --------
    >>> from nlpipe.testing import make_question_answering
    >>> X, y = make_question_answering(4)
    >>> all(answer in context for answer, context in zip(y, X["context"]))
    True
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows, answers = [], []
    for i in range(n_questions):
        fact, question, options = _QA_FACTS[i % len(_QA_FACTS)]
        answer = options[rng.integers(len(options))]
        filler = [_QA_FILLER[k] for k in rng.integers(len(_QA_FILLER), size=n_filler)]
        filler.insert(int(rng.integers(n_filler + 1)), fact.format(answer))
        rows.append({"question": question, "context": " ".join(filler)})
        answers.append(answer)
    return pd.DataFrame(rows), answers
