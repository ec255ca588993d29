"""Nurture: a lead that went cold may come back, with a stated probability and delay.

Like a marketing nurture programme: a lead nobody got to in time (it ran out
of patience, or every rep was full) is not thrown away; it gets newsletters
for a while, and some leads warm up and come back to the desk they left.
Whether a lead comes back and after how long are the lead's own luck, drawn
from a generator keyed by the lead's key and its visit number (``seeding.
keyed_rng``), so the same lead meets the same luck in every structure
(common random numbers) and nothing is stored per lead while it is not in
nurture. A lead that comes back re-enters the queue of the stage it left,
warm again (its waiting no longer weighs on its pass probability).

Time unit: days.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.config.scenario import STAGES
from sim.model.seeding import keyed_rng

if TYPE_CHECKING:
    import numpy as np

    from sim.model.journey import Deal
    from sim.model.state import Run

NURTURE_KEY = 0x6E75
"""First key of every nurture draw under the replication's lead stream's seed."""


def nurture_draws(
    seed: np.random.SeedSequence, key: tuple[int, ...], visit: int
) -> tuple[float, float]:
    """(uniform deciding the return, unit-mean exponential delay) of one visit of one lead."""
    rng = keyed_rng(seed, NURTURE_KEY, *key, visit)
    return float(rng.random()), float(rng.standard_exponential())


def nurture_visit(
    env: simpy.Environment, run: Run, deal: Deal, s: int, reason: int
) -> Generator[simpy.Event, Any, bool]:
    """``deal`` goes to nurture from stage ``s``: True when it comes back (after the delay).

    If its draw says it will not come back it is lost now, at the stage, for
    ``reason``; one that would come back after the horizon stays open.
    """
    cfg = run.routing.nurture
    log, lead = run.log, deal.lead
    visit = log.nurture_visits[lead]
    log.nurture_visits[lead] = visit + 1
    u, delay_unit = nurture_draws(run.routing.nurture_seed, run.leads.key(lead), visit)
    if u >= cfg.return_prob:
        log.lose(lead, env.now, STAGES[s], reason)
        return False
    delay = cfg.mean_delay_days
    if cfg.delay_distribution == "exponential":
        delay *= delay_unit
    yield env.timeout(delay)
    log.nurture_returns[lead] += 1
    log.stage_queue_day[s][lead] = env.now
    deal.waited = 0.0
    return True
