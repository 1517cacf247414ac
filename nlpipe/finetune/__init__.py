"""The base classes of the transformer estimators, and the fit template they share (developer API).

Torch-free at import: ``nlpipe.neural`` (torch, transformers) is imported inside the methods that
need it. The layers, top to bottom::

    TransformerEstimator     loading, batched inference, pickling, save_pretrained / from_pretrained
      FineTunedEstimator     the training parameters and the one ``fit`` (template; one call of neural.train)
        TextToTextEstimator  prompts, token budgets, label sequences, batched ``generate``

A new fine-tuned estimator subclasses ``FineTunedEstimator`` and writes ``_validate_data``,
``_build_model``, ``_training_examples`` and ``_loss`` (see ``docs/design.md``, "Add an estimator").

Examples
--------
>>> from nlpipe import TransformerClassifier
>>> from nlpipe.finetune import FineTunedEstimator, TransformerEstimator
>>> [cls.__name__ for cls in TransformerClassifier.__mro__ if cls in (FineTunedEstimator, TransformerEstimator)]
['FineTunedEstimator', 'TransformerEstimator']
"""

from ._base import TransformerEstimator, import_neural
from ._docs import shared_parameters
from ._template import FineTunedEstimator, TrainingExamples, draw_seed
from ._text2text import TextToTextEstimator

__all__ = [
    "FineTunedEstimator",
    "TextToTextEstimator",
    "TrainingExamples",
    "TransformerEstimator",
    "draw_seed",
    "shared_parameters",
    "import_neural",
]
