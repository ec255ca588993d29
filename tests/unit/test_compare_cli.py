"""``compare`` and ``report`` on the command line: outputs, reproducibility, bad input, browser."""

import contextlib
import html
import io
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis import report_kpis
from sim.analysis.claims import load_claims
from sim.cli.main import main
from tests.browser import check_html, find_chromium

ROOT = Path(__file__).resolve().parents[2]

TINY = """
name = "tiny_compare"
seed = 5
replications = 3
horizon_days = 60
warmup_days = 5
maturity_days = 10
sample_interval_days = 2
[leads]
arrivals_per_day = 3
mean_deal_value = 20000
segments = [{ name = "east", share = 0.7 }, { name = "west", share = 0.3 }]
[stages.prospecting]
pass_prob = 0.5
mean_effort_days = 0.3
[stages.qualification]
pass_prob = 0.6
mean_effort_days = 0.5
mean_lag_days = 2
[stages.closing]
pass_prob = 0.5
mean_effort_days = 0.8
mean_lag_days = 4
[decay]
mean_patience_days = 10
[quotas]
period_days = 20  # so that quota periods after the warm-up count
[quotas.roles]
closer = 500000
generalist = 500000
[benchmarks]
win_rate = 0.9
[structures.allin]
generalists = 4
[structures.conveyor]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
handoff = { drop_prob = 0.1 }
[[structures.pods.pods]]
name = "big"
segments = ["east"]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
[[structures.pods.pods]]
name = "small"
segments = ["west"]
lead_gen = 1
qualifiers = 1
closers = 1
account_managers = 1
"""

GENERATED_PNGS = {
    "verdict.png",
    "paired_differences.png",
    "funnel.png",
    "wins_over_time.png",
    "cycle_time.png",
    "work_in_progress.png",
    "utilisation.png",
    "pod_utilisation.png",
    "quota_attainment.png",
    "money.png",
    "headcount.png",
}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One compare run shared by the tests of this module (drawing takes seconds).

    Returns:
        (scenario file, results directory, what the terminal showed).
    """
    root = tmp_path_factory.mktemp("compare")
    scenario = root / "tiny.toml"
    scenario.write_text(TINY)
    out = root / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["compare", str(scenario), "--out", str(out), "--reference", "conveyor"])
    assert code == 0
    return scenario, out, printed.getvalue()


def test_compare_writes_report_csv_figures_and_data(compared, capsys):
    _, out, _ = compared
    names = {p.name for p in out.iterdir()}
    assert {
        "report.html",
        "compare.csv",
        "claims.csv",
        "leads.parquet",
        "reps.parquet",
        "samples.parquet",
        "summary.json",
        "kpis.csv",
        "comparison.json",
        "independent",
    } <= names
    assert GENERATED_PNGS <= names
    assert {p.name for p in (out / "independent").iterdir()} == {
        "leads.parquet",
        "reps.parquet",
        "summary.json",
    }
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_compare_csv_differences_match_the_per_replication_kpis(compared):
    _, out, _ = compared
    table = pd.read_csv(out / "compare.csv")
    kpis = pd.read_csv(out / "kpis.csv")
    assert set(table["reference"]) == {"conveyor"}
    assert list(dict.fromkeys(table["structure"])) == ["allin", "conveyor", "pods"]
    for kpi in ("wins_per_30_days", "conversion", "profit", "lost_went_cold"):
        ref = kpis[kpis["structure"] == "conveyor"].set_index("replication")[kpi]
        for structure in ("allin", "pods"):
            other = kpis[kpis["structure"] == structure].set_index("replication")[kpi]
            row = table[(table["kpi"] == kpi) & (table["structure"] == structure)].iloc[0]
            assert row["difference"] == pytest.approx((other - ref).mean(), abs=1e-12)
            assert row["mean"] == pytest.approx(other.mean())
            assert row["difference_ci_low"] <= row["difference"] <= row["difference_ci_high"]
            assert row["ci_width_ratio"] > 0
    assert table.loc[table["structure"] == "conveyor", "difference"].isna().all()


def test_terminal_shows_headline_flags_and_significant_differences(compared):
    printed = compared[2]
    assert printed.index("Which structure to run:") < printed.index("throughput (wins per")
    assert "throughput (wins per 30 days)" in printed and "All-In" in printed
    assert "Red flags:" in printed and "below the benchmark of 90 %" in printed
    assert (
        "Significant differences from Conveyor (Benjamini-Hochberg over every KPI" in printed
        or "No headline difference from Conveyor is significant" in printed
    )
    assert "Common random numbers: paired 95 % CIs are a median" in printed


@pytest.mark.integration
def test_report_rebuilds_the_same_bytes_without_simulating(compared, tmp_path, monkeypatch):
    _, out, _ = compared
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for name in ("compare.csv", "report.html", *GENERATED_PNGS):
        (copy / name).unlink()
    data_before = {p.name: p.read_bytes() for p in copy.glob("*.parquet")}
    import sim.model.runner

    def no_simulation(*args, **kwargs):
        raise AssertionError("report must not simulate")

    monkeypatch.setattr(sim.model.runner, "run_structure", no_simulation)
    assert main(["report", str(copy)]) == 0
    for name in ("compare.csv", "report.html", *sorted(GENERATED_PNGS)):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name
    assert {p.name: p.read_bytes() for p in copy.glob("*.parquet")} == data_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]


@pytest.mark.integration
def test_report_links_the_sensitivity_page_when_there_is_one(compared, tmp_path):
    _, out, _ = compared
    link = "<a href='sensitivity/index.html'>"
    assert link not in (out / "report.html").read_text()
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "sensitivity").mkdir()
    (copy / "sensitivity" / "index.html").write_text("<html></html>")
    assert main(["report", str(copy)]) == 0
    assert link in (copy / "report.html").read_text()


def test_report_html_is_self_contained(compared):
    _, out, _ = compared
    text = (out / "report.html").read_text()
    sources = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)""", text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert len(sources) == len(GENERATED_PNGS)
    assert not re.search(r"https?://|<script|<link|@import|url\(", text)
    assert "Paired differences" in text and "Red flags" in text


def test_report_has_a_people_and_money_section(compared):
    _, out, _ = compared
    text = (out / "report.html").read_text()
    start = text.index("<h2 id='people-and-money'>People and money</h2>")
    section = text[start : text.index("</details>", start)]  # a folded section
    # Headcount, quota and money figures sit in the section, not with the other figures.
    for name in ("headcount", "quota_attainment", "money"):
        assert f"<figure id='{name}'>" in section
        assert text.count(f"<figure id='{name}'>") == 1
    kpis = pd.read_csv(out / "kpis.csv")
    # Every people and money KPI measured for some structure has its row, unmeasured ones none.
    for kpi, spec in {**report_kpis.PEOPLE_SPECS, **report_kpis.COST_SPECS}.items():
        measured = kpi in kpis and kpis[kpi].notna().any()
        assert (f"<td>{html.escape(spec.label)} <span" in section) == measured, kpi
    for kpi in (
        "annual_turnover",
        "vacancy_share",
        "hires",
        "share_at_quota_closer",
        "mean_attainment_generalist",
        "hiring_cost",
        "bonus_cost",
    ):
        assert kpis[kpi].notna().any(), kpi
    assert "Quota attainment by role and level" in section
    # One senior generalist, two quota periods after the warm-up in each replication.
    assert "<td>generalist</td><td>senior</td><td>2.0</td>" in section
    turnover = kpis[kpis["structure"] == "conveyor"]["annual_turnover"]
    assert f"{100 * turnover.mean():.1f} %" in section


def test_report_scores_the_claims_and_shows_territories(compared):
    _, out, _ = compared
    text = (out / "report.html").read_text()
    claims = pd.read_csv(out / "claims.csv")
    assert list(claims["id"]) == [claim.id for claim in load_claims()]
    assert set(claims["verdict"]) <= {"holds", "does not hold", "not significant", "not tested"}
    start = text.index("<h2>The literature's claims, checked on this scenario</h2>")
    scoreboard = text[start : text.index("</details>", start)]
    assert scoreboard.count("<tr><td>") == len(claims)
    for verdict in claims["verdict"]:
        assert f">{verdict}</td></tr>" in scoreboard
    assert "<h2>Territories</h2>" in text
    territories = pd.read_csv(out / "territories.csv")
    # One row per structure and segment, and the leads of a structure add up to its cohort.
    assert len(territories) == 3 * 2
    assert set(territories["segment"]) == {"east", "west"}
    kpis = pd.read_csv(out / "kpis.csv")
    per_structure = territories.groupby("structure")["leads"].sum()
    cohort = kpis.groupby("structure")["leads_in"].mean()
    assert per_structure.sort_index().to_numpy() == pytest.approx(cohort.sort_index().to_numpy())


def test_report_shows_the_spread_of_each_objective_from_the_replications(compared):
    _, out, _ = compared
    text = (out / "report.html").read_text()
    risk = pd.read_csv(out / "risk.csv")
    kpis = pd.read_csv(out / "kpis.csv")
    for row in risk.itertuples():
        values = kpis.loc[kpis["structure"] == row.structure, row.kpi].dropna()
        assert row.p10 == pytest.approx(values.quantile(0.1))
        assert row.p90 == pytest.approx(values.quantile(0.9))
    section = text[text.index("<h2>Risk: how far a year can swing</h2>") :]
    section = section[: section.index("<h2>", 10)]
    # Three rows (P10, P50, P90) per objective, and one sentence each.
    assert section.count("<tr><td>") == 3 * risk["kpi"].nunique()
    assert section.count("P10 to P90:") == risk["kpi"].nunique()


def test_report_renders_in_a_real_browser(compared):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run must install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    _, out, _ = compared
    check = check_html(out / "report.html", chromium)
    assert check.problems == []
    assert check.images == len(GENERATED_PNGS) and check.loaded == check.images
    assert check.title.startswith("tiny_compare") and check.text_chars > 2000
    # The verdict is read before scrolling: its box ends inside a 1,400 x 900 window
    # (the page's visible height is less than 900 once the browser's own bars are counted).
    assert check.viewport[0] == 1400 and 600 <= check.viewport[1] <= 900
    assert check.verdict_bottom is not None and 0 < check.verdict_bottom <= check.viewport[1]
    # Long tables are folded below the figures: the figures start in the page's first half
    # (on the baseline: at 3,760 of 9,983 px, against 13,022 of 18,939 before folding).
    assert check.figures_top is not None and check.figures_top < check.height / 2
    assert (out / "report.html").read_text().count("<details class='section'>") >= 5


def test_the_browser_check_catches_a_broken_page(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run must install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        "<img src='data:image/png;base64,AAAA' alt='bad'>"
        "<img src='http://example.invalid/a.png' alt='remote'>"
        "<script>console.error('boom')</script></body></html>"
    )
    check = check_html(page, chromium)
    assert check.rendered and check.images == 2 and check.loaded == 0
    assert any("boom" in e for e in check.errors)
    assert len(check.problems) >= 3


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--structures", "allin,matrix"], "tiny.toml: --structures: 'matrix' is not configured"),
        (["--structures", "allin,allin"], "tiny.toml: --structures: name each structure once"),
        (["--reference", "two_party"], "tiny.toml: --reference: 'two_party' is not among"),
        (["--set", "stages.closing.pass_prob=2"], "--set stages.closing.pass_prob=2: Input should"),
    ],
)
def test_compare_bad_input_exits_2_with_one_line(tmp_path, capsys, extra, expected):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "out"
    assert main(["compare", str(scenario), "--out", str(out), *extra]) == 2
    assert one_error_line(capsys).startswith(expected)
    assert not out.exists()


def test_report_on_something_that_is_not_a_results_directory(tmp_path, compared, capsys):
    out = compared[1]
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert one_error_line(capsys) == f"{tmp_path / 'nowhere'}: no such results directory"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    assert main(["report", str(empty)]) == 2
    assert "not a salesim results directory (missing summary.json" in one_error_line(capsys)
    assert [p.name for p in empty.iterdir()] == ["notes.txt"]
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert main(["report", str(afile)]) == 2
    assert one_error_line(capsys).endswith("not a directory, expected a results directory")
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "summary.json").write_text("{not json")
    assert main(["report", str(broken)]) == 2
    assert one_error_line(capsys).startswith(f"{broken / 'summary.json'}: not a salesim summary")
    stale = tmp_path / "stale"
    shutil.copytree(out, stale)
    leads = pd.read_parquet(stale / "leads.parquet").drop(columns="in_cohort")
    leads.to_parquet(stale / "leads.parquet")
    assert main(["report", str(stale)]) == 2
    assert "lack column 'in_cohort'" in one_error_line(capsys)
    assert main(["report", str(out), "--reference", "matrix"]) == 2
    assert "reference 'matrix' is not among the saved structures" in one_error_line(capsys)


@pytest.mark.integration
def test_readme_compare_commands_run(tmp_path, capsys):
    """The README's compare lines run (shortened), and report re-draws with another reference."""
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(python -m sim compare scenarios/\S+.*)$", readme, re.M)
    assert commands
    # `make compare SCENARIO=x` runs `python -m sim compare scenarios/x.toml`: the file exists.
    for name in re.findall(r"make compare SCENARIO=([\w/]+)", readme):
        assert (ROOT / "scenarios" / f"{name}.toml").is_file(), name
    for index, command in enumerate(dict.fromkeys(commands)):
        args = shlex.split(command)[3:]
        args = [str(ROOT / a) if a.startswith("scenarios/") else a for a in args]
        out = tmp_path / f"out{index}"
        args += ["--out", str(out), "--replications", "2", "--set", "horizon_days=45"]
        args += ["--set", "maturity_days=5", "--no-independent"]
        assert main(args) == 0, command
    assert "Not measured" in (out / "report.html").read_text()
    assert "ci_width_ratio" not in pd.read_csv(out / "compare.csv").columns
    structures = list(dict.fromkeys(pd.read_csv(out / "compare.csv")["structure"]))
    data_before = {p.name: p.read_bytes() for p in out.glob("*.parquet")}
    capsys.readouterr()
    # report with another reference rewrites the comparison, atomically, data untouched.
    assert main(["report", str(out), "--reference", structures[-1]]) == 0
    assert set(pd.read_csv(out / "compare.csv")["reference"]) == {structures[-1]}
    assert {p.name: p.read_bytes() for p in out.glob("*.parquet")} == data_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert "throughput (wins per 30 days)" in capsys.readouterr().out


@pytest.mark.integration  # about 20 s: several batches of compare
def test_select_best_adds_replications_says_what_it_selected_and_report_keeps_it(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "out"
    command = ["compare", str(scenario), "--out", str(out), "--no-independent"]
    selecting = ["--select-best", "--indifference", "100000", "--max-replications", "9"]
    assert main([*command, *selecting, "--batch", "3"]) == 0
    printed = capsys.readouterr().out
    document = json.loads((out / "selection.json").read_text())
    assert document["method"] == "kim_nelson" and document["first_stage"] == 3
    assert 3 <= document["replications"] <= 9
    assert pd.read_csv(out / "kpis.csv")["replication"].max() == document["replications"] - 1
    first = "Selected " if document["decided"] else "Not decided within 9 replications"
    assert printed.split("Which structure to run:\n", 1)[1].lstrip().startswith(first)
    page = (out / "report.html").read_text()
    assert "Kim and Nelson" in page
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").read_text() == page
    # Without an indifference zone (none in the scenario) it refuses before simulating.
    empty = tmp_path / "empty"
    assert main([*command[:3], str(empty), "--no-independent", "--select-best"]) == 2
    assert "needs --indifference" in capsys.readouterr().err and not empty.exists()


@pytest.mark.integration  # over 20 s of CPU: make test stays under 4 minutes
def test_simulate_writes_the_report_too(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "one"
    assert main(["simulate", str(scenario), "--structures", "pods", "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "<h1>tiny_compare: how Pods does</h1>" in page and "id='verdict'" in page
    assert "Pods on its own (no other structure to choose from): profit " in page
    assert not (out / "paired_differences.png").exists()  # nothing to pair with
    assert "Reference for differences" not in page and "Which structure is ahead" not in page
    assert main(["report", str(out)]) == 0 and (out / "report.html").read_text() == page
    bare = tmp_path / "bare"
    assert main(["simulate", str(scenario), "--no-plots", "--out", str(bare)]) == 0
    assert not (bare / "report.html").exists() and not list(bare.glob("*.png"))
