"""Fine-tuned transformers as scikit-learn estimators.

``TransformerClassifier`` and ``TransformerRegressor`` fine-tune a pretrained
backbone with a fresh task head through nlpipe's single training loop;
``TransformerEmbedder`` turns a frozen encoder into a feature extractor.
torch and transformers are imported inside the methods (``nlpipe.neural``),
so importing this module stays light.
"""

from ._classifier import TransformerClassifier
from ._embedder import TransformerEmbedder
from ._regressor import TransformerRegressor

__all__ = ["TransformerClassifier", "TransformerEmbedder", "TransformerRegressor"]
