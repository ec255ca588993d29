"""Reading the files a user names: never more than a limit, and one line when it fails.

A scenario is a page of TOML and a CRM export a spreadsheet's worth of rows.
A path can name something else: a directory, a file nobody may read, a
40 GB log, or ``/dev/zero``, which never ends and reports a size of 0. So a
file is read up to its limit plus one byte, whatever ``stat`` says; one byte
more than the limit is refused without reading on. Every failure becomes one
line, ``FILE: cannot read: <reason>``, raised as a ``ScenarioError`` (the
command line prints it and exits with code 2).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NoReturn

from sim.errors import ScenarioError

MiB = 2**20

TOML_LIMIT_BYTES = 1 * MiB
"""Largest scenario, sweep or mapping file. The shipped scenarios are about
20 KB with their comments; a megabyte is some 30,000 lines."""

CSV_LIMIT_BYTES = 256 * MiB
"""Largest CRM export. Reading and checking one takes about 36 times its size in
memory and 1.5 s per MiB (measured: the example export repeated to 108,500 rows,
18.3 MiB, grew the process by 660 MiB in 27 s), so 256 MiB needs about 9 GiB.
At about 175 bytes per lead row that is 1.5 million leads: more than a sales
organisation of a few hundred reps logs in a decade. Export a shorter period
if yours is larger."""


def read_user_file(path: str | Path, limit_bytes: int, kind: str) -> bytes:
    """The bytes of a file the user named, refused if longer than ``limit_bytes``.

    Args:
        path: the file, as the user gave it (the error lines show it so).
        limit_bytes: the most bytes accepted; ``limit_bytes + 1`` are read at most.
        kind: what the file should be, for the messages ("scenario file").

    Raises:
        ScenarioError: one line ``path: cannot read: reason``.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit_bytes + 1)
    except FileNotFoundError:
        _refuse(path, f"no such {kind}")
    except IsADirectoryError:
        _refuse(path, f"is a directory, expected a {kind}")
    except PermissionError:
        _refuse(path, "permission denied")
    except OSError as exc:
        _refuse(path, exc.strerror or type(exc).__name__)
    if len(data) > limit_bytes:
        _refuse(
            path,
            f"larger than {_size(limit_bytes)}, the most a {kind} may have (a wrong file?)",
        )
    return data


def read_user_text(path: str | Path, limit_bytes: int, kind: str) -> str:
    """``read_user_file`` decoded as UTF-8 (a byte-order mark is dropped)."""
    data = read_user_file(path, limit_bytes, kind)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(path, utf8_problem(data))


def utf8_problem(data: bytes) -> str:
    """Why ``data`` is not UTF-8, with the position of the first bad byte."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    return "UTF-8 text"


def read_user_toml(path: str | Path, kind: str, label: str | None = None) -> dict[str, Any]:
    """A TOML file the user named, parsed.

    Args:
        path: the file.
        kind: what it should be ("scenario file", "sweep file", "mapping file").
        label: how a syntax error names the file (default: its name).

    Raises:
        ScenarioError: one line for an unreadable file or a TOML syntax error
            (the message keeps tomllib's line and column).
    """
    text = read_user_text(path, TOML_LIMIT_BYTES, kind)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label or Path(path).name}: TOML syntax error: {exc}"]) from None


def _refuse(path: str | Path, reason: str) -> NoReturn:

    raise ScenarioError([f"{path}: cannot read: {reason}"]) from None


def _size(count: int) -> str:
    return f"{count // MiB:,} MiB" if count % MiB == 0 else f"{count:,} bytes"
