"""The decode pool: worker processes that read uploads, apart from the event loop serving requests.

Why processes and a pool of our own:
- A hostile picture or PDF costs CPU and memory in code we do not control (Pillow, zxing-cpp,
  poppler). In a separate process the kernel's limits apply (CPU seconds per page, address space;
  see `decode_worker`), and a stuck page is ended by killing its process: a thread cannot be killed.
- Waiting for a worker holds no request thread, so uploads can never starve the JSON verification
  that shares the service (45 parallel uploads used to delay it by 9 s).
- `concurrent.futures.ProcessPoolExecutor` breaks every pending task when one worker dies, which
  would let one hostile file fail everyone else's; here a killed worker is simply replaced.

Fairness: the unit of work is one page. Idle workers take the next page from the uploads waiting
in turn (round robin), so a 1,000-page PDF never makes a one-page upload wait behind it, and one
client may have at most `per_client` uploads in flight (default: all workers but one), so a single
client cannot occupy every worker. Workers are counted from the CPUs the process may actually use.
The bulk endpoint reads its files here too (`partial`: a failed page is that page's answer, not the
file's), one file at a time under one admission, so a batch is one upload of its client.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import shutil
import signal
import sys
import tempfile
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.clients import TrustedProxies
from verifier.cpus import usable_cpus
from verifier.decode_worker import READY_LINE, limits_to_json
from verifier.images import (
    DEFAULT_IMAGE_LIMITS,
    IMAGE_ERROR_CODES,
    DecodedUpload,
    FoundCode,
    ImageError,
    ImageKind,
    ImageLimits,
    Position,
    sniff,
)

__all__ = ["DecodePool", "PoolConfig", "client_key", "uploader"]

_COUNT = 0  # the task "count the pages" stands in the page queue as page 0
_MAX_ANSWER = 4 * 1024 * 1024  # one page's answer (codes and their texts) as one JSON line
_STARTUP_SECONDS = 60.0
_LIMIT_SIGNALS = (-signal.SIGXCPU, -signal.SIGKILL)


@dataclass(frozen=True)
class PoolConfig:
    """How many workers, how many uploads per client, how long a page and a queue wait may take."""

    workers: int = field(default_factory=usable_cpus)
    per_client: int | None = None  # None: all workers but one (at least 1)
    page_wall_seconds: float = 6.0
    queue_wait_seconds: float = 10.0
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS

    @property
    def client_limit(self) -> int:
        return self.per_client if self.per_client is not None else max(1, self.workers - 1)


def client_key(host: str | None) -> str:
    """Whom an upload counts against: the IPv4 address, or the /64 of an IPv6 address (one
    subscriber usually holds a whole /64, so counting single addresses would count nothing)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def uploader(peer: str | None, forwarded_for: str | None, proxies: TrustedProxies) -> str:
    """Whom a request's upload counts against: the address the trusted proxy in front observed (the
    TCP peer when there is none, ``common.clients``). Behind nginx every peer is nginx itself, and
    counting it would make the per-client limit one limit for everyone."""
    return client_key(proxies.client(peer, forwarded_for))


class DecodePool:
    """Reads uploads in worker processes; `start()` (or the first upload) starts them, `close()` stops them."""

    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        self._jobs: deque[_Job] = deque()
        self._ready = asyncio.Condition()
        self._in_flight: Counter[str] = Counter()
        self._workers: list[_Worker] = []
        self._loops: list[asyncio.Task[None]] = []

    @contextlib.asynccontextmanager
    async def admitted(self, client: str) -> AsyncIterator[None]:
        """One of the client's `per_client` places for the duration; 429 `client_busy` when none is free."""
        if self._in_flight[client] >= self.config.client_limit:
            raise ImageError("client_busy")
        self._in_flight[client] += 1
        try:
            yield
        finally:
            self._in_flight[client] -= 1
            if self._in_flight[client] <= 0:
                del self._in_flight[client]

    def in_flight(self, client: str) -> int:
        """How many uploads of this client are being read now."""
        return self._in_flight[client]

    async def first_code(self, data: bytes, client: str) -> str:
        """The one text to verify from the upload's first page (the single-result endpoint)."""
        async with self.admitted(client):
            decoded = await self.read_codes(data, first_page_only=True)
        return decoded.preferred_text()

    async def read_codes(
        self,
        data: bytes,
        *,
        first_page_only: bool = False,
        max_bytes: int | None = None,
        partial: bool = False,
    ) -> DecodedUpload:
        """Every code of every page (or of the first page), read by the workers.

        Raises `ImageError`: the upload's own refusal, `page_too_complex` when a page overran its
        limits, `decode_busy` when no worker took it within `queue_wait_seconds`. With `partial`
        (the bulk endpoint, which judges each page on its own) a page that fails is recorded in
        `failed_pages` and the other pages are still read; only the file as a whole can then fail.
        `max_bytes` replaces the single-upload size limit (a batch PDF may be larger).
        """
        if len(data) > (self.config.limits.max_bytes if max_bytes is None else max_bytes):
            raise ImageError("upload_too_large")
        kind = sniff(data)
        await self.start()
        folder = Path(tempfile.mkdtemp(prefix="skillpass-decode-"))
        try:
            (folder / "upload").write_bytes(data)
            counted = first_page_only or kind is not ImageKind.PDF
            job = _Job(folder / "upload", kind, counted=counted, partial=partial)
            return await self._run(job)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    async def close(self) -> None:
        """Stop the workers and fail whatever was still waiting."""
        async with self._ready:
            for job in self._jobs:
                job.fail(ImageError("decode_busy", "the service is stopping"))
            self._jobs.clear()
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        for worker in self._workers:
            await worker.stop()
        self._loops, self._workers = [], []

    # --- scheduling ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker processes and wait until they are ready (a failed one retries on demand)."""
        if self._loops:
            return
        limits = limits_to_json(self.config.limits)
        self._workers = [_Worker(limits) for _ in range(max(1, self.config.workers))]
        await asyncio.gather(*(worker.started() for worker in self._workers), return_exceptions=True)
        self._loops = [asyncio.create_task(self._serve(worker)) for worker in self._workers]

    async def _run(self, job: _Job) -> DecodedUpload:
        async with self._ready:
            self._jobs.append(job)
            self._ready.notify()
        try:
            try:
                await asyncio.wait_for(job.started.wait(), self.config.queue_wait_seconds)
            except TimeoutError as e:
                raise ImageError("decode_busy") from e
            return await job.done
        finally:
            await self._drop(job)

    async def _next(self) -> tuple[_Job, int]:
        """The next page in turn: the job at the head gives one page and goes to the back."""
        async with self._ready:
            while True:
                await self._ready.wait_for(lambda: bool(self._jobs))
                job = self._jobs.popleft()
                if job.pending:
                    break
            page = job.pending.popleft()
            job.running += 1
            job.started.set()
            if job.pending:
                self._jobs.append(job)
            if self._jobs:
                self._ready.notify()  # another idle worker may take the next page
            return job, page

    async def _serve(self, worker: _Worker) -> None:
        """One worker's loop. Whatever goes wrong fails that page's upload, never the loop: a
        request waiting on a loop that died would wait forever."""
        while True:
            with contextlib.suppress(Exception):
                await worker.started()  # (re)start while idle, not on an upload's time
            job, page = await self._next()
            try:
                answer = await worker.run(job.task(page), self.config.page_wall_seconds)
                await self._record(job, page, answer)
            except ImageError as e:
                await self._fail(job, e, page)
            except Exception as e:  # e.g. no process could be started
                await worker.stop()
                await self._fail(job, ImageError("decode_busy", repr(e)))
            finally:
                job.running -= 1
                job.finish_if_complete()

    async def _record(self, job: _Job, page: int, answer: dict[str, Any]) -> None:
        if page != _COUNT:
            job.codes[page] = _codes(answer, page)
            return
        pages = answer.get("pages")
        if type(pages) is not int or pages < 1:
            raise ImageError("image_corrupt", "the decoder gave no page count")
        async with self._ready:
            job.count(pages)
            if job in self._jobs or job.done.done():
                return
            self._jobs.append(job)
            self._ready.notify(len(job.pending))

    async def _fail(self, job: _Job, error: ImageError, page: int = _COUNT) -> None:
        async with self._ready:
            if job.partial and page != _COUNT:
                job.failed[page] = error
                return
            job.fail(error)
            if job in self._jobs:
                self._jobs.remove(job)

    async def _drop(self, job: _Job) -> None:
        """The caller is gone or done: nothing more of this job is started."""
        async with self._ready:
            job.pending.clear()
            if job in self._jobs:
                self._jobs.remove(job)


class _Job:
    """One upload's pages: those waiting, those running, the codes found so far."""

    def __init__(self, path: Path, kind: ImageKind, *, counted: bool, partial: bool = False) -> None:
        self.path, self.kind, self.partial = path, kind, partial
        self.pages = 1 if counted else 0
        self.pending: deque[int] = deque([1] if counted else [_COUNT])
        self.running = 0
        self.codes: dict[int, tuple[FoundCode, ...]] = {}
        self.failed: dict[int, ImageError] = {}
        self.started = asyncio.Event()
        self.done: asyncio.Future[DecodedUpload] = asyncio.get_running_loop().create_future()

    def task(self, page: int) -> dict[str, Any]:
        op = "count" if page == _COUNT else "read"
        return {"op": op, "path": str(self.path), "kind": self.kind.value, "page": page}

    def count(self, pages: int) -> None:
        self.pages = pages
        self.pending.extend(range(1, pages + 1))

    def fail(self, error: ImageError) -> None:
        self.pending.clear()
        if not self.done.done():
            self.done.set_exception(error)

    def finish_if_complete(self) -> None:
        if (
            self.done.done()
            or self.pending
            or self.running
            or len(self.codes) + len(self.failed) < self.pages
        ):
            return
        codes = tuple(code for page in sorted(self.codes) for code in self.codes[page])
        self.done.set_result(
            DecodedUpload(
                self.kind, self.pages, codes, tuple(sorted(self.failed.items(), key=lambda f: f[0]))
            )
        )


class _Worker:
    """One `decode_worker` process, started on demand and replaced after it is killed or retires."""

    def __init__(self, limits_json: str) -> None:
        self._limits_json = limits_json
        self._process: asyncio.subprocess.Process | None = None

    async def run(self, task: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The worker's answer to one task; `ImageError` when it fails, overruns or dies."""
        process = await self.started()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(task).encode() + b"\n")
        try:
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), timeout)
        except TimeoutError as e:
            await self.stop()
            raise ImageError("page_too_complex", f"page {task['page']}: more than {timeout} s") from e
        except (OSError, ValueError) as e:  # a broken pipe, or an answer over the line limit
            await self.stop()
            raise ImageError("image_corrupt", f"the decoder failed: {e}") from e
        if not line:
            raise await self._died(task)
        answer = _parsed(line)
        if answer.get("retire") is True:
            await self.stop()
        return answer

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def started(self) -> asyncio.subprocess.Process:
        """The running process, or a new one once it has said it is ready (imports take a while,
        and must not count against the first page's time)."""
        if self._process is not None and self._process.returncode is None:
            return self._process
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "verifier.decode_worker", self._limits_json,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=_MAX_ANSWER,
        )  # fmt: skip
        self._process = process
        assert process.stdout is not None
        try:
            ready = await asyncio.wait_for(process.stdout.readline(), _STARTUP_SECONDS)
        except TimeoutError:
            ready = b""
        if ready.strip() != READY_LINE:
            await self.stop()
            raise ImageError("decode_busy", "a decode worker did not start")
        return process

    async def _died(self, task: dict[str, Any]) -> ImageError:
        """The worker ended mid-task: at a limit (SIGXCPU, then SIGKILL) or by crashing on the file."""
        process, self._process = self._process, None
        returncode = await process.wait() if process is not None else None
        if returncode in _LIMIT_SIGNALS:
            return ImageError("page_too_complex", f"page {task['page']}: over its CPU time")
        return ImageError("image_corrupt", f"page {task['page']}: the decoder ended ({returncode})")


def _parsed(line: bytes) -> dict[str, Any]:
    """A worker's answer; a refusal becomes the `ImageError` it names."""
    try:
        answer = json.loads(line)
    except ValueError as e:
        raise ImageError("image_corrupt", "the decoder answered garbage") from e
    if not isinstance(answer, dict):
        raise ImageError("image_corrupt", "the decoder answered garbage")
    if answer.get("ok") is not True:
        code, detail = answer.get("code"), answer.get("detail")
        known = code if code in IMAGE_ERROR_CODES else "image_corrupt"
        raise ImageError(known, detail if isinstance(detail, str) else "")
    return answer


def _codes(answer: dict[str, Any], page: int) -> tuple[FoundCode, ...]:
    try:
        return tuple(
            FoundCode(item["text"], page, Position(**item["position"]))
            for item in answer["codes"]
            if isinstance(item["text"], str)
        )
    except (KeyError, TypeError) as e:
        raise ImageError("image_corrupt", "the decoder answered out of shape") from e
