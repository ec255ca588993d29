"""Replications on several processes or Dask: the same tables, files and progress as in one.

simulate, compare (both passes and --select-best's batches), plan, backtest
and calibrate (its cycle fit's trials) hand each (structure, replication) to
a worker and put the tables back in the serial order; whatever the number of
workers, the tables are equal and the files written are the same bytes. The
sweep's own backend tests are in test_sweep.py.
"""

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from sim import api
from sim.cli.main import main
from sim.config.scenario import Scenario
from sim.model.runner import (
    ReplicationRun,
    extend,
    replication_runs,
    simulate,
    simulate_both,
    simulate_independent,
)
from sim.parallel import PoolRuns
from tests.unit.test_sweep import SWEEP, TINY

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("leads", "reps", "samples")
# Three replications of two structures: six runs, so two workers interleave them.
THREE = TINY.replace("replications = 2", "replications = 3")
SCENARIO = Scenario.from_dict(tomllib.loads(THREE), "tiny.toml")


def assert_same_tables(left, right) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), check_exact=True)


@pytest.fixture(scope="module")
def pool():
    """Two local worker processes, kept for several rounds as a command keeps them."""
    with replication_runs(2) as runs:
        yield runs


def test_two_workers_give_the_tables_of_one_and_count_each_run_once(pool):
    seen = []
    serial = simulate(SCENARIO)
    parallel = simulate(SCENARIO, runs=pool, on_run_done=lambda r, s: seen.append((r, s)))
    assert_same_tables(parallel, serial)
    assert sorted(seen) == sorted((r, s) for r in range(3) for s in ("allin", "conveyor"))
    # compare's second pass, every structure on lead streams of its own, in one round
    assert_same_tables(simulate_independent(SCENARIO, runs=pool), simulate_independent(SCENARIO))
    # --select-best's batches: replications added to a run
    shorter = simulate(SCENARIO.model_copy(update={"replications": 1}), runs=pool)
    assert_same_tables(extend(shorter, 3, runs=pool), serial)


def test_both_of_compares_passes_in_one_round_give_the_tables_of_each_pass_alone(pool):
    seen = []
    common, independent = simulate_both(
        SCENARIO, runs=pool, on_run_done=lambda r, s: seen.append((r, s))
    )
    assert_same_tables(common, simulate(SCENARIO))
    assert_same_tables(independent, simulate_independent(SCENARIO))
    # Each (structure, replication) twice: once per pass, under keys that differ.
    assert sorted(seen) == sorted(2 * [(r, s) for r in range(3) for s in ("allin", "conveyor")])
    here = simulate_both(SCENARIO)
    assert_same_tables(here[0], common)
    assert_same_tables(here[1], independent)


@pytest.mark.integration  # several batches and a plan search, twice
def test_select_best_and_plan_take_the_same_steps_on_two_workers(pool):
    from sim.plan.search import plan_structure

    def best(runs):
        return api.select_best(SCENARIO, indifference=50.0, batch=2, max_replications=7, runs=runs)

    (run, selection), (run_here, selection_here) = best(pool), best(None)
    assert run.scenario.replications > SCENARIO.replications  # batches were added
    assert selection == selection_here
    assert_same_tables(run.result, run_here.result)

    def plan(runs):
        return plan_structure(SCENARIO, "conveyor", 20.0, "mean", max_steps=3, runs=runs)

    steps, steps_here = plan(pool).steps, plan(None).steps
    assert len(steps) > 1
    assert [(s.change, s.accepted, s.reason) for s in steps] == [
        (s.change, s.accepted, s.reason) for s in steps_here
    ]
    assert [s.evaluation.wins_per_quarter.tolist() for s in steps] == [
        s.evaluation.wins_per_quarter.tolist() for s in steps_here
    ]


def test_backtest_bands_do_not_depend_on_the_workers(pool):
    from sim.crm.backtest import run_backtest
    from sim.crm.read import CrmHistory

    history = CrmHistory(
        leads=simulate(SCENARIO.model_copy(update={"replications": 1}), ("conveyor",)).leads,
        origin=pd.Timestamp("2024-01-01"),
        as_of_day=40.0,
        shape="leads",
        measured=frozenset({"funnel"}),
        rows_read=0,
    )
    tables = [run_backtest(SCENARIO, history, "conveyor", 4, runs).table for runs in (pool, None)]
    pd.testing.assert_frame_equal(*tables, check_exact=True)


def write(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(THREE)
    return path


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def command_args(tmp_path: Path, command: str) -> list[str]:
    """A command of the six that simulate, on the tiny scenario, before its options."""
    path = write(tmp_path)
    if command == "sweep":
        sweep = tmp_path / "s.toml"
        sweep.write_text(SWEEP)
        return ["sweep", str(sweep)]
    if command == "calibrate":
        return ["calibrate", str(tmp_path / "export.csv"), "--structure", "conveyor"]
    extra = {"plan": ["--wins-per-quarter", "3"], "backtest": [str(tmp_path / "export.csv")]}
    return [command, str(path), *extra.get(command, [])]


@pytest.mark.parametrize(
    "command", ["simulate", "compare", "plan", "backtest", "calibrate", "sweep"]
)
@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_workers_is_one_line_and_writes_nothing(tmp_path, capsys, command, value):
    out = tmp_path / "out"
    assert main([*command_args(tmp_path, command), "--out", str(out), "--workers", value]) == 2
    assert one_line(capsys) == f"--workers: must be a whole number of at least 1, got {value!r}"
    assert not out.exists()


@pytest.mark.parametrize("command", ["simulate", "compare", "plan", "backtest", "calibrate"])
def test_a_bad_scheduler_is_one_line_and_writes_nothing(tmp_path, capsys, command):
    out = tmp_path / "out"
    args = [*command_args(tmp_path, command), "--out", str(out), "--scheduler", "nonsense"]
    assert main(args) == 2
    assert one_line(capsys) == (
        "--scheduler: expected 'local' or a Dask scheduler address tcp://HOST:PORT "
        "(also tls://, ws://, wss://), got 'nonsense'"
    )
    assert not out.exists()


def test_no_dask_scheduler_answering_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    import socket

    monkeypatch.setattr("sim.parallel.CONNECT_SECONDS", 1)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # the port is ours, nobody listens: refused
        address = f"tcp://127.0.0.1:{closed.getsockname()[1]}"
        out = tmp_path / "out"
        assert main(["compare", str(write(tmp_path)), "--out", str(out), "--scheduler", address])
    line = one_line(capsys)
    assert line.startswith(f"--scheduler: {address}: no Dask scheduler answered within 1 s (")
    assert not out.exists()


def test_simulate_on_two_workers_counts_every_run(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["simulate", str(write(tmp_path)), "--out", str(out), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "seed 3, on 2 local workers" in err or os.cpu_count() == 1
    assert "  6/6 runs (100 %)" in err


# --- end to end: the files, Dask, lost workers, Ctrl-C ----------------------


def folder_bytes(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".parquet", ".json", ".html", ".png")
    }


@pytest.fixture
def dask_in_process():
    """A Dask scheduler and one worker (a thread of this process) on 127.0.0.1, logs quiet."""
    import logging

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster


@pytest.mark.integration
def test_compare_writes_the_same_bytes_on_1_and_2_workers_and_dask(tmp_path, dask_in_process):
    path = write(tmp_path)
    written = {}
    for name, where in (
        ("one", ["--workers", "1"]),
        ("two", ["--workers", "2"]),
        ("dask", ["--scheduler", dask_in_process.scheduler_address]),
    ):
        out = tmp_path / name
        assert main(["compare", str(path), "--out", str(out), *where]) == 0
        written[name] = folder_bytes(out)
    assert {"leads.parquet", "compare.csv", "independent/leads.parquet"} <= set(written["one"])
    assert written["two"] == written["one"]
    assert written["dask"] == written["one"]


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m sim ...`` in a subprocess, so that test hooks reach its workers."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1", **env},
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.integration
def test_a_worker_killed_once_is_replaced_and_its_run_retried(tmp_path):
    path = write(tmp_path)
    mark = tmp_path / "killed-once"
    out = tmp_path / "out"
    hook = {"SALESIM_TEST_KILL_RUN": f"conveyor/1@{mark}"}
    done = cli("simulate", str(path), "--out", str(out), "--no-plots", "--workers", "2", **hook)
    assert done.returncode == 0, done.stderr
    assert mark.exists()  # the run did kill its worker
    assert "Traceback" not in done.stderr
    serial = simulate(SCENARIO)
    for name in TABLES:
        table = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(table, getattr(serial, name), check_exact=True)


@pytest.mark.integration
def test_a_run_that_kills_its_worker_every_time_fails_in_one_line(tmp_path):
    out = tmp_path / "out"
    args = ("simulate", str(write(tmp_path)), "--out", str(out), "--workers", "2")
    done = cli(*args, SALESIM_TEST_KILL_RUN="conveyor/1")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "run failed: conveyor replication 1: its worker process died at each of 2 attempts "
        "(last: killed by SIGKILL, as the out-of-memory killer does); nothing was written"
    )
    assert "Traceback" not in done.stderr and not out.exists()


@pytest.mark.integration
def test_ctrl_c_stops_the_workers_and_writes_nothing(tmp_path):
    # Every run but allin/0 waits for a file that never appears (a test hook of the pool
    # workers), so compare cannot finish before the signal lands, however fast the machine.
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "compare", str(write(tmp_path)), "--out", str(out)]
        + ["--workers", "2"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, as a terminal would make it
        env={**os.environ, "TQDM_DISABLE": "1", "SALESIM_TEST_HOLD_RUNS": "allin/0@never"},
        cwd=ROOT,
    )
    # The first line comes once the workers are up and the folder is claimed.
    assert "on 2 local workers" in proc.stderr.readline()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group, workers included
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "interrupted: nothing was written"
    assert not out.exists()
    deadline = time.monotonic() + 30
    while True:  # no worker outlives the command
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "a worker process outlived the command"
        time.sleep(0.05)


def queued(*kinds: str | None) -> PoolRuns:
    """A pool (no process started) with runs of these kinds queued, numbered in order."""
    pool = PoolRuns(lambda task: task, workers=2)
    for number, kind in enumerate(kinds):
        task = SimpleNamespace(key=number, label=str(number))
        if kind is not None:
            task.kind = kind
        pool.queue.append(task)
    return pool


def started_order(pool: PoolRuns) -> list[int]:
    return [pool.next_task().key for _ in range(len(pool.queue))]


def test_runs_go_first_come_first_served_until_a_run_is_timed():
    assert started_order(queued("conveyor", "pods", "conveyor", "pods")) == [0, 1, 2, 3]
    assert started_order(queued(None, None, None)) == [0, 1, 2]


def test_the_kind_expected_to_take_longest_starts_first_and_untimed_kinds_before_it():
    pool = queued("conveyor", "pods", "allin", "conveyor", "pods", "two_party")
    pool._note_seconds(SimpleNamespace(kind="conveyor"), 1.0)
    pool._note_seconds(SimpleNamespace(kind="conveyor"), 2.0)  # mean 1.5
    pool._note_seconds(SimpleNamespace(kind="pods"), 2.0)
    pool._note_seconds(SimpleNamespace(kind="allin"), 0.5)
    pool._note_seconds(SimpleNamespace(), 9.0)  # a run without a kind counts for none
    # two_party is not timed yet: first; then pods (2.0), conveyor (1.5), allin (0.5),
    # first come first served within a kind.
    assert started_order(pool) == [5, 1, 4, 0, 3, 2]
    assert pool.seconds_by_kind == {"conveyor": (3.0, 2), "pods": (2.0, 1), "allin": (0.5, 1)}


def test_replication_runs_are_of_their_structures_kind():
    task = ReplicationRun(Scenario.from_file(ROOT / "scenarios" / "pods.toml"), "pods", 3)
    assert task.kind == "pods"
