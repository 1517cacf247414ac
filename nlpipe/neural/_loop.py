"""The single training loop and the batched inference every neural estimator uses."""

import contextlib
import hashlib
import json
import logging
import math
import os

import numpy as np
import torch

logger = logging.getLogger(__name__)


def encode(tokenizer, texts, max_length):
    """Token ids per text, truncated to ``max_length``; no padding (batches pad dynamically)."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)
    return enc["input_ids"]


def collate(ids, pad_id, device, *, side="right", token_types=None):
    """Pad a list of id lists to the longest one; returns ``input_ids`` and ``attention_mask``.

    ``side="left"`` puts the padding first, as decoder-only models need for batched generation.
    ``token_types`` (one list per row, as long as its ids) adds ``token_type_ids``: the
    segment of each token in a text pair (question and passage).
    """
    width = max(len(x) for x in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    types = np.zeros((len(ids), width), dtype=np.int64) if token_types is not None else None
    for i, row in enumerate(ids):
        span = slice(width - len(row), width) if side == "left" else slice(0, len(row))
        input_ids[i, span] = row
        mask[i, span] = 1
        if types is not None:
            types[i, span] = token_types[i]
    batch = {
        "input_ids": torch.from_numpy(input_ids).to(device, non_blocking=True),
        "attention_mask": torch.from_numpy(mask).to(device, non_blocking=True),
    }
    if types is not None:
        batch["token_type_ids"] = torch.from_numpy(types).to(device, non_blocking=True)
    return batch


def _rows(values, idx):
    return None if values is None else [values[i] for i in idx]


# Label value that Hugging Face models and torch's cross-entropy leave out of the loss.
IGNORE_INDEX = -100


def collate_labels(labels, device):
    """Pad token-label sequences with :data:`IGNORE_INDEX` to the longest one."""
    width = max(len(x) for x in labels)
    out = np.full((len(labels), width), IGNORE_INDEX, dtype=np.int64)
    for i, row in enumerate(labels):
        out[i, : len(row)] = row
    return torch.from_numpy(out).to(device, non_blocking=True)


def _take(targets, idx, device):
    """The targets of the rows ``idx``: a tensor's rows, or padded label sequences."""
    if isinstance(targets, torch.Tensor):
        return targets[torch.as_tensor(idx)].to(device)
    return collate_labels([targets[i] for i in idx], device)


def _autocast(device, dtype):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _length_grouped_batches(lengths, batch_size, rng):
    """Shuffled batches of similar lengths (less padding), as transformers' ``group_by_length``."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


@torch.inference_mode()
def run_inference(model, ids, *, forward, batch_size, device, amp_dtype, pad_id, verbose=0, desc="predict",
                  token_types=None):
    """Forward all texts in length-sorted batches; outputs come back in input order.

    Sorting by length means each batch pads only to its own longest text;
    the longest batch runs first so an out-of-memory error shows up at once.
    """
    from tqdm.auto import tqdm

    model.eval()
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(-lengths, kind="stable")
    outputs = []
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not verbose, leave=False):
        idx = order[start : start + batch_size]
        batch = collate([ids[i] for i in idx], pad_id, device, token_types=_rows(token_types, idx))
        with _autocast(device, amp_dtype):
            out = forward(model, batch)
        outputs.append(out.float().cpu().numpy())
    stacked = np.concatenate(outputs, axis=0)
    result = np.empty_like(stacked)
    result[order] = stacked
    return result


CHECKPOINT_FILE = "nlpipe-checkpoint.pt"


def _fingerprint(ids, targets, **settings):
    """What a checkpoint was trained on: a hash of the token ids and targets, and the loop settings."""
    digest = hashlib.sha256()
    for row in ids:
        digest.update(np.asarray(row, dtype=np.int64).tobytes() + b"|")
    if isinstance(targets, torch.Tensor):
        digest.update(targets.detach().cpu().numpy().tobytes())
    else:
        for row in targets:
            digest.update(np.asarray(row, dtype=np.int64).tobytes() + b"|")
    return json.dumps({"data": digest.hexdigest(), **settings}, sort_keys=True)


def _save_checkpoint(path, state):
    # Written beside and renamed: a fit killed while saving keeps the previous epoch's checkpoint.
    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path, fingerprint):
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"Cannot resume from {path!r}: not a readable nlpipe checkpoint ({exc}).") from None
    if state.get("fingerprint") != fingerprint:
        saved, now = json.loads(state.get("fingerprint") or "{}"), json.loads(fingerprint)
        differs = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
        raise ValueError(
            f"Cannot resume from {path!r}: it was written by a fit with other {', '.join(differs)} "
            "(data, seed or training settings). Use another checkpoint_dir or resume=False."
        )
    return state


def _distributed(device):
    """``(rank, world_size)``; joins the process group that ``torchrun`` describes in the environment.

    gloo on CPU, nccl on CUDA. ``(0, 1)`` outside torchrun.
    """
    import torch.distributed as dist

    if not dist.is_available():
        return 0, 1
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return 0, 1
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _decay_groups(model, weight_decay):
    # Biases and norm weights (1-D) are not decayed, as in BERT's original recipe.
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.inference_mode()
def _mean_loss(model, ids, targets, *, loss, batch_size, device, amp_dtype, pad_id, token_types=None):
    """``loss`` over all rows, in length-sorted batches, weighted by batch size."""
    model.eval()
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    order = np.argsort(-lengths, kind="stable")
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = collate([ids[i] for i in idx], pad_id, device, token_types=_rows(token_types, idx))
        with _autocast(device, amp_dtype):
            total += float(loss(model, batch, _take(targets, idx, device))) * len(idx)
    return total / max(len(ids), 1)


def train(
    model,
    ids,
    targets,
    *,
    loss,
    epochs,
    batch_size,
    learning_rate,
    weight_decay,
    warmup_ratio,
    gradient_accumulation_steps,
    max_grad_norm,
    device,
    amp_dtype,
    pad_id,
    seed,
    validation=None,
    early_stopping_patience=None,
    verbose=0,
    token_types=None,
    checkpoint_dir=None,
    resume=False,
):
    """Fine-tune ``model`` in place; return the per-epoch history.

    ``loss(model, batch, target)`` returns the batch's scalar loss; ``batch`` holds
    ``input_ids`` and ``attention_mask``. ``targets`` is a tensor (one row per text:
    class ids, label indicators, values) or a list of token-label sequences, padded
    per batch with :data:`IGNORE_INDEX` (sequence-to-sequence and language-model
    training). AdamW with linear warm-up and decay, gradient clipping and
    accumulation, autocast (+ loss scaling for fp16) on CUDA, length-grouped
    shuffled batches. With ``validation=(ids_val, targets_val)`` the validation
    loss is measured after each epoch, the best weights are restored at the end,
    and training stops after ``early_stopping_patience`` epochs without improvement.
    ``token_types`` (per-row segment ids, for text pairs) go into every batch;
    ``validation`` then takes them as a third item.

    With ``checkpoint_dir`` the whole training state (weights, optimizer, schedule,
    RNGs, history) is written there after every epoch; ``resume=True`` continues
    from it, and the result equals an uninterrupted run with the same seed. A
    checkpoint written for other data or settings is refused.
    """
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    rank, world = _distributed(device)
    # Data parallel: every process draws the same shuffled batches of world x batch_size rows and
    # trains on its own slice of each (a DistributedSampler that keeps length grouping); DDP averages
    # the gradients, so N processes follow one process with an N-times larger batch.
    global_batch = batch_size * world
    rng = np.random.default_rng(seed)
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    n_batches = math.ceil(len(ids) / global_batch)
    steps_per_epoch = math.ceil(n_batches / gradient_accumulation_steps)
    total_steps = max(1, steps_per_epoch * epochs)
    optimizer = torch.optim.AdamW(_decay_groups(model, weight_decay), lr=learning_rate)
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * total_steps), total_steps)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None

    history, best_loss, best_state, bad_epochs = [], math.inf, None, 0
    start_epoch, checkpoint = 0, None
    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
        checkpoint = os.path.join(os.fspath(checkpoint_dir), CHECKPOINT_FILE)
        fingerprint = _fingerprint(ids, targets, seed=seed, epochs=epochs, batch_size=batch_size,
                                   learning_rate=learning_rate, weight_decay=weight_decay, warmup_ratio=warmup_ratio,
                                   gradient_accumulation_steps=gradient_accumulation_steps)
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        state = _load_checkpoint(checkpoint, fingerprint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        rng.bit_generator.state = json.loads(state["numpy_rng"])
        torch.random.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        history, bad_epochs = json.loads(state["history"]), state["bad_epochs"]
        best_loss, best_state = state["best_loss"], state.get("best_state")
        start_epoch = state["epoch"]
        logger.info("resuming from %s after epoch %d", checkpoint, start_epoch)
    elif resume:
        logger.info("no checkpoint in %s: training from the start", checkpoint_dir)
    bar = tqdm(total=total_steps, initial=min(start_epoch * steps_per_epoch, total_steps), desc="fit", unit="step",
               disable=not verbose, leave=False)
    try:
        for epoch in range(start_epoch, epochs):
            model.train()
            batches = _length_grouped_batches(lengths, global_batch, rng)
            if world > 1:
                # Every rank needs a share of every batch (an empty one would leave DDP waiting):
                # a short last batch is topped up with its first rows.
                batches = [np.concatenate([b, b[: -len(b) % world]]) if len(b) % world else b for b in batches]
                batches = [b[rank::world] for b in batches]
            running, seen = 0.0, 0
            optimizer.zero_grad(set_to_none=True)
            for b, idx in enumerate(batches):
                batch = collate([ids[i] for i in idx], pad_id, device, token_types=_rows(token_types, idx))
                with _autocast(device, amp_dtype):
                    value = loss(net, batch, _take(targets, idx, device))
                running += value.item() * len(idx)
                seen += len(idx)
                value = value / gradient_accumulation_steps
                (scaler.scale(value) if scaler else value).backward()
                if (b + 1) % gradient_accumulation_steps == 0 or b + 1 == len(batches):
                    if scaler:
                        scaler.unscale_(optimizer)
                    if max_grad_norm:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                    if scaler:
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{running / seen:.4f}")
            record = {"epoch": epoch + 1, "train_loss": running / max(seen, 1)}
            if validation is not None:
                val_ids, val_targets, *val_types = validation
                val_loss = _mean_loss(
                    model, val_ids, val_targets, token_types=val_types[0] if val_types else None, loss=loss, batch_size=batch_size, device=device,
                    amp_dtype=amp_dtype, pad_id=pad_id,
                )
                record["val_loss"] = val_loss
                if val_loss < best_loss:
                    best_loss, bad_epochs = val_loss, 0
                    best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                else:
                    bad_epochs += 1
            history.append(record)
            logger.info("epoch %d: %s", epoch + 1, record)
            if checkpoint is not None and rank == 0:  # one writer; the other ranks hold the same state
                _save_checkpoint(checkpoint, {
                    "fingerprint": fingerprint, "epoch": epoch + 1, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "scaler": scaler.state_dict() if scaler is not None else None,
                    "numpy_rng": json.dumps(rng.bit_generator.state), "torch_rng": torch.random.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                    "history": json.dumps(history), "best_loss": best_loss, "bad_epochs": bad_epochs,
                    "best_state": best_state,
                })
            if early_stopping_patience is not None and validation is not None and bad_epochs >= early_stopping_patience:
                logger.info("early stopping after epoch %d", epoch + 1)
                break
    finally:
        bar.close()
        # Optimizer state is twice the model's size: drop it before returning.
        del optimizer, scheduler, scaler, net
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
