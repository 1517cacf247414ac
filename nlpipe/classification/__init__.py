"""Fine-tuned transformers as scikit-learn estimators.

``TransformerClassifier`` and ``TransformerRegressor`` fine-tune a pretrained
backbone with a fresh task head through nlpipe's single training loop;
``TransformerEmbedder`` turns a frozen encoder into a feature extractor;
``FewShotClassifier`` learns from a few labelled texts per class (SetFit's method).
torch and transformers are imported inside the methods (``nlpipe.neural``),
so importing this module stays light.
"""

from ._classifier import TransformerClassifier
from ._embedder import TransformerEmbedder
from ._fewshot import FewShotClassifier
from ._regressor import TransformerRegressor

__all__ = ["FewShotClassifier", "TransformerClassifier", "TransformerEmbedder", "TransformerRegressor"]
