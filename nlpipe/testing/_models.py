"""Tiny models (random weights, tokenizers built from a toy corpus) saved like any pretrained checkpoint."""

import atexit
import functools
import shutil
import tempfile

from ._data import TINY_CORPUS, make_summarization


def _folder(path, prefix):
    """``path``, or a new temporary folder removed at exit."""
    if path is None:
        path = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _save_new(model_class, config, tokenizer, path, seed):
    """A model of ``config`` with weights drawn from ``seed`` (the global RNG untouched), saved with its tokenizer."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = model_class(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@functools.lru_cache(maxsize=None)
def _cached_backbone(**params):
    return make_tiny_backbone(_folder(None, "nlpipe-tiny-bert-"), **params)


def make_tiny_backbone(path=None, *, corpus=None, hidden_size=32, num_hidden_layers=2,
                       max_position_embeddings=128, vocab_size=400, seed=0):
    """Build a tiny BERT (random weights) and a tokenizer trained on ``corpus``, saved to a folder.

    The folder has the layout of any pretrained checkpoint (``save_pretrained``),
    so estimators load it through the same path as a real model: fast, offline
    tests of the whole neural stack. Needs the ``neural`` extra.

    Parameters
    ----------
    path : str or path-like, default=None
        Where to save. None builds it once per process in a temporary folder
        (removed at exit) and returns the cached path.
    corpus : list of str, default=None
        Texts whose most frequent words make the WordPiece vocabulary (any other
        word splits into characters); :data:`TINY_CORPUS` when None.
    hidden_size : int, default=32
        Hidden size (2 attention heads, intermediate size ``2 * hidden_size``).
    num_hidden_layers : int, default=2
        Transformer layers.
    max_position_embeddings : int, default=128
        The backbone's length limit in tokens.
    vocab_size : int, default=400
        Upper bound of the WordPiece vocabulary (at least the 5 special tokens and
        the characters, 141 entries).
    seed : int, default=0
        Seed of the random weights.

    Returns
    -------
    path : str
        The folder, ready for ``model=path``.

    Examples
    --------
    >>> import tempfile
    >>> from nlpipe import TransformerEmbedder
    >>> from nlpipe.testing import make_tiny_backbone
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = make_tiny_backbone(tmp, hidden_size=16, num_hidden_layers=1)
    ...     embedder = TransformerEmbedder(model=path, verbose=0).fit(["a great movie"])
    >>> embedder.transform(["a great movie", "a boring plot"]).shape
    (2, 16)

    With ``path=None`` the model is built once per process and reused:

    >>> make_tiny_backbone() == make_tiny_backbone()
    True
    """
    if path is None and corpus is None and vocab_size == 400:
        return _cached_backbone(hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                                max_position_embeddings=max_position_embeddings, seed=seed)
    from transformers import BertConfig, BertModel, BertTokenizer

    path = _folder(path, "nlpipe-tiny-bert-")
    texts = list(corpus) if corpus is not None else [t for group in TINY_CORPUS.values() for t in group]
    tokenizer = BertTokenizer(vocab=_word_vocabulary(texts, vocab_size))
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        # No dropout, larger init: a tiny random model then learns a toy task in a few steps.
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=0.2,
    )
    return _save_new(BertModel, config, tokenizer, path, seed)


def _word_vocabulary(texts, size):
    """A WordPiece vocabulary: special tokens, single characters (alone and as ``##`` pieces), then
    the corpus's most frequent words.

    Built by counting, not with ``tokenizers``' trainer, whose vocabulary changes from run to run
    (ties are broken in hash order): the same corpus always gives the same tiny model.
    """
    import collections
    import re
    import string

    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789" + string.punctuation))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + [f"##{c}" for c in chars]
    known = set(vocab)
    counts = collections.Counter(w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower()))
    for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if len(vocab) >= size:
            break
        if word not in known:
            vocab.append(word)
            known.add(word)
    return {token: i for i, token in enumerate(vocab)}


# ChatML, the format of SmolLM2 and Qwen instruction models.
_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@functools.lru_cache(maxsize=None)
def _cached_causal_lm(**params):
    return make_tiny_causal_lm(_folder(None, "nlpipe-tiny-llama-"), **params)


def make_tiny_causal_lm(path=None, *, corpus=None, hidden_size=32, num_hidden_layers=2,
                        max_position_embeddings=256, vocab_size=500, chat_template=True, seed=0):
    """Build a tiny decoder-only language model (Llama architecture, random weights) and its tokenizer.

    The byte-level BPE tokenizer is trained on ``corpus`` and, with
    ``chat_template=True``, carries a ChatML chat template (as SmolLM2-Instruct):
    offline tests of the decoder-only path of the text-to-text estimators.
    Needs the ``neural`` extra.

    Parameters
    ----------
    path : str or path-like, default=None
        Where to save. None builds it once per process in a temporary folder
        (removed at exit) and returns the cached path.
    corpus : list of str, default=None
        Texts to train the tokenizer on; the documents of :func:`make_summarization`
        and :data:`TINY_CORPUS` when None.
    hidden_size : int, default=32
        Hidden size (2 attention heads, intermediate size ``2 * hidden_size``).
    num_hidden_layers : int, default=2
        Decoder layers.
    max_position_embeddings : int, default=256
        The model's length limit in tokens (prompt plus generated tokens).
    vocab_size : int, default=500
        Upper bound of the BPE vocabulary.
    chat_template : bool, default=True
        Give the tokenizer a ChatML chat template.
    seed : int, default=0
        Seed of the random weights.

    Returns
    -------
    path : str
        The folder, ready for ``model=path`` of a text-to-text estimator.

    Examples
    --------
    >>> import tempfile
    >>> from transformers import AutoTokenizer
    >>> from nlpipe import TextGenerator
    >>> from nlpipe.testing import make_tiny_causal_lm
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = make_tiny_causal_lm(tmp)
    ...     tokenizer = AutoTokenizer.from_pretrained(path)
    ...     generator = TextGenerator(model=path, max_new_tokens=3, epochs=0, verbose=0).fit(["Say hi."])
    >>> tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
    >>> len(generator.predict(["Say hi.", "Say bye."]))  # random weights: the words are noise
    2
    """
    if path is None and corpus is None and vocab_size == 500:
        return _cached_causal_lm(hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                                 max_position_embeddings=max_position_embeddings, chat_template=chat_template,
                                 seed=seed)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = _folder(path, "nlpipe-tiny-llama-")
    if corpus is None:
        corpus = make_summarization(3)[0] + [t for group in TINY_CORPUS.values() for t in group]
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,  # its bar prints blank lines to stdout even on a tiny corpus
    )
    bpe.train_from_iterator(list(corpus), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|endoftext|>",
        model_max_length=max_position_embeddings,
    )
    if chat_template:
        tokenizer.chat_template = _CHATML
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.2,
    )
    return _save_new(LlamaForCausalLM, config, tokenizer, path, seed)
