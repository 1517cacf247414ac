"""Cross-validate nlpipe's two baselines against a hand-built scikit-learn pipeline.

Run: python examples/compare_baselines.py
"""

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from nlpipe import SpacyTokenizer, TfidfNBClassifier, TfidfSVMClassifier
from nlpipe.datasets import load_sms_spam

X, y = load_sms_spam()
cv = StratifiedKFold(5, shuffle=True, random_state=0)
models = {
    "sklearn TfidfVectorizer() + LinearSVC()": make_pipeline(TfidfVectorizer(), LinearSVC()),
    "nlpipe TfidfSVMClassifier()": TfidfSVMClassifier(random_state=0),
    "nlpipe TfidfNBClassifier()": TfidfNBClassifier(),
    "nlpipe TfidfSVMClassifier(tokenizer=SpacyTokenizer())": TfidfSVMClassifier(
        tokenizer=SpacyTokenizer(remove_numbers=True), random_state=0
    ),
}
for name, model in models.items():
    scores = cross_val_score(model, X, y, cv=cv, scoring="f1_macro")
    print(f"{name:<55} macro-F1 {scores.mean():.4f} ± {scores.std():.4f}")
