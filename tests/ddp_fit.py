"""Run by tests/test_parallel.py under ``torch.distributed.run``: data-parallel fits, rank 0 writes the outputs.

``ddp_fit.py OUT BATCH``: one DDP fit, its probabilities in OUT.
``ddp_fit.py OUT BATCH ddp fsdp``: one fit per strategy (same seed, same data), OUT holds each one's
probabilities and the per-rank MiB of parameters + gradients + optimizer state (``rank_state_mib``).
"""

import json
import sys

import numpy as np

import nlpipe
from nlpipe.testing import make_text_classification, make_tiny_backbone

if __name__ == "__main__":
    import torch.distributed as dist

    X, y = make_text_classification(2)
    strategies = sys.argv[3:] or ["ddp"]
    out = {}
    for strategy in strategies:
        clf = nlpipe.TransformerClassifier(model=make_tiny_backbone(), epochs=2, batch_size=int(sys.argv[2]),
                                           learning_rate=3e-3, verbose=0, random_state=0, strategy=strategy).fit(X, y)
        out[strategy] = {"proba": clf.predict_proba(X).tolist(), "rank_state_mib": clf.history_[-1]["rank_state_mib"],
                         "pickled": len(__import__("pickle").dumps(clf))}
    if dist.get_rank() == 0:
        if sys.argv[3:]:
            with open(sys.argv[1], "w") as fh:
                json.dump(out, fh)
        else:
            np.save(sys.argv[1], np.asarray(out["ddp"]["proba"]))
    dist.destroy_process_group()
