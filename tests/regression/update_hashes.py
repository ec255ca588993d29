"""Recompute the output hashes in ``output_hashes.json`` and print what changed.

    python -m tests.regression.update_hashes             # every variant: write, print changes
    python -m tests.regression.update_hashes baseline    # only these variants (others kept)
    python -m tests.regression.update_hashes --check     # print changes, write nothing
    python -m tests.regression.update_hashes --print pods  # the digests as JSON on stdout

``--check`` exits with 1 if anything changed. A commit that changes the
stored hashes must say why the outputs changed (a model change, a fixed bug,
a new column); a pure refactoring must leave them as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.regression.digest import describe_change, table_digest
from tests.regression.variants import TABLES, VARIANTS, run_tables

HASH_FILE = Path(__file__).with_name("output_hashes.json")
REGENERATE = "python -m tests.regression.update_hashes"
ABOUT = (
    "Digests of the output tables of tests/regression/variants.py (tests.regression.digest). "
    f"Regenerate with `{REGENERATE} [VARIANT ...]`; a commit that changes them must say why."
)


def load_hashes(path: Path = HASH_FILE) -> dict[str, dict]:
    """The stored digests by variant and table ({} if the file is missing)."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["variants"]


def variant_digests(name: str) -> dict[str, dict]:
    """Run one variant and digest its four tables."""
    tables = run_tables(name)
    return {table: table_digest(tables[table]) for table in TABLES}


def variant_changes(name: str, expected: dict | None, actual: dict) -> list[str]:
    """Lines ``variant: table: what changed`` (empty when nothing did)."""
    if expected is None:
        return [f"{name}: new variant"]
    lines = [
        f"{name}: {line}"
        for table in actual
        for line in describe_change(table, expected.get(table), actual[table])
    ]
    lines += [f"{name}: {table}: table removed" for table in expected if table not in actual]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__)
    parser.add_argument("variants", nargs="*", help=f"default: all ({', '.join(VARIANTS)})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare only, write nothing")
    mode.add_argument("--print", action="store_true", help="print the digests as JSON, no compare")
    args = parser.parse_args(argv)
    unknown = [name for name in args.variants if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    names = args.variants or list(VARIANTS)
    actual = {name: variant_digests(name) for name in names}
    if args.print:
        json.dump(actual, sys.stdout, indent=1)
        print()
        return 0
    stored = load_hashes()
    lines = [
        line for name in names for line in variant_changes(name, stored.get(name), actual[name])
    ]
    if not args.variants:
        lines += [f"{name}: variant removed" for name in stored if name not in VARIANTS]
    print("\n".join(lines) if lines else "no output changed")
    if args.check:
        return 1 if lines else 0
    merged = {name: actual.get(name, stored.get(name)) for name in VARIANTS}
    merged = {name: digests for name, digests in merged.items() if digests is not None}
    if lines:
        text = json.dumps({"about": ABOUT, "variants": merged}, indent=1)
        HASH_FILE.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {HASH_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
