"""The documentation runs: its commands and Python examples, its links, its build.

Every page (README.md and docs/**/*.md, the performance diary aside) is read
as a sequence of fenced blocks:

- ``sh`` blocks are examples: each ``python -m sim ...`` line is run in a
  temporary folder holding a copy of ``scenarios/``, in page order, shortened
  (one or two replications of a few simulated weeks, no plots); ``make X
  SCENARIO=y`` runs what the Makefile would run; any other line must name a
  module or file that exists.
- ``python`` blocks run in the same folder, in page order, sharing one
  namespace per page, with ``Scenario.from_file`` shortened likewise.
- ``text`` blocks are synopses: every option they name must exist.

``compare``, ``report``, ``plan`` and ``backtest`` take many seconds even
shortened (a comparison draws a dozen figures): the fast test only checks
them (options, input files, the scenario valid), and
``test_every_docs_command_runs`` (integration) runs each distinct
``python -m sim`` one once. ``make compare|plan|sweep`` lines are only checked
that way: the ``python -m sim`` lines beside them run the same code.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import build_parser, main
from sim.config.scenario import ROLES, STAGES, Scenario
from sim.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md"] + sorted(
    p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).parts[0] != "changelog"
)
PAGE_IDS = [str(p.relative_to(ROOT)) for p in PAGES]
FENCE = re.compile(r"^```(.*?)\n(.*?)^```\s*$", re.M | re.S)

SLOW_COMMANDS = {"compare", "report", "plan", "backtest"}
"""Subcommands run only by the integration test (seconds each even when shortened)."""

SHORT_RUN = ["--set", "horizon_days=30", "--set", "warmup_days=10", "--set", "maturity_days=10"]
SHORTEN = {
    "simulate": ["--replications", "1", "--no-plots", *SHORT_RUN],
    "compare": ["--replications", "2", "--no-independent", "--max-replications", "4", *SHORT_RUN],
    "plan": ["--replications", "2", "--max-steps", "2", "--no-plots", *SHORT_RUN],
    "backtest": ["--replications", "2", "--no-plots"],
}
"""Options appended to a docs command (argparse keeps the last value given)."""

SHORT_SCENARIO = ["horizon_days=60", "warmup_days=10", "maturity_days=10"]
"""Overrides appended to every ``Scenario.from_file`` in the Python examples."""

QUARTER_HORIZON = "horizon_days=100"
"""A hiring plan by quarter needs a quarter (91.25 days): its runs keep this horizon."""


@dataclass(frozen=True)
class Block:
    info: str
    text: str


def blocks(page: Path) -> list[Block]:
    return [Block(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(page.read_text())]


def commands(text: str) -> list[str]:
    """Command lines of a block: a line indented under a ``python -m sim`` line continues it."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line.strip())
    return lines


def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def make_to_sim(line: str) -> list[list[str]]:
    """What ``make TARGET VAR=value ...`` runs, as ``python -m sim`` argument lists."""
    words = shlex.split(line, comments=True)
    target = words[1]
    assert target in makefile_targets(), f"{line}: no such Makefile target"
    var = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    extra = shlex.split(var.get("ARGS", ""))
    scenario = var.get("SCENARIO", "pods")
    # The Makefile's SCENARIO_FILE: a path as given, else scenarios/<name>.toml.
    stem = scenario.removeprefix("scenarios/").removesuffix(".toml")
    path = scenario if (ROOT / scenario).is_file() else f"scenarios/{stem}.toml"
    if target in ("simulate", "compare"):
        return [[target, path, *extra]]
    if target == "report":
        return [["report", f"results/{Path(stem).name}", *extra]]
    if target == "plan":
        return [["plan", path, "--wins-per-quarter", var.get("TARGET", "30"), *extra]]
    if target == "sweep":
        name = var.get("SWEEP", "handoff_loss").removesuffix(".toml")
        return [["sweep", f"scenarios/sweeps/{name}.toml", *extra]]
    return []  # test, docs, validate, ...: the target exists, that is all


def shortened(args: list[str], tmp: Path) -> list[str]:
    """The command with its runs shortened and any absolute --out moved under tmp."""
    args = list(args)
    for index, arg in enumerate(args[:-1]):
        if arg == "--out" and Path(args[index + 1]).is_absolute():
            args[index + 1] = str(tmp / args[index + 1].lstrip("/"))
    args += SHORTEN.get(args[0], [])
    if "--by-quarter" in args:
        args += ["--set", QUARTER_HORIZON]
    return args


def check_parses(args: list[str]) -> None:
    """Options, input files and scenario of a command not run here."""
    parsed = build_parser().parse_args(args)
    for name in ("file", "export", "scenario"):
        value = getattr(parsed, name, None)
        if value is not None:
            assert Path(value).exists(), f"{' '.join(args)}: {value} does not exist"
    if args[0] == "sweep":
        load_sweep(Path(parsed.file))
    elif args[0] in ("simulate", "compare", "plan"):
        Scenario.from_file(parsed.file, parsed.overrides or ())


def check_other_line(line: str) -> None:
    """A shell line that is not salesim: its module or files must exist."""
    words = shlex.split(line, comments=True)
    if not words:
        return
    if "-m" in words:
        module = words[words.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, f"{line}: no module {module}"
    for word in words:
        if re.fullmatch(r"[\w./-]+\.(py|toml|csv)", word) and not word.startswith("/"):
            assert (ROOT / word).exists(), f"{line}: {word} does not exist"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder like the repository's root: scenarios/ copied, results/ empty; cwd there."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    original = Scenario.from_file.__func__

    def short_from_file(cls, path, overrides=()):
        kept = [o for o in overrides if o == QUARTER_HORIZON]
        return original(cls, path, [*overrides, *SHORT_SCENARIO, *kept])

    monkeypatch.setattr(Scenario, "from_file", classmethod(short_from_file))
    return tmp_path


def run_page(page: Path, tmp: Path, run_slow: bool, seen: set | None = None) -> int:
    """Run a page's examples in order; returns how many were run or checked.

    Args:
        page: the Markdown file.
        tmp: the working folder (the current directory).
        run_slow: run compare, report, plan and backtest too, not only check them.
        seen: commands already run in this folder, not run again.
    """
    seen = set() if seen is None else seen
    namespace: dict = {"__name__": "__docs__"}
    done = 0
    for block in blocks(page):
        language = block.info.split()[0] if block.info else ""
        if language == "python":
            exec(compile(block.text, f"{page.name} python block", "exec"), namespace)
            done += 1
            continue
        if language != "sh":
            continue
        for line in commands(block.text):
            if line.startswith("python -m sim "):
                runs = [shlex.split(line, comments=True)[3:]]
            elif line.startswith("make "):
                runs = make_to_sim(line)
            else:
                check_other_line(line)
                done += 1
                continue
            for args in runs:
                done += 1
                from_make = line.startswith("make ")
                slow = args[0] in SLOW_COMMANDS and (from_make or not run_slow)
                if args[0] == "sweep" or slow:
                    check_parses(args)
                elif tuple(args) not in seen:
                    assert main(shortened(args, tmp)) == 0, f"{page.name}: {line}"
                    seen.add(tuple(args))
    return done


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_docs_examples_run(page, workdir):
    run_page(page, workdir, run_slow=False)


@pytest.mark.integration
def test_every_docs_command_runs(workdir):
    """Every page's commands and examples, compare, report, plan and backtest too."""
    seen: set = set()
    for page in PAGES:
        run_page(page, workdir, run_slow=True, seen=seen)


def test_docs_have_examples():
    runnable = sum(
        1 for page in PAGES for b in blocks(page) if b.info.split()[:1] in (["sh"], ["python"])
    )
    assert runnable >= 20, runnable
    for name in ("simulate", "compare", "sweep", "plan", "calibrate"):
        page = DOCS / "guide" / f"{name}.md"
        assert any(b.info == "sh" for b in blocks(page)), f"{page.name} has no example"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_docs_synopses_name_real_options(page):
    """Every option in a synopsis exists; a synopsis uses placeholders, an example does not."""
    parsers = subparsers()
    for block in blocks(page):
        assert block.info, f"{page.name}: a code block without a language:\n{block.text}"
        if block.info != "text":
            continue
        for line in commands(block.text):
            if not line.startswith("python -m sim "):
                continue
            command = line.split()[3]
            assert command in parsers, f"{page.name}: no command {command!r}: {line}"
            known = set(parsers[command]._option_string_actions)
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line.split("#")[0]):
                assert option in known, f"{page.name}: {command} has no option {option}"


def test_readme_links_and_picture():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 260, "keep the README short: details go to docs/"
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local
    for target in local:
        assert (ROOT / target).exists(), f"README links to a missing {target}"
    (picture,) = re.findall(r"!\[[^]]*\]\(([^)]+\.png)\)", readme)
    assert (ROOT / picture).stat().st_size < 150_000


KPI_PLACEHOLDERS = {
    "<stage>": "|".join(STAGES),
    "<role>": "|".join(ROLES),
    "<reason>": r"[a-z_]+",
}


def documented_kpis() -> list[str]:
    page = (DOCS / "reference" / "kpis.md").read_text()
    table = re.search(r"<!-- kpis:start -->\n(.*?)\n<!-- kpis:end -->", page, re.S)
    assert table, "reference/kpis.md lost its table markers"
    names = []
    for row in table.group(1).splitlines()[2:]:
        first_cell = row.split("|")[1]
        names += re.findall(r"`([a-z0-9_<>]+)`", first_cell)
    return names


def kpi_pattern(name: str) -> re.Pattern[str]:
    pattern = re.escape(name)
    for placeholder, choices in KPI_PLACEHOLDERS.items():
        pattern = pattern.replace(re.escape(placeholder), f"(?:{choices})")
    return re.compile(pattern)


def test_kpi_reference_names_every_kpi_column(tmp_path):
    """The KPI page and ``kpis.csv`` of every structure of the baseline agree, both ways.

    Outbound lead generation is switched on: its KPIs exist only then.
    """
    out = tmp_path / "out"
    args = ["simulate", str(ROOT / "scenarios" / "baseline.toml"), "--out", str(out)]
    args += ["--set", "leads.outbound.enabled=true"]
    # Nurture's KPIs exist only with nurture on (the baseline's cold leads can come back).
    args += ["--set", "nurture.enabled=true", "--set", "nurture.return_prob=0.5"]
    assert main(args + SHORTEN["simulate"]) == 0
    columns = [
        c for c in pd.read_csv(out / "kpis.csv").columns if c not in ("structure", "replication")
    ]
    patterns = {name: kpi_pattern(name) for name in documented_kpis()}
    undocumented = [c for c in columns if not any(p.fullmatch(c) for p in patterns.values())]
    assert not undocumented, f"KPIs missing from docs/reference/kpis.md: {undocumented}"
    unknown = [n for n, p in patterns.items() if not any(p.fullmatch(c) for c in columns)]
    assert not unknown, f"docs/reference/kpis.md names KPIs no run has: {unknown}"


@pytest.mark.integration
def test_mkdocs_build_strict(tmp_path):
    """The site builds with no warning: links, API objects, generated blocks."""
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert build.returncode == 0, build.stdout + build.stderr
    fields = (site / "reference" / "fields" / "index.html").read_text()
    assert "structures.pods.handoff.to_pod.context_loss" in fields
    api = (site / "api" / "reference" / "index.html").read_text()
    assert 'id="sim.model.runner.simulate"' in api
    assert 'id="sim.analysis.kpi_values.run_kpis"' in api
    assert not (site / "hooks.py").exists()
