"""Emotion intensity: IntensityRegressor and IntensityClassifier on EmoInt-2017, scored by Pearson r.

EmoInt tweets carry an intensity in [0, 1] for one of four emotions. As in the
shared task, one model is trained per emotion on ``train`` and scored on ``dev``
by Pearson r, and the four are averaged (the official metric). The table
compares IntensityRegressor with and without its VADER lexicon features, and
IntensityClassifier, which learns thresholds that turn the regressor's output
into ordinal levels (low < moderate < high, the intensity in thirds).

Run::

    python examples/intensity.py           # EmoInt-2017 train -> dev, under a minute
    python examples/intensity.py --smoke   # hand-written tweets, seconds

Full mode reads ``emoint2017/{train,dev}.csv`` in the data folder: ``--data-home``, else
``nlpipe.datasets.get_data_home()``, i.e. ``$NLPIPE_DATA``, else ``~/nlpipe_data`` (docs/datasets.md
says where to get the files).
"""

import argparse
import sys

import numpy as np
import pandas as pd

from nlpipe import IntensityClassifier, IntensityRegressor
from nlpipe.metrics import pearson_r

LEVELS = ["low", "moderate", "high"]

# Smoke data: for each emotion, phrases from weak to strong, said about a few topics.
_LADDERS = {
    "anger": ["a little annoyed", "annoyed", "irritated and cross", "angry", "really angry", "furious, raging!!"],
    "fear": ["a bit uneasy", "nervous", "worried", "scared", "really scared", "terrified, panicking!!"],
    "joy": ["quite content", "pleased", "happy", "so happy", "delighted", "overjoyed, ecstatic!!"],
    "sadness": ["a bit down", "low", "sad", "unhappy and gloomy", "really sad", "heartbroken, devastated!!"],
}
_TOPICS = ["the bus", "my exam", "the weekend", "the news", "work today", "the weather"]


def smoke_data():
    """Train and dev frames like EmoInt's (text, intensity, emotion): the last two topics are the dev set."""
    rows = []
    for emotion, ladder in _LADDERS.items():
        for t, topic in enumerate(_TOPICS):
            for k, phrase in enumerate(ladder):
                rows.append({"text": f"feeling {phrase} about {topic}", "emotion": emotion,
                             "intensity": round(0.1 + 0.8 * k / (len(ladder) - 1), 3), "dev": t >= 4})
    frame = pd.DataFrame(rows)
    return frame[~frame["dev"]].drop(columns="dev"), frame[frame["dev"]].drop(columns="dev")


def load_data(args):
    if args.smoke:
        return smoke_data()
    from nlpipe.datasets import load_emoint

    return (load_emoint("train", data_home=args.data_home, as_frame=True),
            load_emoint("dev", data_home=args.data_home, as_frame=True))


def to_levels(intensity):
    return np.asarray(LEVELS)[np.digitize(intensity, [1 / 3, 2 / 3])]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="hand-written tweets; finishes in seconds")
    parser.add_argument("--data-home", default=None,
                        help="folder holding emoint2017/ (default: $NLPIPE_DATA, else ~/nlpipe_data)")
    args = parser.parse_args(argv)

    try:
        train, dev = load_data(args)
    except FileNotFoundError as exc:
        print(f"{exc}\nOr pass --data-home, or run with --smoke.", file=sys.stderr)
        return 1

    models = {
        "tfidf": IntensityRegressor(lexicon=None),
        "tfidf + vader": IntensityRegressor(lexicon="vader"),
    }
    print(f"{len(train)} training and {len(dev)} dev tweets; one model per emotion\n")
    print("| emotion | train | dev | Pearson tfidf | Pearson tfidf + vader | levels accuracy | levels MAE |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for emotion in sorted(train["emotion"].unique()):
        tr, dv = train[train["emotion"] == emotion], dev[dev["emotion"] == emotion]
        X_tr, y_tr = tr["text"].tolist(), tr["intensity"].to_numpy()
        X_dv, y_dv = dv["text"].tolist(), dv["intensity"].to_numpy()
        row = {name: pearson_r(y_dv, model.fit(X_tr, y_tr).predict(X_dv)) for name, model in models.items()}
        # The classifier cross-validates its regressor to place the thresholds on honest predictions.
        clf = IntensityClassifier(levels=LEVELS, regressor=IntensityRegressor(lexicon="vader", clip=False),
                                  random_state=0)
        predicted = clf.fit(X_tr, to_levels(y_tr)).predict(X_dv)
        gold = to_levels(y_dv)
        row["accuracy"] = float((predicted == gold).mean())
        # Levels are ordered, so how far off a wrong level is matters too.
        row["mae"] = float(np.mean([abs(LEVELS.index(p) - LEVELS.index(g)) for p, g in zip(predicted, gold)]))
        rows.append(row)
        print(f"| {emotion} | {len(tr)} | {len(dv)} | {row['tfidf']:.4f} | {row['tfidf + vader']:.4f} "
              f"| {row['accuracy']:.4f} | {row['mae']:.3f} |", flush=True)
    mean = pd.DataFrame(rows).mean()
    print(f"| **average** | {len(train)} | {len(dev)} | {mean['tfidf']:.4f} | {mean['tfidf + vader']:.4f} "
          f"| {mean['accuracy']:.4f} | {mean['mae']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
