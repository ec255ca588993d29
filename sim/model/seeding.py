"""The seed tree: root seed -> replication -> named streams.

Think of a card dealer who shuffles one deck per table: every structure that
sits at table ``r`` (replication ``r``) is dealt exactly the same cards (common
random numbers), and different tables get independent decks.

``np.random.SeedSequence(seed, spawn_key=(r,))`` is the ``r``-th child of the
root, whatever the number of replications, so replication 3 sees the same leads
in a 5-replication run, a 50-replication run and every point of a sweep.
Each replication splits into named streams in a fixed order; adding a stream
at the end never changes the ones before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STREAM_NAMES: tuple[str, ...] = ("leads", "accounts", "work", "outbound")


@dataclass(frozen=True)
class Streams:
    """The seed sequences of one replication, one per purpose.

    Attributes:
        leads: the lead stream (arrivals, segments, values, every pre-drawn chance).
        accounts: the parent of one child per account (churn, expansion, reviews),
            keyed by lead id so it does not depend on which structure won the deal.
        work: randomness that belongs to a structure's people, not to the leads
            (one child per role and seat: when its reps leave).
        outbound: the prospects that outbound lead generation can reach and the
            answers to its touches (``sim.model.outbound``), keyed by their numbers.
    """

    replication: int
    leads: np.random.SeedSequence
    accounts: np.random.SeedSequence
    work: np.random.SeedSequence
    outbound: np.random.SeedSequence


def replication_streams(seed: int, replication: int) -> Streams:
    """The streams of replication ``replication`` under root seed ``seed``."""
    rep_seq = np.random.SeedSequence(seed, spawn_key=(replication,))
    # Spawned children are numbered: a fourth stream leaves the first three as they were.
    leads, accounts, work, outbound = rep_seq.spawn(len(STREAM_NAMES))
    return Streams(replication, leads, accounts, work, outbound)


def keyed_rng(parent: np.random.SeedSequence, *keys: int) -> np.random.Generator:
    """A generator private to one thing, derived from its ids alone (not event order).

    With ``Streams.accounts`` and a lead id, the account that lead became meets
    the same luck in every structure that wins it. With ``Streams.work``, a
    role and a seat number within the role, that seat sees the same turnover
    draws in every structure, and drawing them never shifts any other stream.
    """
    key = tuple(parent.spawn_key) + tuple(int(k) for k in keys)
    return np.random.default_rng(np.random.SeedSequence(parent.entropy, spawn_key=key))


def independent_seed(seed: int, structure: str) -> int:
    """A root seed of a structure's own, for comparisons *without* common random numbers.

    The comparison report measures how much common random numbers tighten the
    confidence intervals by running each structure once more on lead streams
    of its own. The seed depends only on the scenario seed and the structure's
    name, so it is reproducible and does not change when other structures are
    added or left out.

    Args:
        seed: the scenario's root seed.
        structure: the structure's name.

    Returns:
        A non-negative 63-bit seed, different for every structure.
    """
    words = np.random.SeedSequence([seed, *structure.encode()]).generate_state(2, dtype=np.uint32)
    return (int(words[0]) << 31) | (int(words[1]) >> 1)
