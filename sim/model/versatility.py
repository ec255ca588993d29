"""Versatility inside a pod: an idle member takes a waiting task of another role.

Like a small shop where the cashier stacks shelves when nobody is at the till,
and the shelf-stacker opens a second till when the line grows: the pod's
pooled sales teams (lead gen, qualifiers, closers) lend each other their idle
people. A rep whose own team's queue is empty takes the first waiting task
of another team of the pod, and a task that finds its own team busy goes to
an idle colleague of another role at once; either way the task costs
``effort_factor`` times its effort and passes at ``pass_prob_factor`` of its
probability (``structures.pods.versatility``). Teams are asked downstream
first (closers, then qualifiers, then lead gen): work nearest to revenue first
(an assumption). Own work always comes first: a rep covers only when their
own queue is empty.

The lending happens in the pools: a ``CoverPool`` grants a request with a
server of another pool of the pod (``Grant.pool`` becomes that pool, so the
server goes back to it when the task ends), and ``covering`` tells the task
which team's person works it. A leaver's seat block is never lent or
borrowed. Time unit: days.
"""

from __future__ import annotations

from sim.config.scenario import VersatilityConfig
from sim.model.pools import Grant, Pool, PriorityPool
from sim.model.teams import PROSPECTING_PRIORITY, SEAT_BLOCK_PRIORITY, Team


class CoverPool(Pool):
    """A pooled team's queue that borrows idle colleagues of the pod and lends its own.

    Attributes:
        team: the team whose people are this pool's servers.
        colleagues: the other pools of the pod, downstream first.
    """

    __slots__ = ("team", "colleagues")

    def __init__(self, team: Team, capacity: int):
        super().__init__(team.resource.env, capacity)
        self.team = team
        self.colleagues: tuple[CoverPool, ...] = ()

    def wait(self, grant: Grant) -> None:
        """A task found every own server busy: an idle colleague of another role takes it."""
        if coverable(grant):
            for other in self.colleagues:
                if other.free:
                    other.free -= 1
                    grant.pool = other
                    grant.grant()
                    return
        super().wait(grant)

    def release(self) -> None:
        """A server is free: own queue first, else the first waiting task of a colleague.

        Prospecting (``outbound.py``) comes last: after a colleague's waiting task.
        """
        queue = self.queue
        if queue and not prospecting(queue[0]):
            queue.popleft().grant()
            return
        for other in self.colleagues:
            for grant in other.queue:
                if coverable(grant):
                    other.queue.remove(grant)
                    grant.pool = self
                    grant.grant()
                    return
        if queue:
            queue.popleft().grant()
            return
        self.free += 1


class PriorityCoverPool(CoverPool, PriorityPool):
    """A ``CoverPool`` whose own queue is served by priority (a pod with turnover)."""

    __slots__ = ()


def coverable(grant: Grant) -> bool:
    """Whether a colleague may serve the request: any task, but not a seat block or prospecting."""
    return grant.key is None or grant.key[0] not in (SEAT_BLOCK_PRIORITY, PROSPECTING_PRIORITY)


def prospecting(grant: Grant) -> bool:
    """Whether the request is a block of outbound prospecting (``outbound.py``)."""
    return grant.key is not None and grant.key[0] == PROSPECTING_PRIORITY


def enable_cover(teams: list[Team], versatility: VersatilityConfig) -> None:
    """Let the pod's pooled teams cover for each other (before the run starts).

    Args:
        teams: the pod's sales teams in stage order (lead gen, qualifiers, closers).
        versatility: the efficiency of a task worked outside one's role.
    """
    pooled = [team for team in teams if team.pooled]
    if not versatility.enabled or len(pooled) < 2:
        return
    pools = []
    for team in pooled:
        kind = PriorityCoverPool if team.priority_pool else CoverPool
        pool = kind(team, team.resource.free)
        team.resource = pool
        team.cover = versatility
        pools.append(pool)
    for pool in pools:
        pool.colleagues = tuple(other for other in reversed(pools) if other is not pool)


def covering(team: Team, grant: Grant, effort_days: float) -> tuple[Team, float, float]:
    """Who works a granted task of ``team``: ``(their team, effort_days, pass factor)``.

    A colleague of another role takes ``effort_factor`` times the effort and
    passes at ``pass_prob_factor``; the team's own people are unchanged.
    """
    worker = grant.pool.team
    if worker is team:
        return team, effort_days, 1.0
    cover = team.cover
    return worker, effort_days * cover.effort_factor, cover.pass_prob_factor
