"""Adaptive micro-batching: concurrent requests gathered into one model call, each answered with its own rows."""

import asyncio
import collections
import ctypes
import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)


class QueueFull(Exception):
    """More texts are waiting than the server holds: the client should retry later (503)."""


@dataclasses.dataclass
class _Job:
    method: str
    items: list
    future: asyncio.Future
    enqueued: float


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl, Windows)."""
    try:  # the process's own symbols: no library search (find_library runs ldconfig) at import
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


_TRIM = _malloc_trim()
# A large batch leaves freed activations in the C heap; glibc keeps them, so RSS would climb to the largest batch
# ever run. Handing them back after model calls, at most this often, keeps RSS flat for ~0.1-1 ms per trim.
_TRIM_EVERY_S = 1.0


def split_rows(outputs, sizes):
    """``outputs`` (one row per input: ndarray, list, DataFrame) cut into consecutive parts of ``sizes``."""
    parts, start = [], 0
    for n in sizes:
        part = outputs.iloc[start : start + n] if hasattr(outputs, "iloc") else outputs[start : start + n]
        parts.append(part)
        start += n
    return parts


class MicroBatcher:
    """Gathers the items of concurrent requests into batches for one model-calling thread.

    A batch is the requests for one method, oldest first, until ``max_batch_size``
    items or ``max_batch_chars`` characters (a token budget's stand-in). It is run at
    once when the server has no company (the last batch held one request and none
    arrived while it ran: a lone client never waits for a batch that will not come),
    and otherwise when it is full or its oldest request has waited ``max_latency_ms``.
    Under load the model is always busy and batches fill while the previous one runs.
    A failing batch is re-run request by request, so one bad request fails alone.

    Parameters
    ----------
    call : callable
        ``call(method, items) -> outputs`` with one row per item; run in a worker thread.
    max_batch_size : int
        Most items per model call (a larger request runs alone, whole).
    max_latency_ms : float
        Longest wait for a batch to fill.
    max_queue : int
        Most items waiting; beyond, ``submit`` raises :class:`QueueFull`.
    max_batch_chars : int
        Most characters per model call (at least one request always runs).
    on_batch : callable or None
        ``on_batch(n_items, seconds)`` after each model call (metrics).
    """

    def __init__(self, call, *, max_batch_size, max_latency_ms, max_queue, max_batch_chars, on_batch=None):
        self._call = call
        self.max_batch_size = max_batch_size
        self.max_latency = max_latency_ms / 1000.0
        self.max_queue = max_queue
        self.max_batch_chars = max_batch_chars
        self._on_batch = on_batch
        self._queues = collections.defaultdict(collections.deque)
        self.pending = 0  # items waiting, for the queue-depth gauge and the bound
        self._wake = None
        self._task = None
        self._closing = False
        self._trimmed = 0.0  # when freed memory was last handed back to the system
        self._busy = False  # a model call is running
        self._arrived_while_busy = False
        self._company = False  # the last batch held several requests, or requests came while it ran
        # One thread: the model's own kernels use the cores (torch / ONNX Runtime intra-op threads).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlpipe-model")

    def start(self):
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._worker())

    async def close(self):
        """Finish every queued request, then stop."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)

    async def submit(self, method, items):
        """Queue ``items`` for ``method``; the outputs for exactly these items, or the exception they raised."""
        if self._closing:
            raise QueueFull("the server is shutting down")
        if self.pending + len(items) > self.max_queue:
            raise QueueFull(f"{self.pending} texts are waiting (at most {self.max_queue})")
        job = _Job(method, items, asyncio.get_running_loop().create_future(), time.monotonic())
        self._queues[method].append(job)
        self.pending += len(items)
        self._arrived_while_busy |= self._busy
        self._wake.set()
        return await job.future

    def _oldest(self):
        queues = [q for q in self._queues.values() if q]
        return min(queues, key=lambda q: q[0].enqueued) if queues else None

    def _take(self, queue):
        jobs = [queue.popleft()]
        n, chars = len(jobs[0].items), _chars(jobs[0].items)
        while queue and n + len(queue[0].items) <= self.max_batch_size and (
                chars + _chars(queue[0].items) <= self.max_batch_chars):
            job = queue.popleft()
            n, chars = n + len(job.items), chars + _chars(job.items)
            jobs.append(job)
        return jobs

    def _full(self, queue):
        n = chars = 0
        for job in queue:
            n, chars = n + len(job.items), chars + _chars(job.items)
            if n >= self.max_batch_size or chars >= self.max_batch_chars:
                return True
        return False

    async def _worker(self):
        loop = asyncio.get_running_loop()
        while True:
            queue = self._oldest()
            if queue is None:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = queue[0].enqueued + self.max_latency - time.monotonic()
            if wait > 0 and self._company and not self._full(queue) and not self._closing:
                self._wake.clear()
                try:  # a new request may fill the batch before the budget runs out
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except asyncio.TimeoutError:
                    pass
                continue
            jobs = self._take(queue)
            self.pending -= sum(len(job.items) for job in jobs)
            self._busy, self._arrived_while_busy = True, False
            try:
                results = await loop.run_in_executor(self._executor, self._run, jobs)
            finally:
                self._busy = False
            self._company = len(jobs) > 1 or self._arrived_while_busy
            for job, (ok, value) in zip(jobs, results):
                if not job.future.done():  # the client may have gone away
                    if ok:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(value)

    def _run(self, jobs):
        """``[(ok, outputs or exception)]`` per job: one model call, or one per job when the batch fails."""
        method = jobs[0].method
        items = [item for job in jobs for item in job.items]
        start = time.perf_counter()
        try:
            outputs = self._call(method, items)
            results = [(True, part) for part in split_rows(outputs, [len(job.items) for job in jobs])]
        except Exception as exc:  # noqa: BLE001 - isolated below, or handed to the one request it belongs to
            if len(jobs) == 1:
                results = [(False, exc)]
            else:
                logger.info("a batch of %d requests failed (%s); running them one by one", len(jobs), exc)
                results = self._run_each(method, jobs)
        if self._on_batch is not None:
            self._on_batch(len(items), time.perf_counter() - start)
        if _TRIM is not None and time.monotonic() - self._trimmed > _TRIM_EVERY_S:
            _TRIM(0)
            self._trimmed = time.monotonic()
        return results

    def _run_each(self, method, jobs):
        results = []
        for job in jobs:
            try:
                results.append((True, self._call(method, job.items)))
            except Exception as exc:  # noqa: BLE001 - this request's own error
                results.append((False, exc))
        return results


def _chars(items):
    return sum(len(i) if isinstance(i, str) else sum(len(str(v)) for v in i.values()) for i in items)
