"""Run by tests/test_parallel.py under ``torch.distributed.run``: one data-parallel fit, rank 0 writes the output."""

import sys

import numpy as np

import nlpipe
from nlpipe.testing import make_text_classification, make_tiny_backbone

if __name__ == "__main__":
    import torch.distributed as dist

    X, y = make_text_classification(2)
    clf = nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=2, batch_size=int(sys.argv[2]),
                                       learning_rate=3e-3, verbose=0, random_state=0).fit(X, y)
    if dist.get_rank() == 0:
        np.save(sys.argv[1], clf.predict_proba(X))
    dist.destroy_process_group()
