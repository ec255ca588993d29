"""Progress of a long command: runs done out of total, and the time left.

One helper for every command that runs many simulations (``simulate``,
``compare``, ``sweep``). On a terminal it draws a tqdm bar that disappears
when the work is done, the way a copy dialog does; anywhere else (a CI log,
output piped to a file) or with ``TQDM_DISABLE=1``, a bar would be a screen of
carriage returns, so it prints a plain line every few seconds instead, and one
when the last run is done:

    12/40 runs (30 %), 6 s elapsed, ~14 s left

A sweep that resumes starts part done; the line counts the stored runs as
done and estimates the time left from the runs done now only.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import TextIO

from tqdm import tqdm


class _Bar(tqdm):
    """tqdm without its monitor thread, which every bar starts, even a hidden one.

    The worker pool forks only while this process has no other thread
    (``sim.parallel.pool``): a lingering monitor would make every worker
    started after the first bar (one replacing a lost worker, a test's pool)
    take the slow way that imports the model anew. The monitor only corrects
    the redraw rate of loops far faster than a run.
    """

    monitor_interval = 0


class Progress:
    """Runs done out of total: a tqdm bar on a terminal, a plain line every few seconds otherwise.

    Args:
        total: runs in all; 0 to give it later with ``start``.
        done: runs already done before this process started (a resumed sweep).
        stream: where to write (default: standard error).
        every_seconds: least time between two plain lines.
    """

    def __init__(
        self,
        total: int = 0,
        done: int = 0,
        stream: TextIO | None = None,
        every_seconds: float = 5.0,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.every_seconds = every_seconds
        self.total = self.done = self.reused = 0
        self.started = self.last = time.monotonic()
        self.bar: _Bar | None = None
        if total:
            self.start(total, done)

    def start(self, total: int, done: int = 0) -> None:
        """Begin counting: ``total`` runs in all, ``done`` of them already stored."""
        self.close()
        self.total, self.reused, self.done = total, done, done
        self.started = self.last = time.monotonic()
        if done:
            print(f"  resuming: {done}/{total} runs already stored", file=self.stream)
        # disable=None: a bar only on a terminal. TQDM_DISABLE=1 turns it off there too; tqdm
        # reads that variable once, on import, and not at all when disable is given.
        off = os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")
        bar = _Bar(
            total=total,
            initial=done,
            unit="run",
            file=self.stream,
            leave=False,
            disable=True if off else None,
        )
        if bar.disable:
            bar.close()
        else:
            self.bar = bar

    def step(self, note: str = "") -> None:
        """One more run done; ``note`` (e.g. ``rep 3 pods``) is shown beside the bar."""
        self.done += 1
        if self.bar is not None:
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update()
            return
        now = time.monotonic()
        if now - self.last >= self.every_seconds or self.done == self.total:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        """The plain progress line: runs done of total, share, time elapsed and left."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        new = self.done - self.reused
        left = (self.total - self.done) * elapsed / new if new else math.nan
        share = 100 * self.done / self.total if self.total else 100.0
        return (
            f"  {self.done}/{self.total} runs ({share:.0f} %), "
            f"{elapsed:.0f} s elapsed, ~{left:.0f} s left"
        )

    def close(self) -> None:
        """Remove the bar (a no-op without one)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
