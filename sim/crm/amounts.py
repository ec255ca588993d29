"""Amounts as CRMs and spreadsheets write them: ``$1,200.00``, ``1.200,00 €``, ``1 200``.

The rules, per cell: a currency symbol (``$ € £ ¥ ₹``) or a three-letter code
(``USD``, ``EUR``) before or after the number is dropped; spaces, non-breaking
spaces and apostrophes between digits are thousands separators (``1 200``,
``1'200``); with both a dot and a comma, the last one is the decimal mark
(``1,200.50`` and ``1.200,50``); a mark that repeats (``1,200,000``) or is
followed by other than three digits (``1200,5``) tells which it is by itself.
What is left, one mark followed by exactly three digits (``1,200`` or ``1.200``),
is decided per file: it is the decimal mark only if the file's other cells show
that this is its decimal mark; otherwise it separates thousands, since a deal
value with three decimals is rarer than a thousand. Negative amounts, including
accounting's ``(300)``, and text that is not a number are bad amounts: the cell
counts as not recorded and the lead is kept (``bad_amount``).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

CURRENCY = re.compile(r"^(?:[A-Z]{3}|[A-Z]{0,2}[$€£¥₹])?\s*(.*?)\s*(?:[A-Z]{3}|[$€£¥₹])?$")
SEPARATORS = re.compile(r"(?<=\d)[\s\u00a0\u202f'’](?=\d)")
NUMBER = re.compile(r"^\d[\d.,]*$")


def _clean(text: str) -> tuple[str, bool] | None:
    """The digits and marks of one cell, and whether it is negative; None if not a number."""
    text = text.strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    if text[:1] in "-−":
        negative, text = True, text[1:].strip()
    number = CURRENCY.match(text).group(1)
    if number[:1] in "-−":  # $-300
        negative, number = True, number[1:]
    number = SEPARATORS.sub("", number)
    return (number, negative) if NUMBER.match(number) else None


def _decimal_mark(number: str) -> str | None:
    """The decimal mark this cell shows by itself, ``""`` for none, None if it cannot tell."""
    marks = [c for c in number if c in ".,"]
    if not marks:
        return ""
    if len(set(marks)) == 2:
        return marks[-1]
    if len(marks) > 1:
        return ""  # a repeated mark separates thousands
    return None if len(number) - number.index(marks[0]) - 1 == 3 else marks[0]


def _value(number: str, decimal: str) -> float | None:
    """The number, given its decimal mark (``""``: none); None if the marks make no sense."""
    if decimal and number.count(decimal) > 1:
        return None
    whole, _, fraction = number.rpartition(decimal) if decimal else (number, "", "")
    groups = re.split(r"[.,]", whole)
    # Thousands come in threes (India's lakhs in twos before the last three).
    if len(groups) > 1 and (
        len(groups[-1]) != 3 or not all(len(g) in (2, 3) for g in groups[1:-1]) or not groups[0]
    ):
        return None
    return float("".join(groups) + ("." + fraction if decimal else ""))


def parse_amount_cells(cells: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """Amounts from text cells.

    Returns:
        The amounts (NaN where empty or bad), which cells are bad, and the
        decimal mark most cells show (``""`` when none shows one).
    """
    text = cells.astype(str).str.strip()
    cleaned = {value: _clean(value) for value in text.unique() if value}
    shown = Counter(_decimal_mark(found[0]) for found in cleaned.values() if found)
    # The mark most cells show by themselves; none shown: ambiguous marks separate thousands.
    file_mark = max(".,", key=lambda mark: shown[mark]) if shown[","] or shown["."] else ""
    values = {}
    for value, found in cleaned.items():
        amount = None
        if found is not None:
            number, negative = found
            mark = _decimal_mark(number)
            if mark is None:  # one mark, then three digits: the file decides
                mark = file_mark if file_mark and file_mark in number else ""
            amount = _value(number, mark)
            if amount is not None and negative and amount > 0:
                amount = None
        values[value] = np.nan if amount is None else amount
    amounts = text.map(values).astype(float)
    bad = (text != "") & amounts.isna()
    return amounts, bad, file_mark
