"""The progress helper (``sim.cli.progress``): plain lines off a terminal, a bar on one."""

import io

import pytest

from sim.cli import progress as progress_module
from sim.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch):
    """A monotonic clock the test moves by hand."""
    now = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    return now


def test_off_a_terminal_a_line_every_few_seconds_and_at_the_end(clock):
    stream = io.StringIO()
    progress = Progress(4, stream=stream, every_seconds=5.0)
    assert progress.bar is None
    clock[0] += 1.0
    progress.step("rep 0 allin")  # too soon after the start: quiet
    clock[0] += 5.0
    progress.step()
    clock[0] += 1.0
    progress.step()
    clock[0] += 1.0
    progress.step()  # the last run: always a line
    progress.close()
    assert stream.getvalue().splitlines() == [
        "  2/4 runs (50 %), 6 s elapsed, ~6 s left",
        "  4/4 runs (100 %), 8 s elapsed, ~0 s left",
    ]


def test_a_resumed_count_says_so_and_estimates_from_new_runs_only(clock):
    stream = io.StringIO()
    progress = Progress(stream=stream, every_seconds=0.0)
    progress.start(8, 6)
    clock[0] += 10.0
    progress.step()
    assert stream.getvalue().splitlines() == [
        "  resuming: 6/8 runs already stored",
        "  7/8 runs (88 %), 10 s elapsed, ~10 s left",
    ]


def test_nothing_is_printed_before_a_run_is_done():
    stream = io.StringIO()
    Progress(3, stream=stream).close()
    Progress(stream=stream).start(3)
    assert stream.getvalue() == ""


def test_on_a_terminal_a_bar_that_goes_away(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    stream = Terminal()
    progress = Progress(2, stream=stream)
    assert progress.bar is not None
    progress.step("rep 0 pods")
    progress.step("rep 1 pods")
    assert progress.bar.n == 2 and progress.bar.postfix == "rep 1 pods"
    progress.close()
    assert progress.bar is None
    drawn = stream.getvalue()
    assert "run/s" in drawn  # tqdm's bar, redrawn at most every 0.1 s ...
    assert "runs (" not in drawn  # ... and no plain lines beside it


def test_tqdm_disable_gives_plain_lines_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    stream = Terminal()
    progress = Progress(1, stream=stream)
    assert progress.bar is None
    progress.step()
    assert stream.getvalue().startswith("  1/1 runs (100 %)")
