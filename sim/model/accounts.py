"""Account care, as a SimPy process: a won deal from go-live to churn or the horizon.

Like a gym membership after the sale: the new customer is set up (go-live,
with fulfilment on), handed to the person who looks after them (an account
manager, or in All-In the rep who closed), and then reviewed at regular
intervals. At each review the account may churn (more likely when the review
waited too long, when its manager just left, or when go-live was late) or
grow (expansion), and it pays its annual value day by day meanwhile. A
well-served account may become an advocate and refer new leads
(``referrals.Advocacy``).

Each account's luck (churn and expansion coins, review efforts) comes from a
generator keyed by the lead, so the same account meets the same luck in
every structure that wins the deal.

Time unit: days.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.config.scenario import RELAYS
from sim.model.lead_table import ACCOUNT_RELAY, GO_LIVE_UNIT, HANDOFF_DELAY_UNIT, HANDOFF_U, Row
from sim.model.records import ACCOUNT_DROPPED, ACTIVE, CHURNED, LeadLog
from sim.model.referrals import Advocacy
from sim.model.routing import account_owner
from sim.model.seeding import keyed_rng
from sim.model.state import AccountsBook, Clock, Run
from sim.model.teams import REVIEW_PRIORITY, Rep, Route, Team, relay
from sim.model.work import OWNER_LEFT, stage_work

TO_ACCOUNTS = RELAYS.index("to_account_management")
assert TO_ACCOUNTS == ACCOUNT_RELAY, "the route's relay and the lead's draws for it agree"


class Account:
    """One won deal as an account: its value, who looks after it, what weighs on renewals.

    Attributes:
        lead: the lead's id.
        tier: its size tier.
        value: first-year contract value (expansion adds a share of it).
        annual_value: the value now, after expansions.
        team: the team that looks after it.
        handover_u, handover_delay_unit, go_live_unit: the lead's draws for the
            handover to the account manager and for the implementation.
        rep: who looks after it now; ``gone`` fires if they resign.
        since: when they took it (it counts in their book from the next period).
        fragile_until: a leaver's handover puts the account at risk until this day.
        context_loss: context lost at the handover (a shakier first renewal).
        late_go_live: whether the implementation missed its target.
        dropped_handover: whether the handover to its manager was dropped (under a
            contract it still bills, with a shakier first review).
    """

    __slots__ = (
        "lead", "tier", "value", "annual_value", "team", "handover_u", "handover_delay_unit",
        "go_live_unit", "rep", "gone", "since", "fragile_until", "context_loss", "late_go_live",
        "dropped_handover", "move_churn_multiplier",
    )  # fmt: skip

    def __init__(self, lead: int, tier: int, value: float, team: Team, draws: tuple):
        self.lead = lead
        self.tier = tier
        self.value = value
        self.annual_value = value
        self.team = team
        self.handover_u, self.handover_delay_unit, self.go_live_unit = draws
        self.rep: Rep | None = None
        self.gone: simpy.Event | None = None
        self.since = math.nan
        self.fragile_until = -math.inf
        self.context_loss = 0.0
        self.late_go_live = False
        self.dropped_handover = False
        self.move_churn_multiplier = 1.0  # a reorganisation's, at the review after the move

    @classmethod
    def won(cls, lead: int, tier: int, value: float, row: Row, team: Team) -> Account:
        """The account of a deal just won, with its draws from the lead's row."""
        draws = (
            row[HANDOFF_U + ACCOUNT_RELAY],
            row[HANDOFF_DELAY_UNIT + ACCOUNT_RELAY],
            row[GO_LIVE_UNIT],
        )
        return cls(lead, tier, value, team, draws)

    def take(self, rep: Rep, now: float) -> None:
        """``rep`` looks after the account from now: it joins their book."""
        self.rep = rep
        self.gone = rep.departure
        self.since = now
        rep.accounts += 1
        rep.book_value += self.annual_value

    def hand_over(self, now: float, fragile_days: float) -> None:
        """The manager resigned: a colleague takes the account, which is at risk for a while."""
        self.take(self.team.assign_owner(), now)
        self.fragile_until = now + fragile_days

    def in_book_since(self, clock: Clock, period: int) -> bool:
        """Whether the holder had the account at the period's start (it counts in their NRR)."""
        return self.since <= clock.period_edges[period]


def account_care(
    env: simpy.Environment, run: Run, account: Account, route: Route, closer: Rep
) -> Generator[simpy.Event, Any, None]:
    """A won deal as an account: go-live, periodic reviews, churn, expansion, revenue.

    With fulfilment on, the deal first waits for the operations team to
    implement it; then it is handed to its account manager. Revenue is
    recognised daily at the account's current annual value from the handover
    until it churns or the horizon ends (the last stretch is added by
    ``finish_accounts`` when the run stops). Under a contract, churn and
    expansion drawn at a review take effect at the next renewal
    (``Contract``); without one, at the review. With referrals on, a
    well-served account becomes an advocate (``Advocacy``).
    """
    if not (yield from open_account(env, run, account, route, closer)):
        return
    book = run.accounts
    if book.quiet_reviews and account.context_loss == 0:
        # Nothing can happen at its reviews but revenue: no process needed.
        book.quiet.append(account.lead)
        return
    cfg = book.cfg
    reviews = math.ceil((run.clock.horizon_days - account.since) / cfg.review_interval_days) + 1
    key = run.leads.key(account.lead)
    if account.since + cfg.review_interval_days < run.clock.horizon_days:
        book.first_reviews.append((account.lead, key, reviews))  # see ``review_draws``
    advocacy = Advocacy(run, account.lead) if book.referrals is not None else None
    contract = Contract(account.since, cfg.contract_days) if cfg.contract_days else None
    for review in range(reviews):
        if contract is None:
            yield env.timeout(cfg.review_interval_days)
        elif (yield from contract.until_review(env, run, account, cfg.review_interval_days)):
            return  # the customer did not renew
        if review == 0:
            # Drawn when first needed: an account won less than one review interval
            # before the horizon never has a review and never pays for a generator.
            churn_u, expand_u, effort_units = review_draws(book, account.lead, key, reviews)
        if run.reorganisation is not None:
            run.reorganisation.move_account(env, run, account)
        if book.turnover is not None and account.gone.triggered:
            account.hand_over(env.now, book.turnover.leaver_churn_days)
        neglected = False
        if cfg.mean_review_effort_days > 0:
            neglected = yield from review_work(env, run, account, effort_units[review])
        recognise_revenue(run.log, account.lead, account.annual_value, env.now)
        if contract is not None and contract.leaving:
            continue  # notice given: nothing left to decide until the renewal
        draws = (churn_u[review], expand_u[review])
        if review_decides(run, account, review, neglected, draws, contract, advocacy):
            return


def review_decides(
    run: Run,
    account: Account,
    review: int,
    neglected: bool,
    draws: tuple[float, float],
    contract: Contract | None,
    advocacy: Advocacy | None,
) -> bool:
    """What the customer decides at a review: leave, grow, or stay; True if it left now.

    Without a contract, churn and expansion happen at the review; under one,
    they are noted on the contract for its renewal.
    """
    env, cfg = run.clock.env, run.accounts.cfg
    churn_u, expand_u = draws
    fragile = env.now < account.fragile_until
    advocate = advocacy is not None and advocacy.advocate
    if churn_u < churn_probability(run, account, review, neglected, fragile, advocate):
        if advocacy is not None:
            advocacy.review(env, False, 0.0)
        if contract is None:
            account_churns(run, account)
            return True
        contract.leaving = True  # bills until the renewal, then leaves
        return False
    if expand_u < cfg.expansion_prob_per_review:
        if contract is None:
            account_expands(run, account)
        else:
            contract.expansions += 1
    if advocacy is not None:
        first_bad = review == 0 and (account.late_go_live or account.dropped_handover)
        well_served = not (neglected or fragile or first_bad)
        advocacy.review(env, well_served, cfg.review_interval_days)
    return False


class Contract:
    """A customer's contract: renewal dates, and what the term's reviews decided.

    Like a gym's annual membership: a member who decides in March to quit
    still pays until the renewal in January, and an upgrade agreed during the
    year starts with the new term.

    Attributes:
        term_days: the contract's length.
        renewal_day: the next renewal.
        leaving: a review of this term decided the customer will not renew.
        expansions: expansions agreed in this term, which start at the renewal.
    """

    __slots__ = ("term_days", "renewal_day", "leaving", "expansions")

    def __init__(self, start_day: float, term_days: float):
        self.term_days = term_days
        self.renewal_day = start_day + term_days
        self.leaving = False
        self.expansions = 0

    def until_review(
        self, env: simpy.Environment, run: Run, account: Account, interval_days: float
    ) -> Generator[simpy.Event, Any, bool]:
        """Wait for the next review, renewing on the way; True if the customer left at one."""
        review_day = env.now + interval_days
        while self.renewal_day <= review_day:
            # A renewal that fell while the last review waited for its rep is
            # settled when that review is done: a few days late, never early.
            yield env.timeout(max(0.0, self.renewal_day - env.now))
            if self.renew(run, account):
                return True
        yield env.timeout(review_day - env.now)
        return False

    def renew(self, run: Run, account: Account) -> bool:
        """The renewal date: a leaving customer churns, agreed expansions start; True if left."""
        now = run.clock.env.now
        recognise_revenue(run.log, account.lead, account.annual_value, now)
        if self.leaving:
            account_churns(run, account)
            return True
        for _ in range(self.expansions):
            account_expands(run, account)
        self.expansions = 0
        self.renewal_day += self.term_days
        return False


def open_account(
    env: simpy.Environment, run: Run, account: Account, route: Route, closer: Rep
) -> Generator[simpy.Event, Any, bool]:
    """Go-live (with fulfilment on), then the handover; False if the account was lost.

    In All-In the rep who closed keeps the customer; elsewhere the account is
    relayed to the account team, which can drop it or lose context. Under a
    contract a dropped customer still bills: someone picks the account up,
    and its first review is shakier (``dropped_handover``); without one, it
    is lost.
    """
    log, lead = run.log, account.lead
    if run.accounts.ops is not None:
        account.late_go_live = yield from go_live(env, run, account)
    if account.team is route.teams[-1]:
        account.take(closer, env.now)
    else:
        costs = route.relays[TO_ACCOUNTS]
        loss, _ = yield from relay(env, costs, account.handover_u, account.handover_delay_unit)
        if loss is None:
            log.account_handover_dropped[lead] = True
            if not run.accounts.cfg.contract_months:
                log.account_outcome[lead] = ACCOUNT_DROPPED
                log.account_end_day[lead] = env.now
                return False
            account.dropped_handover = True
            loss = costs.context_loss  # nobody passed the context on either
        account.context_loss = loss * run.tiers.complexity[account.tier]
        account.take(account_owner(run, account.tier, account.team), env.now)
    log.account_handler[lead] = account.rep.rep_id
    log.account_start_day[lead] = env.now
    log.account_outcome[lead] = ACTIVE
    log.account_value[lead] = account.value
    log.revenue_until_day[lead] = env.now
    return True


def go_live(
    env: simpy.Environment, run: Run, account: Account
) -> Generator[simpy.Event, Any, bool]:
    """The operations team implements a new customer; returns whether go-live was late."""
    won = env.now
    fulfilment = run.accounts.fulfilment
    effort = fulfilment.mean_effort_days * account.go_live_unit * run.tiers.effort[account.tier]
    calendar = run.clock.calendar
    with run.accounts.ops.request() as request:
        yield request
        # The operations team keeps office hours (no leave: a team, not seats).
        yield env.timeout(effort if calendar is None else calendar.company_span(env.now, effort))
    run.log.go_live_day[account.lead] = env.now
    return env.now - won > fulfilment.target_days


def review_work(
    env: simpy.Environment, run: Run, account: Account, effort_unit: float
) -> Generator[simpy.Event, Any, bool]:
    """The manager reviews the account, competing with sales work; returns whether neglected.

    A review that waited longer than ``neglect_after_days`` neglected the
    account. If the manager resigns while it waits, a colleague takes over.
    """
    book, clock = run.accounts, run.clock
    cfg = book.cfg
    priority = REVIEW_PRIORITY[cfg.review_priority]
    queued = env.now
    effort = cfg.mean_review_effort_days * effort_unit * run.tiers.effort[account.tier]
    while True:
        gone = account.gone if book.turnover is not None else None
        done = yield from stage_work(
            env, clock, account.team, account.rep, effort, None, priority, gone
        )
        if done is not OWNER_LEFT:
            break
        account.hand_over(env.now, book.turnover.leaver_churn_days)
    rep, start, _ = done
    period = clock.period_of(env.now)
    rep.record.reviews[period] += 1
    rep.record.review_wait_days[period] += start - queued
    neglected = start - queued > cfg.neglect_after_days
    if neglected:
        run.log.neglected_reviews[account.lead] += 1
    return neglected


def recognise_revenue(log: LeadLog, lead: int, annual_value: float, now: float) -> None:
    """The account's revenue since it was last recognised, at its annual value now."""
    log.revenue[lead] += annual_value * (now - log.revenue_until_day[lead]) / 365.0
    log.revenue_until_day[lead] = now


def churn_probability(
    run: Run, account: Account, review: int, neglected: bool, fragile: bool, advocate: bool
) -> float:
    """The chance that the account churns at this review.

    The base chance, raised by a neglected review, by a leaver's recent
    handover (``fragile``), by a key account looked after without a senior,
    and at the first review by a late go-live, a dropped handover (under a
    contract) and the context lost at the handover; lowered for an advocate.
    """
    book = run.accounts
    cfg = book.cfg
    churn = cfg.churn_prob_per_review * (cfg.neglect_churn_multiplier if neglected else 1.0)
    churn *= account.move_churn_multiplier  # 1 unless its holder changed at a reorganisation
    if fragile:
        churn *= book.turnover.leaver_churn_multiplier  # the relationship left with the manager
    senior_rule = run.tiers.senior_rule[account.tier]
    if senior_rule is not None and account.rep.record.level != "senior":
        churn *= senior_rule[1]  # a key account looked after without a senior
    if review == 0:
        if account.late_go_live:
            churn *= book.fulfilment.late_churn_multiplier
        if account.dropped_handover:
            churn *= cfg.dropped_handover_churn_multiplier
        # Context lost at the handover shows up as a shakier first renewal.
        churn = 1.0 - (1.0 - min(churn, 1.0)) * (1.0 - account.context_loss)
    if advocate:
        churn *= book.referrals.advocate_churn_multiplier
    return churn


def account_churns(run: Run, account: Account) -> None:
    """The account churns now: out of its holder's book, into the log."""
    clock, log = run.clock, run.log
    period = clock.period_of(clock.env.now)
    holder, value = account.rep, account.annual_value
    if not account.gone.triggered:
        holder.accounts -= 1
        holder.book_value -= value
    if account.in_book_since(clock, period):
        holder.record.churned_value[period] += value
    log.account_outcome[account.lead] = CHURNED
    log.account_end_day[account.lead] = clock.env.now


def account_expands(run: Run, account: Account) -> None:
    """The account grows by a share of its first-year value (in its holder's book too)."""
    clock = run.clock
    period = clock.period_of(clock.env.now)
    holder = account.rep
    added = run.accounts.cfg.expansion_fraction * account.value
    account.annual_value += added
    if not account.gone.triggered:
        holder.book_value += added
    if account.in_book_since(clock, period):
        holder.record.expansion_value[period] += added
    run.log.account_value[account.lead] = account.annual_value


def review_draws(
    book: AccountsBook, lead: int, key: tuple[int, ...], reviews: int
) -> tuple[array, array, array]:
    """``account_draws`` of an account at its first review, made with those of the accounts due one.

    One account's generator and draws, made alone mid-run, took about 190 µs
    at 30,000 leads (30 µs in a loop): numpy's code and data have left the
    processor's caches by the time the next account needs them. So the
    first account to reach its first review makes the draws of every account
    whose first review is to come before the horizon (``book.first_reviews``,
    noted as their care begins), one after another, and each takes its own
    later. An account's draws depend on its key alone (``keyed_rng``), so
    they are the same whenever they are made.
    """
    drawn = book.review_draws
    if lead not in drawn:
        for noted, noted_key, noted_reviews in book.first_reviews:
            drawn[noted] = account_draws(book.seed, noted_key, noted_reviews)
        book.first_reviews.clear()
    if lead not in drawn:  # a review its note did not expect: never, but never wrong
        return account_draws(book.seed, key, reviews)
    return drawn.pop(lead)


def account_draws(
    seed: np.random.SeedSequence, key: tuple[int, ...], reviews: int
) -> tuple[array, array, array]:
    """An account's own luck for its reviews: churn and expansion uniforms, effort units.

    The generator is keyed by the lead's key (its id, or a referral's origin),
    so the account meets the same luck in every structure that wins the deal.
    Each is an ``array("d")``, indexed like a list of floats: an account keeps
    its draws for the rest of the run, a few hundred bytes instead of a list's
    float objects.
    """
    rng = keyed_rng(seed, *key)
    # Three draws of ``reviews`` values into one buffer (the same calls, so the same
    # values), copied out at once. ``random`` is ``uniform(size=reviews)`` to the
    # bit (0 + 1 * u), for half the call's cost.
    drawn = np.empty(3 * reviews)
    rng.random(out=drawn[:reviews])
    rng.random(out=drawn[reviews : 2 * reviews])
    rng.standard_exponential(out=drawn[2 * reviews :])
    values = array("d", drawn.tobytes())
    return values[:reviews], values[reviews : 2 * reviews], values[2 * reviews :]


def finish_accounts(book: AccountsBook, log: LeadLog, clock: Clock) -> None:
    """At the horizon: recognise revenue of live accounts up to the last day."""
    interval = book.cfg.review_interval_days
    horizon_days = clock.horizon_days
    for lead in book.quiet:
        # The reviews account_care skipped, with its arithmetic in its order (same bits).
        value, until = log.account_value[lead], log.revenue_until_day[lead]
        day = until + interval
        while day < horizon_days:
            log.revenue[lead] += value * (day - until) / 365.0
            until, day = day, day + interval
        log.revenue_until_day[lead] = until
    for lead, outcome in enumerate(log.account_outcome):
        if outcome == ACTIVE:
            elapsed = horizon_days - log.revenue_until_day[lead]
            log.revenue[lead] += log.account_value[lead] * elapsed / 365.0
            log.revenue_until_day[lead] = horizon_days
