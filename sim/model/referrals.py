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

import numpy as np
import simpy

from sim.model.lead_table import ReferralChance, referral_chance_list
from sim.model.leads import draw_leads, referral_days
from sim.model.seeding import keyed_rng
from sim.model.state import Run

REFERRAL_BRANCH = 1
"""Key suffix of an account's referral stream: ``keyed_rng(accounts, *lead_key, 1)``."""


class Advocacy:
    """Whether one account is an advocate, and the referral leads it brings meanwhile.

    When the account's referral chances come up is drawn from its own keyed
    stream the first time it becomes an advocate (``leads.referral_days``);
    the prospects they bring, from the same stream when the first of them
    becomes a lead (``chance``): most advocates' chances never do, and the
    prospects of a few chances cost as much as a block of the lead stream.
    After each review, a chance that falls before the next review becomes a
    lead if the account is an advocate now: advocacy changes only at reviews.
    """

    __slots__ = (
        "run", "lead", "streak", "advocate", "rng", "days", "chances", "next_chance",
    )  # fmt: skip

    def __init__(self, run: Run, lead: int):
        self.run = run
        self.lead = lead
        self.streak = 0
        self.advocate = False
        self.rng: np.random.Generator | None = None
        self.days: list[float] | None = None
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
            if self.days is None and self.streak == cfg.reviews_to_advocate - 1:
                run.accounts.advocate_candidates.append(self)  # see ``draw_days_together``
            return
        if math.isnan(log.advocate_day[self.lead]):
            log.advocate_day[self.lead] = env.now
        if self.days is None:
            draw_days_together(run.accounts.advocate_candidates, self)
        days = self.days
        # Chances while the account was not an advocate have passed unused.
        while self.next_chance < len(days) and days[self.next_chance] <= env.now:
            self.next_chance += 1
        due = []
        end = min(env.now + until_next, run.clock.horizon_days)
        while self.next_chance < len(days) and days[self.next_chance] <= end:
            due.append(self.next_chance)
            self.next_chance += 1
        if due:
            if self.chances is None:
                run.accounts.prospects_due.append(self)  # see ``chance``
            env.process(referral_arrivals(env, run, self, due))

    def draw_days(self) -> None:
        """When the account's referral chances come up over the horizon (its first draws)."""
        run = self.run
        self.rng = keyed_rng(run.accounts.seed, *run.leads.key(self.lead), REFERRAL_BRANCH)
        rate_per_day = run.accounts.referrals.per_advocate_per_year / 365.0
        self.days = referral_days(run.leads.scenario, rate_per_day, self.rng).tolist()

    def chance(self, j: int) -> ReferralChance:
        """Referral chance ``j`` with its prospect and lead-table row, all drawn at the first.

        The prospects come from the account's generator after the days
        (``leads.referral_chances``' order), so they are the same whenever
        drawn: with this advocate's, those of every advocate with a chance
        come due (noted at its review) are drawn too, one after another, while
        numpy's code is in the processor's caches (alone, an advocate's took
        about 0.7 ms mid-run at 62,500 leads).
        """
        if self.chances is None:
            due = self.run.accounts.prospects_due
            for advocacy in (self, *due):
                if advocacy.chances is None:
                    advocacy.draw_prospects()
            due.clear()
        return self.chances[j]

    def draw_prospects(self) -> None:
        """The prospects of the account's referral chances, with their lead-table rows."""
        scenario, mix = self.run.leads.scenario, self.run.leads.mix
        prospects = draw_leads(scenario, np.array(self.days), self.rng, mix=mix)
        self.chances = referral_chance_list(prospects, scenario, mix)
        self.rng = None  # drawn: the generator is no longer needed


def draw_days_together(candidates: list[Advocacy], advocate: Advocacy) -> None:
    """``draw_days`` of a new advocate, and of the accounts that may become one next review.

    Made alone mid-run, an advocate's generator and days cost about 130 µs
    at 62,500 leads, most of it numpy's code coming back into the
    processor's caches; made one after another, a fraction of that. The
    candidates are the accounts one good review short of advocacy, noted at
    their review (``Advocacy.review``); those that have fallen back since
    draw later if ever. A generator is keyed by the account alone, so its
    draws are the same whenever they are made.
    """
    advocate.draw_days()
    one_short = advocate.run.accounts.referrals.reviews_to_advocate - 1
    for candidate in candidates:
        if candidate.days is None and candidate.streak >= one_short:
            candidate.draw_days()
    candidates.clear()


def referral_arrivals(
    env: simpy.Environment, run: Run, advocacy: Advocacy, due: list[int]
) -> Generator[simpy.Event, Any, None]:
    """Start the journey of each referral chance that came due, at its day."""
    # Imported here: a referral's journey may end in an account that refers again
    # (journey -> accounts -> referrals -> journey).
    from sim.model.journey import lead_journey

    referrer = advocacy.lead
    for j in due:
        day = advocacy.days[j]
        if day > env.now:
            yield env.timeout(day - env.now)
        chance = advocacy.chance(j)
        lead = run.log.add_lead()
        run.log.referred_by[lead] = referrer
        key = (*run.leads.key(referrer), REFERRAL_BRANCH, j)
        run.leads.add_referral(key, chance)
        route = run.org.segment_routes[chance.segment]
        env.process(lead_journey(env, run, lead, route))
