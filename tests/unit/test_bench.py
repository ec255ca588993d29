"""``make bench`` keeps working: a tiny run writes every figure, and the engines agree.

Only the shape of the output and the agreement between engines are checked,
never a speed: a slow or busy machine must not fail the suite.
"""

import json
import math

import pytest

from benchmarks import bench


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench"
    bench.main(["--quick", "--repeats", "1", "--out", str(out)])
    return json.loads((out / "bench.json").read_text())


@pytest.mark.integration
def test_bench_json_has_every_figure(quick):
    assert quick["machine"]["cores"] >= 1
    assert quick["packages"]["simpy"]
    engine = quick["engine"]
    for name in engine["engines"]:
        rate = engine["leads_per_second"][name]
        assert 0 < rate["min"] <= rate["median"] <= rate["max"]
    assert "salesim_vs_simpy_minimal" in engine["ratios"]
    assert "salesim_vs_floor" in engine["ratios"]
    rows = {(row["scenario"], row["structure"]) for row in quick["full_model"]}
    assert ("baseline", "pods") in rows and ("conveyor", "conveyor") in rows
    assert all(row["leads_per_second"]["median"] > 0 for row in quick["full_model"])
    points = quick["scaling"]["points"]
    assert [p["factor"] for p in points] == [1, 4, 16]
    assert points[0]["leads"] < points[1]["leads"] < points[2]["leads"]
    assert all(p["peak_rss_bytes"]["median"] > 0 and p["parquet_bytes"] > 0 for p in points)
    assert quick["parallel"]["speedup_2_workers"]["median"] > 0
    assert quick["profile"]["engine"]["top"] and quick["profile"]["full"]["sim_cumulative"]
    groups = quick["effect_groups"]["groups"]
    assert set(groups) == set(bench.EFFECT_GROUPS)
    for entry in groups.values():
        assert entry["leads_per_second"]["median"] > 0
        assert entry["share_of_full_time"]["median"] < 1  # a share of a positive time
    sweep_target = quick["targets"]["sweep: 2 workers / 1 worker (runs >= 1 s)"]
    assert sweep_target["target"] == ">= 1.8"
    # --quick's sweep runs last milliseconds: the target is for runs of a second or more.
    short = quick["parallel"]["seconds_per_run"]["median"] < 1.0
    assert (sweep_target["met"] == "not judged: runs shorter than 1 s") == short
    compare = quick["parallel_compare"]
    assert compare["runs"] == 8 and compare["speedup_2_workers"]["median"] > 0
    assert all(r["median"] > 0 for r in compare["replications_per_second"].values())
    compare_target = quick["targets"]["compare: 2 workers / 1 worker (runs >= 1 s)"]
    assert compare_target["value"] == compare["speedup_2_workers"]["median"]
    memory = {key: entry for key, entry in quick["targets"].items() if "bytes" in key}
    # --quick runs no million leads: the peak is extrapolated, and says so.
    peak = quick["targets"]["1,000,000-lead Conveyor peak RSS, MiB (extrapolated)"]
    assert peak["target"] == "< 1,024" and peak["met"] == (peak["value"] < 1024)
    marginal = next(entry for key, entry in memory.items() if key.startswith("marginal peak"))
    slope = quick["scaling"]["memory_marginal_bytes_per_lead"][-1]
    assert marginal["value"] == slope and marginal["met"] == (slope <= 600)


def test_engines_agree(quick):
    engine = quick["engine"]
    # salesim, minimal SimPy and the floor run the same leads FCFS: identical waits.
    assert engine["max_lead_by_lead_wait_difference_days"] < 1e-9
    # Every engine (Ciw with random numbers of its own) near Erlang C, loosely:
    # a few thousand leads give a stage-1 mean wait within some 10-20 %.
    theory = engine["erlang_c_stage1_wait_days"]
    for name in engine["engines"]:
        mean = engine["stage1_wait"][name]["mean_days"]
        assert math.isfinite(mean) and abs(mean / theory - 1.0) < 0.5, (name, mean, theory)


def test_each_effect_group_off_changes_only_its_own_settings():
    full = bench.scaled_conveyor(3650)
    before = full.model_dump(mode="json")
    changed = {}
    for group in bench.EFFECT_GROUPS:
        after = bench.one_group_off(full, group).model_dump(mode="json")
        changed[group] = {key for key in before if after[key] != before[key]}
    assert changed == {
        "calendar": {"calendar"},
        "calendar_machinery": {"calendar"},
        "people": {"people"},
        "decay": {"decay"},
        "accounts": {"accounts", "referrals"},
        "referrals": {"referrals"},
        "fulfilment": {"fulfilment"},
    }
    assert not bench.one_group_off(full, "calendar").calendar.enabled
    machinery = bench.one_group_off(full, "calendar_machinery").calendar
    assert machinery.enabled and machinery.days_per_week == 7 and machinery.hours_per_day == 24
    assert not bench.one_group_off(full, "people").people.turnover.enabled
    decay = bench.one_group_off(full, "decay").decay
    assert decay.mean_patience_days is None and decay.half_life_days is None
