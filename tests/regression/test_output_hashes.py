"""The output tables of the shipped scenarios and tied-time variants are unchanged.

Each variant of ``tests/regression/variants.py`` is run and its ``leads``,
``reps``, ``samples`` and ``kpis`` tables are digested
(``tests/regression/digest.py``) and compared with ``output_hashes.json``.
A refactoring (moving code into subpackages, optimising) must leave them
bit-identical; a change that is meant to change results regenerates the file
and says why in its commit message.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.regression.update_hashes import (
    HASH_FILE,
    REGENERATE,
    load_hashes,
    variant_changes,
    variant_digests,
)
from tests.regression.variants import ROOT, VARIANTS

STORED = load_hashes()
COMPUTED: dict[str, dict] = {}  # digests computed in this process, for the determinism check
DETERMINISM_VARIANT = "pods"  # cheap, every effect on, two pods with overflow


def _digests(name: str) -> dict:
    if name not in COMPUTED:
        COMPUTED[name] = variant_digests(name)
    return COMPUTED[name]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_output_tables_unchanged(name):
    actual = _digests(name)
    lines = variant_changes(name, STORED.get(name), actual)
    assert not lines, (
        f"The output tables of variant {name!r} (tests/regression/variants.py) changed:\n  "
        + "\n  ".join(lines)
        + f"\nIf the change is meant, regenerate {HASH_FILE.name} with `{REGENERATE} {name}` "
        f"(or with no name for every variant) and say in the commit message why the outputs "
        f"changed. If it is not (a refactoring, an optimisation), find what altered the results."
    )


def test_hash_file_has_exactly_the_variants():
    assert list(STORED) == list(VARIANTS), (
        f"{HASH_FILE.name} and tests/regression/variants.py list different variants: "
        f"regenerate with `{REGENERATE}`"
    )


def test_same_digests_twice_in_one_process():
    first = _digests(DETERMINISM_VARIANT)
    assert variant_digests(DETERMINISM_VARIANT) == first


FRESH_PROCESSES = {
    # Another hash seed: output must not depend on set or dict-of-str iteration order.
    "hash seed": {"PYTHONHASHSEED": "12345"},
    # Another BLAS kernel (OpenBLAS picks one by processor; the oldest x86 one here):
    # output must not depend on the machine. Matrix products and np.polyfit did.
    "BLAS kernel": {"OPENBLAS_CORETYPE": "Prescott"},
}


@pytest.mark.parametrize("change", list(FRESH_PROCESSES))
def test_same_digests_in_a_fresh_process(change):
    env = {**os.environ, **FRESH_PROCESSES[change]}
    done = subprocess.run(
        [sys.executable, "-m", "tests.regression.update_hashes", "--print", DETERMINISM_VARIANT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    fresh = json.loads(done.stdout)[DETERMINISM_VARIANT]
    here = _digests(DETERMINISM_VARIANT)
    assert fresh == here, variant_changes(DETERMINISM_VARIANT, here, fresh)
