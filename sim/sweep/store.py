"""The resumable run store: a sweep directory's manifest and one parquet part per run.

Whatever executes the runs, the sweep stores each finished run at once as a
one-row parquet part under ``DIR/runs/`` (temporary file, then
``os.replace``), next to ``DIR/sweep.json`` holding a hash of the resolved
sweep. Started again, a sweep skips the runs it finds, so a killed sweep
resumes where it stopped; the runs are always read back in a fixed order, so
a resumed sweep's tables are byte-identical to an uninterrupted one's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.scenario import ScenarioError
from sim.files.outdir import FolderLock, is_bookkeeping
from sim.sweep.spec import RunTask, Sweep

OUTPUT_NAMES: tuple[str, ...] = (
    "sweep.parquet",
    "sweep_summary.csv",
    "crossovers.csv",
    "claims.csv",
    "report.html",
    "plots",
)
"""What a finished sweep writes into its directory besides ``sweep.json`` and ``runs/``."""


class RunStore:
    """The runs stored in a sweep directory: ``sweep.json`` and one part per run.

    ``DIR/sweep.json`` records the sweep's digest; ``DIR/runs/`` holds one
    parquet part per finished run, named after its key.
    """

    def __init__(self, out_dir: Path, sweep: Sweep):
        self.out_dir = Path(out_dir)
        self.sweep = sweep
        self.runs_dir = self.out_dir / "runs"
        self.manifest_path = self.out_dir / "sweep.json"

    def check(self, fresh: bool = False) -> None:
        """Refuse a directory this sweep may not use, writing nothing.

        A directory holding another sweep (another digest) is refused unless
        ``fresh`` is set; a non-empty directory that holds no sweep is always
        refused.

        Raises:
            ScenarioError: one line saying why the directory cannot be used.
        """
        out_dir, sweep = self.out_dir, self.sweep
        if out_dir.exists() and not out_dir.is_dir():
            raise ScenarioError([f"{out_dir}: exists and is not a directory"])
        held = out_dir.is_dir() and any(
            not is_bookkeeping(entry.name) for entry in out_dir.iterdir()
        )
        if held and not self.manifest_path.exists():
            raise ScenarioError(
                [f"{out_dir}: exists and holds no sweep (no sweep.json); choose another --out"]
            )
        if not self.manifest_path.exists():
            return
        stored = _read_manifest(self.manifest_path, fresh)
        if not fresh and stored.get("digest") != sweep.digest:
            before = stored.get("definition", {})
            now = sweep.definition()
            changed = [k for k in now if before.get(k) != now[k]] or ["the sweep"]
            raise ScenarioError(
                [
                    f"{out_dir}: holds runs of a different sweep definition "
                    f"({', '.join(changed)} changed); use --fresh to start over "
                    "or --out for another directory"
                ]
            )

    @contextlib.contextmanager
    def prepared(self, fresh: bool = False) -> Iterator[None]:
        """``prepare`` the directory and hold its lock (one sweep at a time) for the block."""
        self.check(fresh)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with FolderLock(self.out_dir):
            self.prepare(fresh)
            yield

    def prepare(self, fresh: bool = False) -> None:
        """Make the directory ready to store this sweep's runs (``check`` first).

        With ``fresh``, the stored runs and outputs are deleted first.

        Raises:
            ScenarioError: one line saying why the directory cannot be used.
        """
        self.check(fresh)
        if fresh and self.manifest_path.exists():
            for name in ("runs", "sweep.json", *OUTPUT_NAMES):
                target = self.out_dir / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.runs_dir.glob(".*.tmp-*"):  # left by a killed writer
            stale.unlink(missing_ok=True)
        write_atomic(self.manifest_path, (json.dumps(self.manifest(), indent=2) + "\n").encode())

    def manifest(self) -> dict[str, Any]:
        """What ``sweep.json`` holds."""
        sweep = self.sweep
        return {
            "name": sweep.name,
            "description": sweep.description,
            "sweep_file": str(sweep.file),
            "digest": sweep.digest,
            "definition": sweep.definition(),
            "runs": sweep.run_count,
            "base_scenario": sweep.base.model_dump(mode="json"),
        }

    def part_path(self, key: tuple[int, str, int]) -> Path:
        """Where the part of run ``key`` lives."""
        point, structure, replication = key
        return self.runs_dir / f"p{point:05d}-{structure}-r{replication:05d}.parquet"

    def stored(self) -> set[tuple[int, str, int]]:
        """Keys of the runs whose parts are on disk."""
        return {task.key for task in self.sweep.tasks() if self.part_path(task.key).exists()}

    def write(self, task: RunTask, row: pd.DataFrame) -> None:
        """Store one finished run (temporary file, then rename)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(row, preserve_index=False)
        write_atomic(self.part_path(task.key), lambda tmp: pq.write_table(table, tmp))

    def read_all(self) -> pd.DataFrame:
        """Every run's row, in table order.

        Raises:
            ScenarioError: when the directory holds another sweep's runs.
        """
        stored = (
            _read_manifest(self.manifest_path, fresh=False) if self.manifest_path.exists() else {}
        )
        if stored.get("digest") != self.sweep.digest:
            raise ScenarioError([f"{self.out_dir}: holds no runs of this sweep definition"])
        frames = [pd.read_parquet(self.part_path(task.key)) for task in self.sweep.tasks()]
        return pd.concat(frames, ignore_index=True)


def _read_manifest(path: Path, fresh: bool) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        if fresh:
            return {}
        raise ScenarioError([f"{path}: unreadable sweep manifest ({exc}); use --fresh"]) from None


def write_atomic(path: Path, data: bytes | Callable[[Path], object]) -> Path:
    """Write a file whole or not at all: to a temporary name beside it, then rename.

    Args:
        path: the file to write.
        data: its bytes, or a function that writes the file at the path it is given.

    Returns:
        ``path``.
    """
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        if callable(data):
            data(tmp)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # left only when writing failed
    return path
