"""Issuance runs started from the browser, one thread each, watched through their progress bars.

A run is ``issuer.run.run_issue`` itself, unchanged: the same journal, idempotence and crash safety as
``skillpass issue``. The console only starts it on a thread, passes the passphrase the clerk typed
(kept in this run's closure, never written anywhere), and records what its progress bars report so the
batch page can draw them. At most one run per batch at a time; a second start while one runs is refused.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from issuer.progress import observed
from issuer.run import Console


@dataclass
class Job:
    """What one run is doing (read by page requests while the run's thread writes it)."""

    stage: str = ""
    done: int = 0
    total: int | None = None
    exit_code: int | None = None
    output: io.StringIO = field(default_factory=io.StringIO)

    @property
    def running(self) -> bool:
        """Whether the run has not finished yet."""
        return self.exit_code is None

    def lines(self) -> list[str]:
        """What the run said (results, notes and errors), line by line."""
        return [line for line in self.output.getvalue().splitlines() if line.strip()]

    def watch(self, label: str, done: int, total: int | None) -> None:
        """The progress observer: remembers the current bar."""
        self.stage, self.done, self.total = label, done, total


class Jobs:
    """The runs of this console, by batch id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, batch_id: str) -> Job | None:
        """The latest run of a batch, if any."""
        with self._lock:
            return self._jobs.get(batch_id)

    def start(self, batch_id: str, work: Callable[[Console], int]) -> Job | None:
        """Run ``work`` on a new thread; None if this batch already has a run going."""
        with self._lock:
            current = self._jobs.get(batch_id)
            if current is not None and current.running:
                return None
            job = self._jobs[batch_id] = Job()
        threading.Thread(
            target=self._run, args=(job, work), daemon=True, name=f"issue-{batch_id[:8]}"
        ).start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Console], int]) -> None:
        console = Console(out=job.output, err=job.output)
        try:
            with observed(job.watch):
                job.exit_code = work(console)
        except Exception as e:  # the page must learn that the run ended, whatever ended it
            console.note(f"错误 error [internal]: {type(e).__name__}: {e}")
            job.exit_code = 99
            raise
