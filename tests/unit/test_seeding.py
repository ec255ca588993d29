"""Keyed generators are numpy's SeedSequence children to the bit, without building one."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.seeding import (
    KeyedSeed,
    _entropy_key,
    _parent_pool,
    keyed_rng,
    replication_streams,
)

PARENTS = [
    np.random.SeedSequence(12345),
    np.random.SeedSequence(0, spawn_key=(3,)),
    replication_streams(2024, 7).accounts,  # a replication's stream: spawn key (7, 1)
    np.random.SeedSequence(2**100 + 17, spawn_key=(1, 2**40 + 3)),  # entropy of four words
    np.random.SeedSequence(2**160 + 5, spawn_key=(2,)),  # entropy of six words, past the pool
    np.random.SeedSequence([7, 2**33, 0, 9]),  # entropy given as a sequence
    np.random.SeedSequence(),  # entropy from the operating system
]
KEYS = [(), (0,), (5,), (2**32 - 1,), (2**32,), (2**70 + 1,), (4, 1), (4, 1, 3), (0, 0, 0, 0, 0)]


def numpy_child(parent: np.random.SeedSequence, keys: tuple[int, ...]) -> np.random.SeedSequence:
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, *keys))


@pytest.mark.parametrize("parent", PARENTS)
def test_a_keyed_seed_gives_numpys_words_and_the_generator_its_draws(parent):
    for keys in KEYS:
        child = numpy_child(parent, keys)
        pool, hash_const = _parent_pool(_entropy_key(parent.entropy), parent.spawn_key)
        seed = KeyedSeed(pool, hash_const, keys)
        assert seed.pool == list(child.pool), keys
        for n_words, dtype in ((8, np.uint32), (4, np.uint64), (3, np.uint64), (1, np.uint32)):
            expected = child.generate_state(n_words, dtype)
            words = seed.generate_state(n_words, dtype)
            assert words.dtype == expected.dtype and np.array_equal(words, expected), keys
        ours, theirs = keyed_rng(parent, *keys), np.random.default_rng(child)
        assert ours.bit_generator.state == theirs.bit_generator.state, keys
        assert np.array_equal(ours.random(5), theirs.random(5))


def test_the_parents_part_is_its_own_and_keyed_generators_are_independent():
    def pool(parent):
        return _parent_pool(_entropy_key(parent.entropy), parent.spawn_key)

    first, second = replication_streams(1, 0), replication_streams(1, 1)
    # Two parents that share the root entropy remember different pools.
    assert pool(first.accounts) != pool(second.accounts)
    a, b = keyed_rng(first.accounts, 3), keyed_rng(first.accounts, 3)
    assert a is not b and a.bit_generator is not b.bit_generator
    a.random(10)  # drawing from one leaves the other where it was
    assert np.array_equal(b.random(3), keyed_rng(first.accounts, 3).random(3))


def test_a_negative_key_or_a_signed_word_is_refused_like_numpy_does():
    parent = np.random.SeedSequence(1)
    with pytest.raises(ValueError):
        numpy_child(parent, (-1,))
    with pytest.raises(ValueError, match="non-negative"):
        keyed_rng(parent, -1)
    with pytest.raises(ValueError):
        parent.generate_state(2, np.int64)
    pool, hash_const = _parent_pool(_entropy_key(parent.entropy), parent.spawn_key)
    with pytest.raises(ValueError, match="uint32 or uint64"):
        KeyedSeed(pool, hash_const, (1,)).generate_state(2, np.int64)
