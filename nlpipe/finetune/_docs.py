"""The parameters fine-tuned estimators share: their descriptions and defaults are written once.

A fine-tuned estimator's ``__init__`` lists its own parameters and forwards the rest (``**params``) to
its parent's, as skorch's ``NeuralNetClassifier`` does; :func:`shared_parameters` gives the class the full
signature (``nlpipe.base.inherit_params``: what ``get_params``, ``clone``, ``help`` and the docs read) and
the shared docstring entries.
"""

from ..base import inherit_params

_TRAINING_DOC = """\
    max_length : int or None, default=None
        The input window in tokens (special tokens and any prompt included);
        longer inputs are cut (text-to-text estimators cut the document, never
        the prompt). None uses the backbone's limit; larger values are clipped to it.
    batch_size : int, default={batch_size}
        Examples per training step and per inference batch.
    epochs : int, default={epochs}
        Passes over the training data; 0 keeps the pretrained weights (with
        ``head_init="probe"``, a classifier or regressor still fits its head on
        the frozen features).
    learning_rate : float or "auto", default={learning_rate!r}
        Peak AdamW learning rate (linear warm-up and decay). "auto" reads it
        from the backbone's width in ``fit``: 1e-4 x 384 / hidden size (1e-4
        for all-MiniLM-L6-v2, 5e-5 for BERT-base), ten times that with
        ``lora``; see :func:`nlpipe.neural.auto_learning_rate` and
        ``learning_rate_``. A float is used as given.
    weight_decay : float, default=0.01
        AdamW weight decay (not applied to biases and norm weights).
    warmup_ratio : float, default=0.1
        Fraction of the steps with a linear learning-rate warm-up.
    gradient_accumulation_steps : int, default=1
        Batches whose gradients are summed before each optimizer step.
    max_grad_norm : float or None, default=1.0
        Gradient clipping norm; None disables clipping.
    lora : int, dict or None, default=None
        Train low-rank adapters (LoRA, with ``peft``) instead of every weight of
        the backbone: an int is the rank ``r`` (``lora_alpha=2r``, no dropout,
        adapters on every linear layer of the backbone); a dict gives
        ``peft.LoraConfig`` arguments (``r``, ``lora_alpha``, ``target_modules``,
        ...), the same defaults filling the rest. The task head trains in full.
        The adapters are merged into the weights after training: the fitted
        model is a plain one, as large and fast as a full fine-tune. LoRA wants
        a larger ``learning_rate`` than full fine-tuning (1e-3 on
        all-MiniLM-L6-v2, 10x its full fine-tuning rate; "auto" applies the
        factor). Needs the ``peft`` extra.
    lora_storage : {{"merged", "adapter"}}, default="merged"
        What pickles and ``nlpipe.save`` store of a LoRA fit: "merged", the whole
        merged model (self-contained); "adapter", only the adapter and the head
        with a reference to the base model (the ``model`` parameter) and its
        weights' SHA-256: loading then needs that base where ``model`` names it
        and fails naming it when it is missing or different. For many task models
        on one base. A compressed copy (``nlpipe.compression``) stores its
        weights in full.
    activation_checkpointing : bool, default=False
        Recompute each transformer layer's activations in the backward pass
        instead of keeping them from the forward pass (transformers'
        ``activation_checkpointing``): training memory for activations falls to
        about one layer's, for a second forward pass of every layer (MiniLM on
        CPU: 1.4x the time per epoch, 1.75x with ``lora``); the fitted model is
        the same. The memory saving that LoRA alone cannot give: LoRA
        drops the gradients and optimizer state of the frozen weights, but every
        layer's activations are still kept for the backward pass (see the PEFT
        guide).
    validation_fraction : float or None, default=None
        Hold out this fraction (stratified for single-label classification) to
        measure the validation loss after every epoch; the best epoch's weights
        are kept.
    early_stopping_patience : int or None, default=None
        With a validation split, stop after this many epochs without improvement.
    checkpoint_dir : str, path-like or None, default=None
        Save the whole training state there after every epoch (one file,
        replaced each epoch), so an interrupted fit can continue.
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` when there is one (the
        result equals an uninterrupted fit with the same seed); a checkpoint of
        other data or settings is refused.
    strategy : {{"ddp", "fsdp", "fsdp-offload"}}, default="ddp"
        How the processes of a ``torchrun`` launch share training: "ddp", a full
        replica each, gradients averaged; "fsdp", parameters, gradients and
        optimizer state sharded across them (PyTorch FSDP2), "fsdp-offload" with
        the shards in CPU memory between CUDA steps (CUDA only). Every process
        ends with the whole fitted model.
        A single process trains the same way with any of them.
    device : str, default="auto"
        "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps".
    mixed_precision : {{"auto", "no", "fp16", "bf16"}}, default="auto"
        Autocast on CUDA ("auto": bf16 where supported, else fp16); CPU runs fp32.
    random_state : int, RandomState instance or None, default=None
        Seeds the new weights, dropout, batch order, the validation split and
        any sampling in ``predict`` (an int gives the same outputs on every call).
    verbose : int, default=1
        Progress bars when > 0; transformers' own loading reports and bars only when >= 2.
"""

_MODEL_DOC = """\
    architecture : {{"auto", "seq2seq", "causal", "encoder-decoder"}}, default="auto"
        "auto" reads the checkpoint's config: encoder-decoder checkpoints are
        "seq2seq", decoder-only ones "causal", encoder-only ones are warm-started
        as "encoder-decoder" (an ``EncoderDecoderModel``; its cross-attention
        starts random and needs fine-tuning).
    model_kwargs : dict or None, default=None
        Extra ``from_pretrained`` arguments for the config, tokenizer and model,
        e.g. ``{{"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}}``.
"""

_GENERATION_DOC = """\
    chat_template : {{"auto"}} or bool, default="auto"
        Wrap the prompt as a user message in the tokenizer's chat template
        (decoder-only models); "auto": when the tokenizer has one.
    max_new_tokens : int, default={max_new_tokens}
        Longest output in tokens.
    num_beams : int, default={num_beams}
        Beam width; 1 is greedy decoding (or plain sampling).
    generation_kwargs : dict or None, default=None
        More ``generate`` arguments (``repetition_penalty``, ``top_k``,
        ``no_repeat_ngram_size``...); they win over the parameters above.
    target_max_length : int, default={target_max_length}
        References are cut to this many tokens in ``fit``.
"""

_FITTED_DOC = """\
    model_ : transformers.PreTrainedModel
        The loaded model, fine-tuned by ``fit`` where the estimator trains.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    device_ : torch.device
        Where the model lives.
    max_length_ : int
        The input window in tokens.
"""

_TRAINED_DOC = """\
    learning_rate_ : float
        The peak learning rate of the last training: ``learning_rate``, or what
        "auto" resolved to.
"""

_TEXT2TEXT_ATTRIBUTES = "\n    Attributes\n    ----------\n" + _FITTED_DOC + _TRAINED_DOC + """\
    architecture_ : {{"seq2seq", "causal", "encoder-decoder"}}
        The kind of model used.
    prompt_ : str
        The prompt template used.
    chat_template_ : bool
        Whether prompts go through the tokenizer's chat template.
    history_ : list of dict
        Per-epoch training (and validation) loss; empty without fine-tuning.
"""


def shared_parameters(estimator_class):
    """Complete a fine-tuned estimator class with the parameters it shares with its parents.

    Its ``__init__`` gets the full signature: its own keyword-only parameters and
    those it forwards with ``**params`` (what ``get_params``, ``clone``,
    ``GridSearchCV``, ``help`` and the API pages read). Its docstring gets the shared
    descriptions where it says ``%TRAINING%`` (``max_length`` to ``verbose``),
    ``%MODEL%`` (``architecture``, ``model_kwargs``), ``%GENERATION%``
    (``chat_template`` to ``target_max_length``), ``%FITTED%`` (``model_``,
    ``tokenizer_``, ``device_``, ``max_length_``), ``%TRAINED%`` (``learning_rate_``)
    or ``%ATTRIBUTES%`` (the Attributes
    section: its header, those and the text-to-text attributes), with the class's own defaults.

    Parameters
    ----------
    estimator_class : type
        The estimator class; completed in place.

    Returns
    -------
    estimator_class : type
        The same class (usable as a decorator).

    Examples
    --------
    >>> import inspect
    >>> from nlpipe import TransformerClassifier
    >>> "default='auto'" in TransformerClassifier.__doc__  # the class's own default, filled in
    True
    >>> list(inspect.signature(TransformerClassifier).parameters)[:8]
    ['model', 'class_weight', 'pooling', 'head_init', 'long_texts', 'doc_stride', 'max_length', 'batch_size']
    >>> TransformerClassifier(epochs=1).get_params()["epochs"]
    1
    """
    docs = {"%TRAINING%": _TRAINING_DOC, "%MODEL%": _MODEL_DOC, "%GENERATION%": _GENERATION_DOC,
            "%FITTED%": _FITTED_DOC, "%TRAINED%": _TRAINED_DOC, "%ATTRIBUTES%": _TEXT2TEXT_ATTRIBUTES}
    return inherit_params(estimator_class, docs={f"    {marker}\n": text for marker, text in docs.items()})
