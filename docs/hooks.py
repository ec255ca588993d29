"""MkDocs hook: the generated reference pages must match the code.

Some pages hold blocks generated from the code between HTML comment markers,
for example ``<!-- fields:start -->`` ... ``<!-- fields:end -->`` in
``reference/fields.md`` (the scenario field reference, from the pydantic
schema). The generated text is checked in, so the page reads the same on a
code host as on the site, and a change to the schema shows up in review as a
change to the page. This hook compares each block with what the code
generates now and warns when they differ, which fails ``mkdocs build
--strict`` (``make docs``); ``tests/unit/test_docs_and_scenarios.py`` makes
the same check in ``make test``.

Regenerate every block after changing the code::

    .venv/bin/python docs/hooks.py
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
log = logging.getLogger("mkdocs.plugins.salesim")


def _fields() -> str:
    from sim.cli.main import fields_markdown

    return fields_markdown()


def _kpis() -> str:
    from sim.analysis.kpis import kpi_reference_markdown

    return kpi_reference_markdown()


GENERATORS: dict[str, Callable[[], str]] = {
    "fields": _fields,
    "kpis": _kpis,
}
"""Marker name -> the function that generates the block's text from the code."""


def block_pattern(name: str) -> re.Pattern[str]:
    """The markers of one generated block and the text between them."""
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(\n<!-- {name}:end -->)", re.S)


def stale_blocks(text: str) -> list[str]:
    """Names of the generated blocks in ``text`` that differ from the code."""
    stale = []
    for name, generate in GENERATORS.items():
        for match in block_pattern(name).finditer(text):
            if match.group(2) != generate():
                stale.append(name)
    return stale


def regenerate(text: str) -> str:
    """``text`` with every generated block replaced by what the code generates now."""
    for name, generate in GENERATORS.items():
        text = block_pattern(name).sub(lambda m, g=generate: m.group(1) + g() + m.group(3), text)
    return text


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Warn (a failure under ``--strict``) when a generated block is out of date."""
    for name in stale_blocks(markdown):
        log.warning(
            "%s: the generated '%s' block differs from the code; run: "
            ".venv/bin/python docs/hooks.py",
            page.file.src_uri,
            name,
        )
    return markdown


if __name__ == "__main__":
    sys.path.insert(0, str(DOCS.parent))
    for path in sorted(DOCS.rglob("*.md")):
        old = path.read_text()
        new = regenerate(old)
        if new != old:
            path.write_text(new)
            print(f"regenerated {path.relative_to(DOCS.parent)}")
