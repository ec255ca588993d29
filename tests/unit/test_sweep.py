"""Parameter sweeps: grid expansion, validation, resume, backends, outputs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import kpi_values, stats
from sim.cli.main import main
from sim.config.scenario import ScenarioError
from sim.model.runner import simulate
from sim.sweep.backends import run_one
from sim.sweep.run import run_sweep, write_outputs
from sim.sweep.spec import load_sweep
from sim.sweep.summary import (
    crossovers,
    findings,
    paired_table,
    summarise_sweep,
    sweep_table,
    winners,
)
from sim.sweep.sweep_file import KPI_DIRECTIONS, SweepRange
from sim.sweep.sweep_file import reserved_name as _reserved_name

ROOT = Path(__file__).resolve().parents[2]

# A tiny market: about 60 leads per run, a few milliseconds of simulation.
TINY = """
name = "tiny"
seed = 3
replications = 2
horizon_days = 40
warmup_days = 5
[leads]
arrivals_per_day = 1.5
mean_deal_value = 1000
[[leads.segments]]
name = "a"
share = 0.6
[[leads.segments]]
name = "b"
share = 0.4
[stages.prospecting]
pass_prob = 0.6
mean_effort_days = 0.2
[stages.qualification]
pass_prob = 0.6
mean_effort_days = 0.3
mean_lag_days = 2
[stages.closing]
pass_prob = 0.5
mean_effort_days = 0.5
mean_lag_days = 3
[structures.allin]
generalists = 2
[structures.conveyor]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
handoff = { drop_prob = 0.05 }
"""

SWEEP = """
name = "small"
scenario = "tiny.toml"
kpis = ["wins_per_30_days", "profit"]
[[grid]]
name = "drop"
path = "structures.conveyor.handoff.drop_prob"
values = [0.0, 0.2]
"""


def write(tmp_path: Path, sweep: str = SWEEP, scenario: str = TINY, name: str = "s.toml") -> Path:
    (tmp_path / "tiny.toml").write_text(scenario)
    path = tmp_path / name
    path.write_text(sweep)
    return path


def sweep_problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_sweep(write(tmp_path, text))
    return info.value.problems


# --- grid expansion --------------------------------------------------------


def test_range_values():
    assert SweepRange(start=0, stop=0.3, num=7).values() == (0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
    assert SweepRange(start=1, stop=100, num=3, scale="log").values() == (1, 10, 100)
    assert SweepRange(start=1, stop=4, num=3, integer=True).values() == (1, 3, 4)  # 2.5 -> 3
    assert SweepRange(start=5, stop=9, num=1).values() == (5,)


def test_two_axes_make_a_full_factorial_grid_first_axis_slowest(tmp_path):
    sweep = load_sweep(
        write(
            tmp_path,
            SWEEP
            + """
[[grid]]
name = "closers"
path = "structures.conveyor.closers"
values = [1, 2, 3]
""",
        )
    )
    assert [p.labels for p in sweep.points] == [
        (0.0, 1),
        (0.0, 2),
        (0.0, 3),
        (0.2, 1),
        (0.2, 2),
        (0.2, 3),
    ]
    for point in sweep.points:
        conveyor = point.scenario.structures.conveyor
        assert (conveyor.handoff.drop_prob, conveyor.closers) == point.labels
        assert point.scenario.structures.allin.generalists == 2  # untouched
    assert sweep.point_table().to_dict("list") == {
        "point": [0, 1, 2, 3, 4, 5],
        "drop": [0.0, 0.0, 0.0, 0.2, 0.2, 0.2],
        "closers": [1, 2, 3, 1, 2, 3],
    }
    tasks = sweep.tasks()
    assert len(tasks) == 6 * 2 * 2
    assert [t.key for t in tasks[:5]] == [
        (0, "allin", 0),
        (0, "allin", 1),
        (0, "conveyor", 0),
        (0, "conveyor", 1),
        (1, "allin", 0),
    ]


def test_one_value_on_several_paths_relative_values_and_rounding(tmp_path):
    text = """
name = "rel"
scenario = "tiny.toml"
replications = 3
seed = 99
set = { horizon_days = 50 }
[[grid]]
name = "volume"
path = "leads.arrivals_per_day"
relative = true
values = [0.5, 2]
scale = "log"
[[grid]]
name = "team"
paths = ["structures.conveyor.closers", "structures.allin.generalists"]
relative = true
values = [1.25]
"""
    sweep = load_sweep(write(tmp_path, text))
    assert (sweep.seed, sweep.replications) == (99, 3)
    assert sweep.axes[0].log and not sweep.axes[1].log
    first, second = (p.scenario for p in sweep.points)
    assert (first.leads.arrivals_per_day, second.leads.arrivals_per_day) == (0.75, 3.0)
    assert first.horizon_days == 50 and first.seed == 99 and first.replications == 3
    # 1 x 1.25 -> 1 and 2 x 1.25 = 2.5 -> 3: whole numbers, halves rounded up
    assert first.structures.conveyor.closers == 1
    assert first.structures.allin.generalists == 3


def test_cases_merge_tables_and_index_lists(tmp_path):
    text = """
name = "cases"
scenario = "tiny.toml"
[[grid]]
name = "layout"
[[grid.cases]]
label = "lean"
set = { "structures.conveyor" = { closers = 2 }, "leads.segments.1.share" = 0.1 }
[[grid.cases]]
label = "two pods"
[grid.cases.set]
"structures.pods" = { pods = [
    { name = "x", segments = ["a"], lead_gen=1, qualifiers=1, closers=1, account_managers=1 },
    { name = "y", segments = ["b"], lead_gen=1, qualifiers=1, closers=1, account_managers=1 },
] }
"""
    sweep = load_sweep(write(tmp_path, text))
    lean, pods = (p.scenario for p in sweep.points)
    assert lean.structures.conveyor.closers == 2
    assert lean.structures.conveyor.handoff.drop_prob == 0.05  # merged, not replaced
    assert [s.share for s in lean.leads.segments] == [0.6, 0.1]
    assert [p.name for p in pods.structures.pods.pods] == ["x", "y"]
    assert not sweep.axes[0].numeric
    assert sweep.point_table()["layout"].tolist() == ["lean", "two pods"]
    # only the sweep's structures run: the pods block added by a case is not one of them
    assert sweep.structures == ("allin", "conveyor")


# --- validation ------------------------------------------------------------


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            ("structures.conveyor.handoff.drop_prob", "structures.conveyor.handof.drop_prob"),
            [
                "s.toml: grid.0.path: not a scenario field: structures.conveyor has no field "
                "'handof'; did you mean 'handoff'?"
            ],
        ),
        (
            ("values = [0.0, 0.2]", "values = [0.0, 1.5, 2]"),
            [
                "s.toml: grid.0.values.1: structures.conveyor.handoff.drop_prob: "
                "Input should be less than or equal to 1 (got 1.5)",
                "s.toml: grid.0.values.2: structures.conveyor.handoff.drop_prob: "
                "Input should be less than or equal to 1 (got 2)",
            ],
        ),
        (
            ("values = [0.0, 0.2]", "values = []"),
            ["s.toml: grid.0.values: Tuple should have at least 1 item after validation, not 0"],
        ),
        (
            ("values = [0.0, 0.2]", "range = { start = 0, stop = 1, num = 0 }"),
            ["s.toml: grid.0.range.num: Input should be greater than or equal to 1 (got 0)"],
        ),
        (
            ("values = [0.0, 0.2]", "values = ['0.1']"),
            [
                "s.toml: grid.0.values.0: structures.conveyor.handoff.drop_prob: "
                "Input should be a valid number (got '0.1')"
            ],
        ),
        (
            ("values = [0.0, 0.2]", "values = [0.1, 0.1]"),
            ["s.toml: grid.0: each value once; repeated: 0.1"],
        ),
        (
            ("path = ", "step = 0.1\npath = "),
            ["s.toml: grid.0.step: Extra inputs are not permitted (got 0.1)"],
        ),
        (
            ("path = ", "values = [1]\npath = "),
            ["s.toml: TOML syntax error: Cannot overwrite a value (at line 9, column 20)"],
        ),
        (
            ('"structures.conveyor.handoff.drop_prob"', '"structures.pods.handoff.drop_prob"'),
            ["s.toml: grid.0.path: structures.pods is not configured in the base scenario"],
        ),
        (
            ('"structures.conveyor.handoff.drop_prob"', '"leads.segments.4.share"'),
            ["s.toml: grid.0.path: leads.segments has 2 items, no item 4"],
        ),
        (
            ('"structures.conveyor.handoff.drop_prob"', '"leads.segments.first.share"'),
            [
                "s.toml: grid.0.path: leads.segments is a list: "
                "expected an index (0, 1, ...), got 'first'"
            ],
        ),
        (
            ('kpis = ["wins_per_30_days", "profit"]', 'structures = ["pods"]'),
            [
                "s.toml: structures.0: 'pods' is not configured in the base scenario "
                "(configured: allin, conveyor)"
            ],
        ),
        (
            ('scenario = "tiny.toml"', 'scenario = "nope.toml"'),
            ["s.toml: scenario: no such scenario file"],
        ),
    ],
)
def test_bad_sweep_file_one_line_per_problem(tmp_path, edit, expected):
    problems = sweep_problems(tmp_path, SWEEP.replace(*edit, 1))
    assert len(problems) == len(expected), problems
    for line, start in zip(problems, expected, strict=True):
        assert line.startswith(start), line


def test_empty_or_missing_grid(tmp_path):
    head = SWEEP.split("[[grid]]")[0]
    assert sweep_problems(tmp_path, head) == ["s.toml: grid: Field required"]
    assert sweep_problems(tmp_path, head + "grid = []\n") == [
        "s.toml: grid: Tuple should have at least 1 item after validation, not 0"
    ]


def test_points_are_validated_together(tmp_path):
    text = """
name = "combo"
scenario = "tiny.toml"
[[grid]]
name = "horizon"
path = "horizon_days"
values = [10, 40]
[[grid]]
name = "warmup"
path = "warmup_days"
values = [1, 20]
"""
    (line,) = sweep_problems(tmp_path, text)
    assert line.startswith("s.toml: grid point 1 (horizon=10, warmup=20): (top level): warmup_days")


def test_two_axes_may_not_set_one_field(tmp_path):
    text = (
        SWEEP
        + """
[[grid]]
name = "conveyor"
[[grid.cases]]
label = 1
set = { "structures.conveyor" = { handoff = { drop_prob = 0.3 } } }
"""
    )
    assert sweep_problems(tmp_path, text) == [
        "s.toml: grid: axes 'drop' and 'conveyor' both set structures.conveyor.handoff.drop_prob"
    ]


def test_axis_names_may_not_hide_table_columns(tmp_path):
    problems = sweep_problems(tmp_path, SWEEP.replace('name = "drop"', 'name = "profit"'))
    assert problems == [
        "s.toml: grid.0.name: 'profit' is a column of the sweep table already; choose another "
        "(got 'profit')"
    ]
    twice = SWEEP + SWEEP[SWEEP.index("[[grid]]") :]
    assert sweep_problems(tmp_path, twice) == [
        "s.toml: grid: axis names must be unique, got ['drop'] more than once"
    ]


def test_reserved_names_cover_every_kpi_column(tmp_path):
    sweep = load_sweep(write(tmp_path))
    row = run_one(sweep.tasks()[2])  # conveyor: every role but the generalist
    row_allin = run_one(sweep.tasks()[0])
    for column in set(row.columns) | set(row_allin.columns):
        assert _reserved_name(column), column
    assert set(KPI_DIRECTIONS) <= set(row.columns)


def test_bad_sweep_exits_2_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, SWEEP.replace("0.2]", "1.2]"))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "s.toml: grid.0.values.1: structures.conveyor.handoff.drop_prob: "
        "Input should be less than or equal to 1 (got 1.2)"
    ]
    assert not out.exists()


def test_shipped_sweeps_are_valid():
    files = sorted((ROOT / "scenarios" / "sweeps").glob("*.toml"))
    names = {p.stem for p in files}
    assert {"handoff_loss", "lead_volume", "team_size", "pod_count_and_imbalance"} <= names
    for path in files:
        sweep = load_sweep(path)
        assert sweep.name == path.stem
        runs = len(sweep.points) * len(sweep.structures) * sweep.replications
        assert runs <= 160, f"{path.name}: {runs} runs; keep shipped sweeps to minutes"
    team = load_sweep(ROOT / "scenarios" / "sweeps" / "team_size.toml")
    for point in team.points:  # every structure gets the same headcount at each size
        s = point.scenario.structures
        totals = {
            s.allin.generalists,
            s.two_party.lead_gen + s.two_party.closers + s.two_party.account_managers,
            s.conveyor.lead_gen
            + s.conveyor.qualifiers
            + s.conveyor.closers
            + s.conveyor.account_managers,
            sum(p.lead_gen + p.qualifiers + p.closers + p.account_managers for p in s.pods.pods),
        }
        assert totals == {point.labels[0]}


# --- runs ------------------------------------------------------------------


def test_a_sweep_run_equals_the_same_scenario_simulated(tmp_path):
    sweep = load_sweep(write(tmp_path))
    point = sweep.points[1]
    result = simulate(point.scenario, ("allin", "conveyor"))
    expected = kpi_values.run_kpis(result.leads, result.reps, point.scenario)
    expected = expected[expected["structure"] == "conveyor"].reset_index(drop=True)
    for replication in (0, 1):
        row = run_one(next(t for t in sweep.tasks() if t.key == (1, "conveyor", replication)))
        want = expected[expected["replication"] == replication].drop(
            columns=["structure", "replication"]
        )
        absent = [c for c in want.columns if c not in row.columns]  # All-In's roles
        assert absent and want[absent].isna().all().all()
        want = want.drop(columns=absent).reset_index(drop=True)
        pd.testing.assert_frame_equal(row[want.columns], want, check_dtype=False)


def test_common_random_numbers_across_points_and_structures(tmp_path):
    sweep = load_sweep(write(tmp_path))
    rows = pd.concat([run_one(t) for t in sweep.tasks()], ignore_index=True)
    leads = rows.pivot_table(index="replication", columns=["point", "structure"], values="leads_in")
    for replication, counts in leads.iterrows():
        assert counts.nunique() == 1, f"replication {replication} saw different lead streams"
    assert leads.iloc[:, 0].nunique() == 2  # replications are different draws
    allin = rows[rows["structure"] == "allin"].drop(columns=["point", "wall_seconds"])
    by_point = [g.reset_index(drop=True) for _, g in allin.groupby(rows["point"])]
    pd.testing.assert_frame_equal(*by_point)  # All-In has no handoff: the drop is irrelevant


# --- resume and storage ----------------------------------------------------


class Interrupt(Exception):
    pass


def stop_after(count: int):
    done = []

    def hook(task):
        done.append(task.key)
        if len(done) == count:
            raise Interrupt

    return hook


def outputs(out: Path) -> dict[str, bytes]:
    return {
        name: (out / name).read_bytes()
        for name in ("sweep.parquet", "sweep_summary.csv", "crossovers.csv")
    }


@pytest.mark.integration  # over 10 s of CPU: make test stays under 4 minutes
def test_interrupted_sweep_resumes_to_identical_bytes(tmp_path):
    sweep = load_sweep(write(tmp_path))
    whole = tmp_path / "whole"
    assert run_sweep(sweep, whole).done == 8
    write_outputs(sweep, whole, plots=False)

    cut = tmp_path / "cut"
    with pytest.raises(Interrupt):
        run_sweep(sweep, cut, on_run_stored=stop_after(3))
    assert len(list((cut / "runs").glob("*.parquet"))) == 3
    (cut / "runs" / ".p00001-allin-r00000.parquet.tmp-1").write_bytes(b"half")  # killed writer
    again = run_sweep(sweep, cut)
    assert (again.reused, again.done, again.complete) == (3, 5, True)
    assert not list((cut / "runs").glob(".*"))
    write_outputs(sweep, cut, plots=False)
    assert outputs(cut) == outputs(whole)
    table = pd.read_parquet(whole / "sweep.parquet")
    assert list(table.columns[:5]) == ["point", "drop", "structure", "replication", "seed"]
    assert "wall_seconds" not in table.columns
    assert len(table) == 8 and (table["seed"] == 3).all()


@pytest.mark.integration  # over 10 s of CPU: make test stays under 4 minutes
def test_resume_refuses_a_changed_sweep_and_fresh_starts_over(tmp_path, capsys):
    path = write(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plots"]
    assert main(args) == 0
    capsys.readouterr()
    path.write_text(SWEEP.replace("[0.0, 0.2]", "[0.0, 0.3]"))
    assert main(args) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"{out}: holds runs of a different sweep definition (grid, scenarios changed); "
        "use --fresh to start over or --out for another directory"
    )
    (tmp_path / "tiny.toml").write_text(TINY.replace("generalists = 2", "generalists = 3"))
    path.write_text(SWEEP)
    assert main(args) == 2
    assert "(scenarios changed)" in capsys.readouterr().err
    assert main([*args, "--fresh"]) == 0
    assert "resuming" not in capsys.readouterr().err
    assert main(args) == 0  # everything stored: nothing to run
    assert "resuming: 8/8 runs already stored" in capsys.readouterr().err


def test_a_directory_that_holds_no_sweep_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["sweep", str(write(tmp_path)), "--out", str(out), "--fresh"]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert (out / "notes.txt").exists()


@pytest.fixture(scope="module")
def cli_sweep(tmp_path_factory):
    """A three-value sweep run through the command line, with plots: (out, stdout)."""
    import contextlib
    import io

    tmp_path = tmp_path_factory.mktemp("cli")
    path = write(tmp_path, SWEEP.replace("[0.0, 0.2]", "[0.0, 0.1, 0.2]"))
    out = tmp_path / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    return out, printed.getvalue()


def test_cli_writes_tables_plots_and_a_self_contained_report(cli_sweep):
    out, printed = cli_sweep
    assert {p.name for p in out.iterdir()} == {
        "sweep.json",
        "runs",
        "sweep.parquet",
        "sweep_summary.csv",
        "crossovers.csv",
        "claims.csv",
        "best_points.csv",
        "plots",
        "report.html",
    }
    assert {p.name for p in (out / "plots").iterdir()} == {
        "wins_per_30_days_vs_drop.png",
        "profit_vs_drop.png",
    }
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and 'src="http' not in page
    summary = pd.read_csv(out / "sweep_summary.csv")
    assert list(summary.columns) == [
        "point",
        "drop",
        "structure",
        "kpi",
        "mean",
        "ci_low",
        "ci_high",
        "p10",
        "p50",
        "p90",
        "replications",
    ]
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["runs"] == 12 and len(manifest["digest"]) == 64
    # Every claim scored at every grid point; the report shows the verdict grid.
    claims = pd.read_csv(out / "claims.csv")
    assert len(claims) == claims["id"].nunique() * summary["point"].nunique()
    assert set(claims["verdict"]) <= {"holds", "does not hold", "not significant", "not tested"}
    first = claims.groupby("id")["changed"].first()
    assert not first.any()  # nothing to change from at the first grid point
    assert "The literature's claims along the grid" in page
    assert "wins_per_30_days" in printed and f"results in {out}/" in printed


def test_sweep_report_renders_in_a_real_browser(cli_sweep):
    from tests.browser import check_html, find_chromium

    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run must install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    check = check_html(cli_sweep[0] / "report.html", chromium)
    assert check.problems == []
    assert check.images == 2 and check.loaded == 2
    assert check.title == "Sweep small" and check.text_chars > 500


# --- summary, crossovers, winners -------------------------------------------


def test_summary_matches_mean_ci_and_crossovers_interpolate(tmp_path):
    text = SWEEP.replace('kpis = ["wins_per_30_days", "profit"]', 'kpis = ["conversion"]')
    sweep = load_sweep(write(tmp_path, text))
    rows = []
    # Hand-made KPI rows: allin flat at 0.3; conveyor falls 0.5 -> 0.1 as drop goes 0 -> 0.2.
    for point, conveyor in ((0, (0.5, 0.5)), (1, (0.1, 0.1))):
        for replication in (0, 1):
            rows.append((point, "allin", replication, 3, 0.3 + 0.02 * replication))
            rows.append((point, "conveyor", replication, 3, conveyor[replication]))
    raw = pd.DataFrame(rows, columns=["point", "structure", "replication", "seed", "conversion"])
    table = sweep_table(sweep, raw)
    summary = summarise_sweep(table, sweep)
    for (point, structure), group in table.groupby(["point", "structure"], observed=True):
        mean, low, high = stats.mean_ci(group["conversion"])
        row = summary[(summary["point"] == point) & (summary["structure"] == structure)].iloc[0]
        assert row["mean"] == pytest.approx(mean)
        if np.isfinite(low):
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
        else:
            assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    (crossing,) = crossovers(summary, sweep).itertuples(index=False)
    # difference conveyor - allin: +0.19 at 0, -0.21 at 0.2 -> zero at 0.2 * 0.19 / 0.4
    assert crossing.value == pytest.approx(0.2 * 0.19 / 0.40)
    assert crossing.kpi_mean == pytest.approx(0.31)
    assert (crossing.leader_before, crossing.leader_after) == ("conveyor", "allin")
    board = winners(summary, sweep, "conversion")
    assert board["winner"].tolist() == ["conveyor", "allin"]
    assert board["clear"].tolist() == [True, True]
    # All-In's CI: 0.31 +- 12.71 * 0.01414 / sqrt 2 = [0.183, 0.437]; the Conveyor's 0.5 and
    # 0.1 (no spread) lie outside on either side: the lead changes hands clearly.
    assert crossing.clear
    (found,) = findings(summary, crossovers(summary, sweep), sweep)
    assert "Conveyor leads at 0.0, All-In at 0.2" in found
    assert "the lead passes from Conveyor to All-In near 0.095 (clear" in found
    # The Conveyor at 0.35 instead of 0.5: inside All-In's CI, the same crossing is noise.
    raw.loc[(raw["point"] == 0) & (raw["structure"] == "conveyor"), "conversion"] = 0.35
    summary = summarise_sweep(sweep_table(sweep, raw), sweep)
    (crossing,) = crossovers(summary, sweep).itertuples(index=False)
    assert not crossing.clear
    (found,) = findings(summary, crossovers(summary, sweep), sweep)
    assert found.endswith("1 crossing of the means where the CIs overlap: no clear change.")


def test_paired_differences_see_what_overlapping_intervals_hide(tmp_path):
    text = SWEEP.replace('kpis = ["wins_per_30_days", "profit"]', 'kpis = ["conversion"]')
    sweep = load_sweep(write(tmp_path, text))
    # Replication 1 is a lucky year for both: All-In 0.30 then 0.40, the Conveyor 0.35 then
    # 0.45. Each structure's own CI (t(1) = 12.71, half-width 0.64) overlaps the other's, but
    # the Conveyor is 0.05 ahead in both years: its paired CI is [0.05, 0.05].
    rows = [
        (point, name, replication, 3, value + 0.1 * replication)
        for point in (0, 1)
        for name, value in (("allin", 0.30), ("conveyor", 0.35))
        for replication in (0, 1)
    ]
    raw = pd.DataFrame(rows, columns=["point", "structure", "replication", "seed", "conversion"])
    table = sweep_table(sweep, raw)
    summary = summarise_sweep(table, sweep)
    pairs = paired_table(table, sweep)
    first = pairs[(pairs["point"] == 0) & (pairs["first"] == "allin")].iloc[0]
    assert first["second"] == "conveyor"
    assert (first["difference"], first["ci_low"], first["ci_high"]) == pytest.approx(
        (-0.05, -0.05, -0.05)
    )
    assert winners(summary, sweep, "conversion")["clear"].tolist() == [False, False]
    assert winners(summary, sweep, "conversion", pairs)["clear"].tolist() == [True, True]


# --- backends --------------------------------------------------------------


def start_dask(tmp_path: Path) -> tuple[str, list[subprocess.Popen]]:
    """A real scheduler and one worker on 127.0.0.1, logs quiet."""
    pytest.importorskip("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_LOGGING__DISTRIBUTED": "error"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
                "--preload",  # the scheduler unpickles the tasks: import the model now
                "sim.sweep.run",
            ],
            cwd=ROOT,
            **quiet,
        )
    ]
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                "--scheduler-file",
                str(scheduler_file),
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--preload",  # imports the model while the local runs go
                "sim.sweep.run",
                "--host",
                "127.0.0.1",
            ],
            cwd=ROOT,
            **quiet,
        )
    )
    return str(scheduler_file), procs


def stop(procs: list[subprocess.Popen]) -> None:
    # Killed, not terminated: a graceful Dask shutdown takes seconds and keeps nothing we need.
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait(timeout=30)


@pytest.mark.integration
def test_backends_give_identical_tables(tmp_path, monkeypatch):
    path = write(tmp_path)
    sweep = load_sweep(path)
    try:
        import distributed  # noqa: F401
    except ImportError:
        scheduler_file, procs = None, []
    else:
        scheduler_file, procs = start_dask(tmp_path)  # starts while the local runs go
    try:
        one = tmp_path / "one"
        assert run_sweep(sweep, one, workers=1).done == 8
        write_outputs(sweep, one, plots=False)
        with monkeypatch.context() as blocked:
            # The local default must not need Dask: importing it now raises ImportError.
            for name in ("dask", "distributed"):
                blocked.setitem(sys.modules, name, None)
            two = tmp_path / "two"
            assert run_sweep(sweep, two, workers=2).done == 8
        write_outputs(sweep, two, plots=False)
        assert outputs(two) == outputs(one)
        if scheduler_file is None:
            pytest.skip("dask is not installed: the Dask backend was not compared")
        deadline = time.monotonic() + 60
        while not Path(scheduler_file).exists():
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.05)
        address = json.loads(Path(scheduler_file).read_text())["address"]
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        dask = tmp_path / "dask"
        result = run_sweep(sweep, dask, scheduler=address)
        assert result.done == 8 and not result.failures
        write_outputs(sweep, dask, plots=False)
        assert outputs(dask) == outputs(one)
    finally:
        stop(procs)


@pytest.mark.parametrize("address", ["foo://x", "file:///tmp", "inproc://x", "tcp://", "nonsense"])
def test_a_bad_scheduler_scheme_is_one_line(tmp_path, capsys, address):
    out = tmp_path / "o"
    assert main(["sweep", str(write(tmp_path)), "--out", str(out), "--scheduler", address]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "--scheduler: expected 'local' or a Dask scheduler address tcp://HOST:PORT "
        f"(also tls://, ws://, wss://), got {address!r}"
    ]
    assert not out.exists()


@pytest.fixture
def not_dask():
    """Three loopback addresses where no Dask scheduler answers: HTTP, silence, refusal."""
    import http.server
    import socket
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel does), never answers
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # the port is ours, nobody listens: refused
    yield {
        "http": f"tcp://127.0.0.1:{web.server_address[1]}",
        "silent": f"tcp://127.0.0.1:{silent.getsockname()[1]}",
        "refused": f"tcp://127.0.0.1:{closed.getsockname()[1]}",
    }
    web.shutdown()
    web.server_close()
    silent.close()
    closed.close()


@pytest.mark.parametrize("peer", ["http", "silent", "refused"])
def test_no_dask_scheduler_answering_is_one_line_and_writes_nothing(
    tmp_path, capsys, monkeypatch, not_dask, peer
):
    pytest.importorskip("distributed")
    monkeypatch.setattr("sim.sweep.backends.CONNECT_SECONDS", 1)
    address = not_dask[peer]
    out = tmp_path / "o"
    assert main(["sweep", str(write(tmp_path)), "--out", str(out), "--scheduler", address]) == 2
    (line,) = [ln for ln in capsys.readouterr().err.splitlines() if "scheduler" in ln][-1:]
    assert line.startswith(f"--scheduler: {address}: no Dask scheduler answered within 1 s (")
    assert not out.exists()


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
def test_a_real_scheduler_answers_and_a_worker_is_not_one(tmp_path, capsys, dask_in_process):
    from sim.sweep.backends import SweepSetupError, check_scheduler

    check_scheduler(dask_in_process.scheduler_address, 2)
    worker = next(iter(dask_in_process.scheduler_info["workers"]))
    with pytest.raises(SweepSetupError) as info:
        check_scheduler(worker, 2)
    assert str(info.value) == (
        f"--scheduler: {worker}: no Dask scheduler answered within 2 s "
        "(a Dask Worker answered, not a scheduler)"
    )
    path = write(tmp_path)
    out = tmp_path / "o"
    args = ["sweep", str(path), "--out", str(out), "--no-plots"]
    assert main([*args, "--scheduler", dask_in_process.scheduler_address]) == 0
    serial = tmp_path / "serial"
    assert main(["sweep", str(path), "--out", str(serial), "--no-plots", "--workers", "1"]) == 0
    assert outputs(out) == outputs(serial)


@pytest.mark.integration
def test_ctrl_c_stops_cleanly_and_the_sweep_resumes(tmp_path):
    # Ctrl-C is sent once the first run is stored. Every other run waits for a file that
    # never appears (a test hook of the pool workers), so the sweep cannot finish before
    # the signal lands, however fast the machine.
    path = write(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--workers", "2"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, as a terminal would make it
        env={**os.environ, "SALESIM_TEST_HOLD_RUNS": f"0/allin/0@{tmp_path / 'never'}"},
        cwd=ROOT,
    )
    runs = out / "runs"
    deadline = time.monotonic() + 120  # only a guard against a hang, never reached
    while not (runs.exists() and list(runs.glob("*.parquet"))):
        assert time.monotonic() < deadline and proc.poll() is None, "no run was stored"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group, workers included
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"interrupted: 1 runs stored in {out}/runs/; run the same command again to resume"
    )
    assert [p.name for p in runs.glob("*.parquet")] == ["p00000-allin-r00000.parquet"]
    assert not (out / "sweep.parquet").exists()
    again = run_sweep(load_sweep(path), out, workers=2)
    assert (again.reused, again.done) == (1, 7), again.failures[:1]


@pytest.mark.integration
def test_pool_runs_from_a_process_with_threads(tmp_path):
    # With another thread running, forking is unsafe and the pool uses forkserver;
    # its workers' OS parent is then the fork server, not this process. A watchdog
    # that compared os.getppid() with this pid killed every worker at once.
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        result = run_sweep(load_sweep(write(tmp_path)), tmp_path / "out", workers=2)
    finally:
        stop.set()
        thread.join()
    assert (result.done, result.failures) == (8, ())


WORKERS_OF_A_KILLED_PARENT = """
import os, sys
from sim.sweep.backends import PoolRuns
from sim.sweep.spec import load_sweep

if __name__ == "__main__":
    method, sweep_file, gate = sys.argv[1:]
    os.environ["SALESIM_TEST_HOLD_RUNS"] = "none@" + gate  # every run waits: workers stay busy
    runs = PoolRuns(2, start_method=method)
    runs.submit(load_sweep(sweep_file).tasks()[:2])
    print(*sorted(w.process.pid for w in runs.workers), flush=True)
    next(iter(runs))  # hands both runs out, then waits for ever
"""


@pytest.mark.integration
@pytest.mark.parametrize(
    "method", ["fork", "forkserver", pytest.param("spawn", marks=pytest.mark.slow)]
)
def test_pool_workers_end_when_their_parent_is_killed(tmp_path, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"{method} is not available on this platform")
    script = tmp_path / "parent.py"
    script.write_text(WORKERS_OF_A_KILLED_PARENT)
    command = [sys.executable, str(script), method, str(write(tmp_path)), str(tmp_path / "never")]
    parent = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.kill()  # SIGKILL: no chance to stop its workers, which are busy in a run
    parent.wait()

    def alive(pid: int) -> bool:
        # A zombie has ended; whether anybody reaps it is up to the machine's init.
        if Path("/proc/self/stat").exists():
            try:
                return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
            except FileNotFoundError:
                return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"{method} workers outlived their parent"
        time.sleep(0.05)


def sweep_command(path: Path, out: Path, *options: str, **env: str):
    """``python -m sim sweep`` in a subprocess (so that test hooks reach its workers)."""
    return subprocess.run(
        [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), *options],
        capture_output=True,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1", **env},
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.integration
def test_a_worker_killed_once_is_replaced_and_its_run_retried(tmp_path):
    path = write(tmp_path)
    sweep = load_sweep(path)
    mark = tmp_path / "killed-once"
    out = tmp_path / "out"
    done = sweep_command(
        path, out, "--workers", "3", "--no-plots", SALESIM_TEST_KILL_RUN=f"1/conveyor/0@{mark}"
    )
    assert done.returncode == 0, done.stderr
    assert mark.exists()  # the run did kill its worker
    assert "Traceback" not in done.stderr and "failed" not in done.stderr
    assert len(list((out / "runs").glob("*.parquet"))) == 8
    serial = tmp_path / "serial"
    assert run_sweep(sweep, serial, workers=1).done == 8
    write_outputs(sweep, serial, plots=False)
    assert outputs(out) == outputs(serial)


@pytest.mark.integration
def test_a_run_that_kills_its_worker_every_time_fails_alone(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    done = sweep_command(
        path, out, "--workers", "2", "--no-plots", SALESIM_TEST_KILL_RUN="1/conveyor/0"
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-2:] == [
        "run failed: point 1 conveyor replication 0: WorkerLost: its worker process died at "
        "each of 2 attempts (last: killed by SIGKILL, as the out-of-memory killer does)",
        f"1 of 8 runs failed; the others are stored in {out}/runs/, so running the same "
        "command again retries only the failed ones",
    ]
    assert sorted(p.name for p in (out / "runs").glob("*.parquet")) == sorted(
        f"p{p:05d}-{s}-r{r:05d}.parquet"
        for p in (0, 1)
        for s in ("allin", "conveyor")
        for r in (0, 1)
        if (p, s, r) != (1, "conveyor", 0)
    )
    assert not (out / "sweep.parquet").exists()


@pytest.mark.integration
def test_a_worker_lost_between_runs_costs_no_run_an_attempt(tmp_path):
    from sim.sweep.backends import PoolRuns

    tasks = load_sweep(write(tmp_path)).tasks()[:3]
    runs = PoolRuns(2)
    try:
        runs.submit(tasks)
        lost = runs.workers[0].process
        os.kill(lost.pid, signal.SIGKILL)  # idle: it has no run yet
        lost.join(timeout=30)
        results = dict(runs)
    finally:
        runs.close()
    assert set(results) == set(tasks) and not runs.deaths
    assert all(isinstance(row, pd.DataFrame) for row in results.values())


def test_a_failed_run_is_reported_and_retried_alone(tmp_path, capsys, monkeypatch):
    path = write(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--no-plots"]
    real = run_one

    def flaky(task):
        if task.key == (1, "conveyor", 0):
            raise ValueError("boom")
        return real(task)

    monkeypatch.setattr("sim.sweep.backends.run_one", flaky)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "run failed: point 1 conveyor replication 0: ValueError: boom" in err
    assert "1 of 8 runs failed" in err
    assert len(list((out / "runs").glob("*.parquet"))) == 7
    assert not (out / "sweep.parquet").exists()
    monkeypatch.setattr("sim.sweep.backends.run_one", real)
    assert main(args) == 0
    assert "resuming: 7/8 runs already stored" in capsys.readouterr().err
    assert (out / "sweep.parquet").exists()


def test_docs_sweep_example_and_commands(tmp_path):
    import re
    import shutil

    readme = (ROOT / "docs" / "guide" / "sweep.md").read_text()
    (example,) = re.findall(r'```toml title="\S+/closers_and_loss.toml"\n(.*?)```', readme, re.S)
    shutil.copy(ROOT / "scenarios" / "baseline.toml", tmp_path / "baseline.toml")
    (tmp_path / "sweeps").mkdir()
    path = tmp_path / "sweeps" / "closers_and_loss.toml"
    path.write_text(example)
    sweep = load_sweep(path)
    assert len(sweep.points) == 12 and sweep.structures == ("allin", "conveyor")
    named = re.findall(r"make sweep SWEEP=(\w+)", readme)
    assert named
    for name in named:
        assert load_sweep(ROOT / "scenarios" / "sweeps" / f"{name}.toml").name == name
