"""A stream's luck kept as a recipe is drawn again exactly as the whole draw held it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.config.scenario import Scenario
from sim.model.leads import (
    FEW_LEADS,
    LeadMix,
    _choose,
    _drifting_segments,
    _drifting_segments_of_few,
    arrival_times,
    cumulative_shares,
    draw_leads,
    generate_leads,
)
from sim.model.luck import LUCK_CHUNK_LEADS, LeadLuck, LuckDraw, draw_luck, luck_draws

EVERY_KIND = (
    LuckDraw("pass_u", None, "uniform", width=3),
    LuckDraw("handoff_delay_units", None, "exponential", width=3),
    LuckDraw("effort_units", 0, "gamma", cv=0.5),
    LuckDraw("effort_units", 1, "gamma", cv=2.0),  # shape 0.25: gamma's other algorithm
    LuckDraw("effort_units", 2, "deterministic"),
    LuckDraw("overflow_u", None, "uniform"),
    LuckDraw("go_live_units", None, "exponential"),
)

LEADS = 2 * LUCK_CHUNK_LEADS + 123  # three chunks, the last one short


@pytest.mark.parametrize(
    ("first", "stop"),
    [
        (0, LEADS),
        (0, LUCK_CHUNK_LEADS),
        (LUCK_CHUNK_LEADS - 2, LUCK_CHUNK_LEADS + 3),  # across a chunk boundary
        (2 * LUCK_CHUNK_LEADS, LEADS + 50),  # the short last chunk, past the end
        (17, 17),
    ],
)
def test_rows_drawn_again_are_the_whole_draws_rows(first, stop):
    whole = draw_luck(EVERY_KIND, LEADS, np.random.default_rng(3))
    luck = LeadLuck.record(EVERY_KIND, LEADS, np.random.default_rng(3))
    rows = luck.rows(first, stop)
    assert rows.keys() == whole.keys()
    for field, values in whole.items():
        assert np.array_equal(rows[field], values[first:stop]), field


def test_recording_leaves_the_generator_where_the_whole_draw_does():
    eager, chunked = np.random.default_rng(8), np.random.default_rng(8)
    draw_luck(EVERY_KIND, LEADS, eager)
    luck = LeadLuck.record(EVERY_KIND, LEADS, chunked)
    assert eager.bit_generator.state == chunked.bit_generator.state
    assert [len(states) for states in luck.states] == [3] * len(EVERY_KIND)


def test_a_generated_stream_keeps_its_luck_as_a_recipe_and_gives_the_held_draws():
    sc = Scenario.from_file(
        "scenarios/baseline.toml",
        ["leads.arrivals_per_day=30", "stages.closing.effort_distribution='gamma'"],
    )
    chunked = generate_leads(sc, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    held = draw_leads(sc, arrival_times(sc.leads, sc.horizon_days, rng), rng)
    assert len(chunked) > 2 * LUCK_CHUNK_LEADS
    assert chunked.pass_u is None and chunked.luck is not None
    assert held.luck is None and held.whole() is held
    # What the run holds for the whole horizon: the facts the lead table reports, 28 bytes a lead.
    held_bytes = sum(
        a.nbytes
        for a in (chunked.arrival_day, chunked.segment, chunked.tier, chunked.deal_value)
        + (chunked.quality,)
    )
    assert held_bytes == 28 * len(chunked)
    whole = chunked.whole()
    for draw in luck_draws(sc):
        assert np.array_equal(getattr(whole, draw.field), getattr(held, draw.field)), draw.field
    part = chunked.part(LUCK_CHUNK_LEADS - 1, LUCK_CHUNK_LEADS + 1)
    assert np.array_equal(part.effort_units, held.effort_units[LUCK_CHUNK_LEADS - 1 :][:2])
    assert np.array_equal(part.arrival_day, held.arrival_day[LUCK_CHUNK_LEADS - 1 :][:2])


@pytest.mark.parametrize(
    ("shares", "size"),
    [([0.5, 0.35, 0.15], 1000), ([0.2, 0.0, 0.8], 7), ([3.0, 1.0], 1), ([1.0], 5), ([0.3, 0.7], 0)],
)
def test_choosing_on_cumulative_shares_is_generator_choice(shares, size):
    """``_choose`` is what ``Generator.choice`` does with ``p``: the same codes, the same state."""
    weights = np.asarray(shares)
    by_choice, by_shares = np.random.default_rng(11), np.random.default_rng(11)
    expected = by_choice.choice(len(shares), size=size, p=weights / weights.sum())
    codes = _choose(cumulative_shares(shares), size, by_shares)
    assert codes.dtype == np.int16 and np.array_equal(codes, expected)
    assert by_choice.bit_generator.state == by_shares.bit_generator.state


def test_a_uniform_luck_draw_is_generator_uniform():
    """Drawn with ``random``, a uniform luck field has ``uniform``'s values to the bit."""
    for draw in (EVERY_KIND[0], EVERY_KIND[5]):
        by_uniform, by_draw = np.random.default_rng(4), np.random.default_rng(4)
        shape = (100, draw.width) if draw.width > 1 else 100
        assert np.array_equal(draw.draw(100, by_draw), by_uniform.uniform(size=shape))
        assert by_uniform.bit_generator.state == by_draw.bit_generator.state


@pytest.mark.parametrize("end_shares", [None, (0.0, 0.0, 1.0), (2.0, 1.0, 1.0)])
def test_drifting_segments_of_a_few_leads_are_the_whole_streams(end_shares):
    """Lead by lead in Python floats, the codes and the generator are the vectorised ones."""
    sc = Scenario.from_file("scenarios/baseline.toml")
    mix = LeadMix.of(sc)
    assert mix.segment_end_shares is not None  # the baseline's segments drift
    if end_shares is not None:  # a segment that dies out; shares that do not add up to 1
        mix = dataclasses.replace(mix, segment_end_shares=np.array(end_shares))
    rng = np.random.default_rng(9)
    for leads in (0, 1, 2, FEW_LEADS):
        for _ in range(50):
            days = np.sort(rng.uniform(0.0, sc.horizon_days, leads))
            few, many = np.random.default_rng(leads), np.random.default_rng(leads)
            codes = _drifting_segments_of_few(mix, days, sc.horizon_days, few)
            expected = _drifting_segments(mix, days, sc.horizon_days, many)
            assert codes.dtype == np.int16 and np.array_equal(codes, expected)
            assert few.bit_generator.state == many.bit_generator.state
