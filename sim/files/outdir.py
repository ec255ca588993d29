"""Output folders: salesim writes only where it may, and never deletes what it did not write.

A folder is salesim's when it holds salesim's manifest, ``salesim-manifest.json``,
listing every file salesim wrote there with its size and SHA-256. Think of a
shared drive: a colleague's ``thesis.docx`` in ``results/pods/`` must survive a
re-run, and so must ``results/pods/plan/``, which ``make plan`` wrote earlier
(a folder with a manifest of its own).

The life of an output folder, as every command that writes one uses it:

1. ``OutputFolder.claim(path)``, before any simulation: the folder must be
   salesim's, empty, missing, or hold nothing but salesim's own subfolders,
   unless ``overwrite`` is given; files salesim wrote there must be unchanged
   since (a result edited by hand is not replaced without ``overwrite``); a
   lock file (``.salesim.lock``, holding the PID) keeps a second run out; a
   dry write into a hidden temporary folder proves the folder is writable;
   the free space must cover the expected output. Leftovers of runs that died
   (temporary folders whose PID no longer runs) are removed here.
2. ``with folder.writing() as tmp:`` the command writes its files into
   ``tmp``. Only on success are they swapped in: salesim's previous files are
   moved aside, the new ones renamed into place, the manifest rewritten, the
   old ones deleted; on any failure in between, everything is moved back.
   Files salesim did not write are never moved or deleted.
3. ``folder.release()`` (or leaving ``with OutputFolder.claim(...)``): the
   lock and temporary folder go; a folder the claim created and nothing was
   written into goes too, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from sim.errors import ScenarioError

MANIFEST_NAME = "salesim-manifest.json"
"""The file that makes a folder salesim's: what salesim wrote there."""
LOCK_NAME = ".salesim.lock"
TMP_PREFIX = ".salesim-tmp-"
OLD_PREFIX = ".salesim-old-"
MARKERS = (MANIFEST_NAME, "sweep.json")
"""Files that make a subfolder salesim's own (a sweep keeps its own manifest)."""
LEGACY_MARKERS = ("summary.json", "plan.json", "report.txt")
"""Files an older salesim (before manifests) wrote into every results folder."""

Stale = Callable[[PurePosixPath], bool]


class OutputError(ScenarioError):
    """An output folder or file that cannot be used; ``problems`` holds one line each."""


def file_digest(path: Path) -> str:
    """SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a salesim folder, or None when there is none (or it is not ours)."""
    try:
        document = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = document.get("files") if isinstance(document, dict) else None
    return document if isinstance(files, dict) else None


def pid_alive(pid: int) -> bool:
    """True when a process with this PID runs on this machine (or may: not ours to signal)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _suffix_pid(name: str, prefix: str) -> int | None:
    tail = name[len(prefix) :] if name.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove temporary folders that runs now dead left in or beside ``folder``.

    Inside: ``.salesim-tmp-PID`` and ``.salesim-old-PID``. Beside (salesim
    before manifests): ``.<name>.tmp-PID`` and ``.<name>.old-PID``. A folder is
    removed only when no process with its PID runs.

    Returns:
        The folders removed.
    """
    folder = Path(folder)
    candidates: list[tuple[Path, int | None]] = []
    if folder.is_dir():
        for entry in folder.iterdir():
            for prefix in (TMP_PREFIX, OLD_PREFIX):
                candidates.append((entry, _suffix_pid(entry.name, prefix)))
    if folder.parent.is_dir():
        for kind in ("tmp", "old"):
            prefix = f".{folder.name}.{kind}-"
            for entry in folder.parent.glob(f".{glob_escape(folder.name)}.{kind}-*"):
                candidates.append((entry, _suffix_pid(entry.name, prefix)))
    removed = []
    for entry, pid in candidates:
        if pid is not None and entry.is_dir() and not entry.is_symlink() and not pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _is_salesim_subfolder(entry: Path) -> bool:
    return entry.is_dir() and any((entry / marker).is_file() for marker in MARKERS)


def is_bookkeeping(name: str) -> bool:
    """True for salesim's own lock and temporary folders, which hold no results."""
    return name == LOCK_NAME or name.startswith((TMP_PREFIX, OLD_PREFIX))


def foreign_entries(folder: Path, manifest: dict[str, Any] | None) -> list[str]:
    """Top-level names in ``folder`` that salesim did not write, sorted.

    salesim's are: the manifest and what it lists, the lock and temporary
    folders, and subfolders that hold a salesim manifest of their own.
    """
    listed = {PurePosixPath(rel).parts[0] for rel in (manifest or {}).get("files", {})}
    return sorted(
        entry.name
        for entry in Path(folder).iterdir()
        if entry.name != MANIFEST_NAME
        and entry.name not in listed
        and not is_bookkeeping(entry.name)
        and not _is_salesim_subfolder(entry)
    )


def changed_files(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Files the manifest lists whose content changed since salesim wrote them."""
    changed = []
    for rel, meta in sorted(manifest.get("files", {}).items()):
        path = Path(folder) / rel
        if not path.is_file():
            continue  # deleted by the user: nothing to lose
        if path.stat().st_size != meta.get("bytes") or file_digest(path) != meta.get("sha256"):
            changed.append(rel)
    return changed


def _shown(names: list[str], most: int = 3) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


class FolderLock:
    """One salesim run at a time in a folder: ``.salesim.lock`` holds the writer's PID.

    A second run is refused with one line; a lock whose process no longer runs on
    this machine (a run killed with ``kill -9``) is stale and taken over.
    """

    def __init__(self, folder: Path, option: str = "--out"):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.option = option
        self.held = False

    def acquire(self) -> None:
        """Take the lock, or raise ``OutputError`` naming the run that holds it."""
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                raise self._busy() from None
            except OSError as exc:
                reason = exc.strerror or exc
                raise OutputError([f"{self.folder}: cannot write ({reason})"]) from None
            with os.fdopen(fd, "w") as handle:
                handle.write(record)
            self.held = True
            return
        raise self._busy()

    def release(self) -> None:
        """Give the lock back (only if this process took it)."""
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _stale(self) -> bool:
        try:
            holder = json.loads(self.path.read_text(encoding="utf-8"))
            pid, host = int(holder["pid"]), str(holder["host"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return host == socket.gethostname() and not pid_alive(pid)

    def _busy(self) -> OutputError:
        try:
            pid = json.loads(self.path.read_text(encoding="utf-8")).get("pid", "?")
        except (OSError, ValueError, AttributeError):
            pid = "?"
        return OutputError(
            [
                f"{self.folder}: another salesim run (PID {pid}) is writing here; wait for it to "
                f"finish or choose another {self.option} (if no run is active, delete {self.path})"
            ]
        )


class OutputFolder:
    """A folder salesim has claimed for its output; see the module docstring.

    Use ``OutputFolder.claim`` (it checks and locks), then ``writing``, then
    ``release`` (or ``with OutputFolder.claim(...) as folder:``).
    """

    def __init__(self, path: Path, option: str = "--out", overwrite: bool = False):
        self.path = Path(path)
        self.option = option
        self.overwrite = overwrite
        self.tmp = self.path / f"{TMP_PREFIX}{os.getpid()}"
        self._created: list[Path] = []
        self._locked = False
        self.wrote = False

    # -- claiming -----------------------------------------------------------

    @classmethod
    def claim(
        cls,
        path: Path | OutputFolder,
        *,
        option: str = "--out",
        overwrite: bool = False,
        needs_bytes: int = 0,
        planned: Iterable[str] = (),
        replaces: Stale = lambda _: True,
    ) -> OutputFolder:
        """Check that salesim may write ``path``, lock it and prove it writable.

        Args:
            path: the output folder (or an already claimed one, returned as is).
            option: the flag that named it, for messages.
            overwrite: replace salesim's files even in a folder it does not own
                (or whose files were edited since); other files stay.
            needs_bytes: free space the output needs.
            planned: top-level names the command will write, to refuse early a
                collision with a file salesim did not write.
            replaces: which of salesim's files there the command may replace or
                remove (default all; see ``writing``): only these must be unchanged.

        Returns:
            The claimed folder.

        Raises:
            OutputError: one line per reason the folder cannot be used.
        """
        if isinstance(path, OutputFolder):
            return path
        folder = cls(path, option, overwrite)
        folder._check_ownership(planned, replaces)
        try:
            folder._lock()
            folder._dry_write(needs_bytes)
        except BaseException:
            folder.release()
            raise
        return folder

    def _problem(self, text: str) -> OutputError:
        return OutputError([f"{self.path}: {text}"])

    def _check_ownership(self, planned: Iterable[str], replaces: Stale) -> None:
        path = self.path
        if path.exists() and not path.is_dir():
            raise self._problem(f"exists and is not a folder; {self.option} names a folder")
        if not path.is_dir():
            return
        remove_leftovers(path)
        manifest = read_manifest(path)
        if self.overwrite:
            return
        if manifest is None:
            self._check_unowned(path)
            return
        changed = [r for r in changed_files(path, manifest) if replaces(PurePosixPath(r))]
        if changed:
            raise self._problem(
                f"{_shown(changed)}: changed since salesim wrote it; move it away, or add "
                "--overwrite to replace it"
            )
        listed = set(manifest["files"])
        clashes = [n for n in planned if (path / n).exists() and n not in listed]
        if clashes:
            raise self._problem(
                f"{_shown(clashes)}: not written by salesim, which is about to write a file of "
                "that name; move it away, or add --overwrite to replace it"
            )

    def _check_unowned(self, path: Path) -> None:
        foreign = foreign_entries(path, None)
        if not foreign:
            return
        if any((path / marker).is_file() for marker in LEGACY_MARKERS):
            raise self._problem(
                "written by an older salesim (no salesim-manifest.json); add --overwrite to "
                f"replace salesim's files in it (other files stay), or choose another {self.option}"
            )
        raise self._problem(
            f"exists and holds files salesim did not write ({_shown(foreign)}); choose another "
            f"{self.option}, or add --overwrite to replace only salesim's own files there"
        )

    def _make_dirs(self) -> None:
        missing = []
        here = self.path
        while not here.exists():
            missing.append(here)
            here = here.parent
        for directory in reversed(missing):
            directory.mkdir()
            self._created.append(directory)

    def _lock(self) -> None:
        try:
            self._make_dirs()
        except OSError as exc:
            raise self._problem(f"cannot create ({exc.strerror or exc})") from None
        self._lock_file = FolderLock(self.path, self.option)
        self._lock_file.acquire()
        self._locked = True

    def _dry_write(self, needs_bytes: int) -> None:
        try:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp.mkdir()
            probe = self.tmp / "probe"
            with open(probe, "wb") as handle:
                handle.write(b"salesim checks that it can write here\n")
                handle.flush()
                os.fsync(handle.fileno())
            probe.unlink()
            free = shutil.disk_usage(self.path).free
        except OSError as exc:
            raise self._problem(f"cannot write ({exc.strerror or exc})") from None
        if needs_bytes > free:
            raise self._problem(
                f"not enough free space: the output needs about {needs_bytes / 2**20:,.0f} MiB, "
                f"{free / 2**20:,.0f} MiB are free"
            )

    # -- writing ------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self, stale: Stale = lambda _: True) -> Iterator[Path]:
        """Yield an empty temporary folder; on success its files replace salesim's.

        Args:
            stale: which of salesim's previous files that the new output does
                not rewrite are removed (default: all, the output is replaced
                as a whole; ``report`` removes only the report files).
        """
        if not self._locked:
            raise RuntimeError("claim the output folder before writing into it")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()
        try:
            yield self.tmp
            self._swap(stale)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _swap(self, stale: Stale) -> None:
        path = self.path
        manifest = read_manifest(path) or {"files": {}}
        old: dict[str, Any] = manifest["files"]
        new = {
            file.relative_to(self.tmp).as_posix(): {
                "bytes": file.stat().st_size,
                "sha256": file_digest(file),
            }
            for file in sorted(self.tmp.rglob("*"))
            if file.is_file()
        }
        removed = {rel for rel in old if rel not in new and stale(PurePosixPath(rel))}
        self._refuse_clashes(new, old, removed)
        trash = path / f"{OLD_PREFIX}{os.getpid()}"
        moved_out: list[str] = []
        moved_in: list[str] = []
        try:
            for rel in sorted(set(new) | removed):
                if (path / rel).is_file() or (path / rel).is_symlink():
                    _move(path / rel, trash / rel)
                    moved_out.append(rel)
            for rel in new:
                _move(self.tmp / rel, path / rel)
                moved_in.append(rel)
            files = {rel: meta for rel, meta in old.items() if rel not in removed} | new
            self._write_manifest(dict(sorted(files.items())))
        except BaseException:
            for rel in reversed(moved_in):
                _move(path / rel, self.tmp / rel)
            for rel in reversed(moved_out):
                _move(trash / rel, path / rel)
            raise
        finally:
            shutil.rmtree(trash, ignore_errors=True)
        _remove_empty_parents(path, removed)
        self.wrote = True

    def _refuse_clashes(self, new: dict[str, Any], old: dict[str, Any], removed: set[str]) -> None:
        """The last word before replacing: never a file salesim did not write, or edited."""
        if self.overwrite:
            return
        clashes = [rel for rel in new if rel not in old and (self.path / rel).exists()]
        if clashes:
            raise self._problem(
                f"{_shown(clashes)}: salesim did not write this but its output has the same "
                "name; nothing was replaced; move it away, or add --overwrite"
            )
        mine = {rel: old[rel] for rel in (set(new) | removed) if rel in old}
        edited = changed_files(self.path, {"files": mine})
        if edited:
            raise self._problem(
                f"{_shown(edited)}: changed since salesim wrote it; nothing was replaced; move it "
                "away, or add --overwrite"
            )

    def _write_manifest(self, files: dict[str, Any]) -> None:
        from sim.version import __version__

        document = {
            "about": "files salesim wrote in this folder; salesim replaces only these",
            "salesim_version": __version__,
            "files": files,
        }
        tmp = self.path / f".{MANIFEST_NAME}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST_NAME)

    # -- releasing ----------------------------------------------------------

    def release(self) -> None:
        """Remove the lock and the temporary folder; a created folder left empty goes too."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self._locked:
            self._lock_file.release()
            self._locked = False
        for directory in reversed(self._created):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only when empty: a written folder stays
        self._created = []

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _remove_empty_parents(root: Path, removed: Iterable[str]) -> None:
    parents = {parent for rel in removed for parent in PurePosixPath(rel).parents}
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        if parent.parts:
            with contextlib.suppress(OSError):
                (root / parent).rmdir()


@contextlib.contextmanager
def output_folder(path: Path | OutputFolder, **claim: Any) -> Iterator[OutputFolder]:
    """Claim ``path`` for the block (see ``OutputFolder.claim``), releasing it after.

    A folder claimed earlier by the caller is used as it is and left claimed.
    """
    if isinstance(path, OutputFolder):
        yield path
        return
    folder = OutputFolder.claim(path, **claim)
    try:
        yield folder
    finally:
        folder.release()


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file whole or not at all (a temporary name beside it, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_output_file(
    path: Path, option: str, overwrite: bool, ours: Callable[[Path], bool] = lambda _: False
) -> None:
    """Refuse to replace a file salesim did not write (one line, before any work).

    Args:
        path: the file about to be written.
        option: the flag that named it.
        overwrite: replace it anyway.
        ours: recognises a file salesim wrote (e.g. a calibrated scenario's header).

    Raises:
        OutputError: when ``path`` exists, is not salesim's and ``overwrite`` is off,
            or when it cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError([f"{path}: is a folder; {option} names a file"])
    if path.exists() and not overwrite and not ours(path):
        raise OutputError(
            [
                f"{path}: exists and salesim did not write it; choose another {option}, or add "
                "--overwrite to replace it"
            ]  # fmt: skip
        )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the folders are made when the file is written
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError([f"{path.parent}: cannot write ({os.strerror(errno.EACCES)})"])
