"""Advocates and the leads they refer: where the lead stream depends on the structure.

Like a happy customer who tells a friend: an account that has been well
served for a few reviews in a row becomes an advocate, churns less, and
passes on referrals, which arrive as new leads that convert better and move
faster (``lead_table.referral_table``). Whether an account is an advocate
depends on how the structure served it; the referral chances themselves are
drawn from the account's own keyed stream, so the same chances (and the same
prospects) exist in every structure, and only which become leads differs.

Time unit: days.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from sim.model.lead_table import ReferralChance, referral_chance_list
from sim.model.leads import referral_chances
from sim.model.seeding import keyed_rng
from sim.model.state import Run

REFERRAL_BRANCH = 1
"""Key suffix of an account's referral stream: ``keyed_rng(accounts, *lead_key, 1)``."""


class Advocacy:
    """Whether one account is an advocate, and the referral leads it brings meanwhile.

    The account's referral chances are drawn from its own keyed stream the
    first time it becomes an advocate (``leads.referral_chances``). After each
    review, a chance that falls before the next review becomes a lead if the
    account is an advocate now: advocacy changes only at reviews.
    """

    __slots__ = ("run", "lead", "streak", "advocate", "chances", "next_chance")

    def __init__(self, run: Run, lead: int):
        self.run = run
        self.lead = lead
        self.streak = 0
        self.advocate = False
        self.chances: list[ReferralChance] | None = None
        self.next_chance = 0

    def review(self, env: simpy.Environment, well_served: bool, until_next: float) -> None:
        """Update advocacy after a review, and start the referrals due before the next one."""
        run, log = self.run, self.run.log
        cfg = run.accounts.referrals
        self.streak = self.streak + 1 if well_served else 0
        self.advocate = self.streak >= cfg.reviews_to_advocate
        log.advocate[self.lead] = self.advocate
        if not self.advocate:
            return
        if math.isnan(log.advocate_day[self.lead]):
            log.advocate_day[self.lead] = env.now
        if self.chances is None:
            self.draw_chances()
        chances = self.chances
        # Chances while the account was not an advocate have passed unused.
        while self.next_chance < len(chances) and chances[self.next_chance].day <= env.now:
            self.next_chance += 1
        due = []
        end = min(env.now + until_next, run.clock.horizon_days)
        while self.next_chance < len(chances) and chances[self.next_chance].day <= end:
            due.append(self.next_chance)
            self.next_chance += 1
        if due:
            env.process(referral_arrivals(env, run, self.lead, chances, due))

    def draw_chances(self) -> None:
        """The account's referral chances over the horizon, with their lead-table rows."""
        run = self.run
        scenario = run.leads.scenario
        rng = keyed_rng(run.accounts.seed, *run.leads.key(self.lead), REFERRAL_BRANCH)
        rate_per_day = run.accounts.referrals.per_advocate_per_year / 365.0
        mix = run.leads.mix  # worked out once per run, not per advocate
        chances = referral_chances(scenario, rate_per_day, rng, mix)
        self.chances = referral_chance_list(chances, scenario, mix)


def referral_arrivals(
    env: simpy.Environment, run: Run, referrer: int, chances: list[ReferralChance], due: list[int]
) -> Generator[simpy.Event, Any, None]:
    """Start the journey of each referral chance that came due, at its day."""
    # Imported here: a referral's journey may end in an account that refers again
    # (journey -> accounts -> referrals -> journey).
    from sim.model.journey import lead_journey

    for j in due:
        chance = chances[j]
        if chance.day > env.now:
            yield env.timeout(chance.day - env.now)
        lead = run.log.add_lead()
        run.log.referred_by[lead] = referrer
        key = (*run.leads.key(referrer), REFERRAL_BRANCH, j)
        run.leads.add_referral(key, chance)
        route = run.org.segment_routes[chance.segment]
        env.process(lead_journey(env, run, lead, route))
