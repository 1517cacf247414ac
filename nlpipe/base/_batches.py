"""Which texts to run together: length-sorted batches that pad as little as a model call costs."""

import numpy as np

# A model call costs about this many padded tokens beyond its tokens (measured for MiniLM on 2 CPU cores:
# ~12 ms per call against ~0.17 ms per token), so splitting a batch pays when it saves more padding than this.
CALL_COST_TOKENS = 64


def length_batches(lengths, batch_size, *, call_cost=CALL_COST_TOKENS):
    """Split texts into batches of at most ``batch_size``, longest first, minimising padded tokens.

    Texts are sorted by length (longest first) and cut into consecutive runs so that
    the padded tokens (each batch pads to its longest text) plus ``call_cost`` per
    batch are as few as possible: dynamic programming over the sorted lengths, in
    ``O(n * batch_size)``. Texts of similar length fill whole batches; a mix of short
    and long texts is split rather than padding every short one to the longest.

    Parameters
    ----------
    lengths : array-like of int
        Tokens per text.
    batch_size : int
        Most texts per batch.
    call_cost : int, default=64
        What one more batch costs, in padded tokens.

    Returns
    -------
    batches : list of ndarray of int
        Indices into ``lengths``, one array per batch, longest batch first.

    Examples
    --------
    >>> from nlpipe.base import length_batches
    >>> [b.tolist() for b in length_batches([5, 5, 5, 5], batch_size=8)]  # alike: one batch
    [[0, 1, 2, 3]]
    >>> [b.tolist() for b in length_batches([3, 120, 4, 118, 2], batch_size=8)]  # two long, three short
    [[1, 3], [2, 0, 4]]
    >>> [len(b) for b in length_batches([7] * 10, batch_size=4)]
    [4, 4, 2]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    n = len(order)
    if n == 0:
        return []
    sorted_lengths = lengths[order].tolist()
    # best[i]: least cost of the first i sorted texts; a batch j..i-1 costs (i - j) * sorted_lengths[j].
    best = [0] + [0] * n
    cut = [0] * (n + 1)
    for i in range(1, n + 1):
        best[i], cut[i] = min((best[j] + (i - j) * sorted_lengths[j] + call_cost, -j)
                              for j in range(max(0, i - batch_size), i))
    bounds, i = [], n
    while i > 0:  # ties go to the later cut: full batches first, the short one last
        bounds.append((-cut[i], i))
        i = -cut[i]
    return [order[a:b] for a, b in reversed(bounds)]
