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

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.random.bit_generator import ISeedSequence

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

    The generator is ``default_rng(SeedSequence(parent.entropy, spawn_key=
    parent.spawn_key + keys))``, to the bit, at about half the cost (``KeyedSeed``);
    unlike that one, it cannot ``spawn`` children (nothing here asks it to).
    """
    pool, hash_const = _parent_pool(_entropy_key(parent.entropy), tuple(parent.spawn_key))
    return np.random.Generator(np.random.PCG64(KeyedSeed(pool, hash_const, keys)))


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx): its hash, in 32-bit words.
_POOL_WORDS = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_XSHIFT = 16
_WORD = 0xFFFFFFFF


class KeyedSeed(ISeedSequence):
    """The seed of one keyed generator: numpy's SeedSequence of the parent and keys, in part.

    A keyed generator is needed per account, per advocate, per seat: thousands
    a run. numpy's ``SeedSequence`` hashes the parent's entropy and spawn key
    again for each (9 of the 20 microseconds of a keyed generator), and hands
    out its words through ``np.errstate`` (5 more). The hash is a sequence of
    32-bit steps over the words in order, so the parent's part is worked out
    once (``_parent_pool``); a key's seed mixes in its own words only, and
    gives the words numpy's ``generate_state`` would (``tests/unit/test_seeding.py``
    checks both against numpy's).

    Attributes:
        pool: the hash's pool after the parent's and the keys' words.
        hash_const: the hash's multiplier after them.
    """

    __slots__ = ("pool", "hash_const")

    def __init__(self, pool: tuple[int, ...], hash_const: int, keys: tuple[int, ...]):
        mixed = list(pool)
        for key in keys:
            for word in _words(key):
                hash_const = _mix_in(mixed, hash_const, word)
        self.pool, self.hash_const = mixed, hash_const

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        """``SeedSequence.generate_state``: ``n_words`` words of ``dtype`` (uint32 or uint64)."""
        if np.dtype(dtype) not in (np.uint32, np.uint64):
            raise ValueError(f"seed words are uint32 or uint64, not {np.dtype(dtype)}")
        wide = np.dtype(dtype) == np.uint64
        pool, words, hash_const = self.pool, [], _INIT_B
        for i in range(2 * n_words if wide else n_words):
            next_const = (hash_const * _MULT_B) & _WORD
            value = ((pool[i % _POOL_WORDS] ^ hash_const) * next_const) & _WORD
            words.append(value ^ (value >> _XSHIFT))
            hash_const = next_const
        if wide:  # little-endian pairs, as numpy views them on any machine
            words = [low | high << 32 for low, high in zip(words[::2], words[1::2], strict=True)]
        return np.array(words, dtype=dtype)


def _words(value: int) -> list[int]:
    """A non-negative integer's 32-bit words, lowest first (0 is one word)."""
    value = int(value)
    if value < 0:
        raise ValueError(f"seed keys must be non-negative, got {value}")
    words = [value & _WORD]
    while value := value >> 32:
        words.append(value & _WORD)
    return words


def _hashmix(value: int, hash_const: int) -> tuple[int, int]:
    """One step of SeedSequence's hash: the word hashed, and the next multiplier."""
    value = (value ^ hash_const) & _WORD
    hash_const = (hash_const * _MULT_A) & _WORD
    value = (value * hash_const) & _WORD
    return value ^ (value >> _XSHIFT), hash_const


def _mix(into: int, value: int) -> int:
    """SeedSequence's mix of a hashed word into a pool word."""
    result = (_MIX_MULT_L * into - _MIX_MULT_R * value) & _WORD
    return result ^ (result >> _XSHIFT)


def _mix_in(pool: list[int], hash_const: int, word: int) -> int:
    """Mix one more entropy word into every pool word; returns the next multiplier.

    ``_mix(pool[i], _hashmix(word, ...))`` written out: called for every key
    of every keyed generator, where the two calls would cost as much as the arithmetic.
    """
    for i in range(_POOL_WORDS):
        next_const = (hash_const * _MULT_A) & _WORD
        value = ((word ^ hash_const) * next_const) & _WORD
        value ^= value >> _XSHIFT
        hash_const = next_const
        result = (_MIX_MULT_L * pool[i] - _MIX_MULT_R * value) & _WORD
        pool[i] = result ^ (result >> _XSHIFT)
    return hash_const


def _entropy_key(entropy: int | Sequence[int]) -> tuple[int, ...]:
    """A seed sequence's entropy as a tuple of integers (hashable, for ``_parent_pool``)."""
    return (int(entropy),) if isinstance(entropy, int | np.integer) else tuple(map(int, entropy))


@functools.lru_cache(maxsize=64)
def _parent_pool(
    entropy: tuple[int, ...], spawn_key: tuple[int, ...]
) -> tuple[tuple[int, ...], int]:
    """SeedSequence's pool and multiplier after a parent's entropy and spawn key.

    A pure function of its arguments, remembered because every keyed
    generator of a run has one of a handful of parents. The entropy is padded
    to the pool's four words, as SeedSequence does when a spawn key follows.
    """
    words = [w for value in entropy for w in _words(value)]
    words += [0] * (_POOL_WORDS - len(words))
    words += [w for key in spawn_key for w in _words(key)]
    pool, hash_const = [], _INIT_A
    for word in words[:_POOL_WORDS]:
        hashed, hash_const = _hashmix(word, hash_const)
        pool.append(hashed)
    for source in range(_POOL_WORDS):
        for target in range(_POOL_WORDS):
            if source != target:
                hashed, hash_const = _hashmix(pool[source], hash_const)
                pool[target] = _mix(pool[target], hashed)
    for word in words[_POOL_WORDS:]:
        hash_const = _mix_in(pool, hash_const, word)
    return tuple(pool), hash_const


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
