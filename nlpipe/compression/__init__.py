"""Compression of fitted models as pipeline steps: ``transform(model)`` returns a smaller fitted copy.

Examples
--------
>>> from sklearn.pipeline import make_pipeline
>>> from nlpipe import TfidfSVMClassifier
>>> from nlpipe.compression import Pruner, Quantizer
>>> X = ["good film", "great film", "bad film", "awful film"] * 3
>>> y = ["pos", "pos", "neg", "neg"] * 3
>>> small = make_pipeline(Pruner(amount=0.5), Quantizer()).fit_transform(TfidfSVMClassifier(min_df=1).fit(X, y))
>>> [step["step"] for step in small.compression_]
['Pruner', 'Quantizer']
"""

from ._distill import Distiller, truncated_backbone
from ._onnx import OnnxExporter
from ._report import plot_report, report
from ._steps import Pruner, Quantizer

__all__ = ["Distiller", "OnnxExporter", "Pruner", "Quantizer", "plot_report", "report", "truncated_backbone"]
