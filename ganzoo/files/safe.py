"""Reading and writing files safely: the one layer every command and output goes through.

Files come from anywhere and go where people point them, and each way of doing it naively
has lost data here once: a FIFO or ``/dev/zero`` read until the machine runs out of time or
memory, a symlink planted in a folder that redirects a write onto a file outside it, an
output written over its own input, a half-written file left by a kill. The rules:

- **Reading** (:func:`read_bytes`, :func:`read_text`): only a regular file, at most
  ``limit`` bytes; a FIFO, a device or a folder is refused before it is opened for reading,
  and a file swapped for one in between is caught on the open handle.
- **Writing** (:func:`atomic_write`): a new temporary file beside the destination, synced,
  then renamed over it. The rename replaces a symlink at the destination instead of
  following it, so nothing outside the folder is written; readers see the old file or the
  new one, never half of one.
- **Appending** (:func:`append_line`): a JSON-lines file is opened without following a
  symlink and only when it is a regular file.
- **Outputs named on the command line** (:func:`output_problem`, :func:`write_target`): a
  symlink the user names is resolved once, up front, and its target written; a folder, a
  device, a pipe or a socket is refused before anything is computed.
- **Inputs and outputs** (:func:`overwrites_input`): an output that is one of the inputs
  is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Optional

from ganzoo.api.errors import GanzooError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""The permissions a new file gets, as ``open`` would give it (a temporary file gets 0600)."""


class UnsafeFile(GanzooError):
    """A file that is not a regular file, is too large, or is a link where none is followed:
    ``{path}: {reason}``, one line."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def not_regular(mode: int) -> str:
    """Why a file of this ``st_mode`` is refused where a regular file belongs."""
    kind = "a folder" if stat.S_ISDIR(mode) else "a device, a pipe or a socket"
    return f"not a regular file ({kind})"


@contextlib.contextmanager
def open_regular(path: Path, flags: int = os.O_RDONLY, mode: int = 0o644) -> Iterator[int]:
    """A descriptor on ``path`` opened with ``flags``, refused (:class:`UnsafeFile`) unless it
    is a regular file. ``O_NONBLOCK`` keeps a FIFO from blocking the open; the check is made
    on the open descriptor, so a path swapped in between is caught too."""
    try:
        handle = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeFile(path, "a symbolic link, which ganzoo does not follow inside its folders") from None
        if error.errno in (errno.ENXIO, errno.EISDIR):  # a FIFO without a reader; a folder, opened to write
            raise UnsafeFile(path, not_regular(os.stat(path).st_mode)) from None
        raise
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafeFile(path, not_regular(status.st_mode))
        os.set_blocking(handle, True)
        yield handle
    finally:
        os.close(handle)


def read_bytes(path: Path, *, limit: int, what: str = "file") -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; :class:`UnsafeFile`
    for anything else, in one line that names ``what`` the file was expected to be.
    ``FileNotFoundError`` and other ``OSError`` pass through."""
    with open_regular(Path(path)) as handle:
        with os.fdopen(os.dup(handle), "rb") as file:
            data = file.read(limit + 1)  # never more: a file that grows while it is read stays bounded
    if len(data) > limit:
        raise UnsafeFile(path, f"larger than {limit:,} bytes; a {what} is smaller")
    return data


def read_text(path: Path, *, limit: int, what: str = "file") -> str:
    """:func:`read_bytes` decoded as UTF-8 (``UnicodeDecodeError`` passes through)."""
    return read_bytes(path, limit=limit, what=what).decode("utf-8")


class _RecordingWriter:
    """A binary file that remembers the first ``OSError`` of a write.

    torch's zip writer turns a failed write (a full disk) into ``RuntimeError: [enforce fail
    at inline_container.cc] unexpected pos``; the recorded error lets :func:`atomic_write`
    report the real cause (``No space left on device``) instead."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.error: Optional[OSError] = None

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as error:
            self.error = self.error or error
            raise

    def __getattr__(self, name: str) -> Any:  # seek, tell, flush...: the file's own
        return getattr(self.file, name)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, sync it and rename it over
    ``path``: readers see the old file or the new one, never half of one, and a symlink at
    ``path`` is replaced, not followed. A folder at ``path`` is refused. On any failure the
    temporary file is removed and the error propagates; a failed write of the file
    propagates as its ``OSError``, whatever the writer made of it."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise UnsafeFile(path, "a folder, where a file was to be written")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            recorder = _RecordingWriter(file)
            try:
                write(recorder)  # type: ignore[arg-type]  # it behaves as the file it wraps
            except Exception as error:
                if recorder.error is not None and recorder.error is not error:
                    raise recorder.error from None
                raise
            file.flush()
            os.fchmod(file.fileno(), FILE_MODE)
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write` of ``data``."""
    atomic_write(path, lambda file: file.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def append_line(path: Path, line: str) -> None:
    """Append one line (a newline is added) to ``path``, created when missing, written and
    flushed at once. A symlink, a FIFO or a folder at ``path`` is refused (:class:`UnsafeFile`)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    with open_regular(Path(path), flags) as handle:
        os.write(handle, (line + "\n").encode("utf-8"))


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files that writes cut short by a kill left in ``folder``."""
    for stale in Path(folder).glob(".*.tmp"):
        if stale.is_file() and not stale.is_symlink():
            stale.unlink(missing_ok=True)


def output_problem(path: Path) -> Optional[str]:
    """Why ``path``, named on the command line, cannot take a new file, or None when it can
    (a regular file, a symlink to one, or nothing yet)."""
    try:
        mode = path.stat().st_mode  # follows symlinks: the target is what gets written
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    if stat.S_ISDIR(mode):
        return f"{path} is a folder; give a file name in it, e.g. {path / 'NAME'}"
    if not stat.S_ISREG(mode):
        return f"{path} is {not_regular(mode)}; give a file name"
    return None


def write_target(path: Path) -> Path:
    """The file to write for a ``path`` named on the command line: the final target when it
    is a symlink (a dangling one included), resolved once, so that renaming a new file into
    place keeps the user's link."""
    return Path(os.path.realpath(path))


def overwrites_input(outputs: Iterable[Path], inputs: Iterable[Path]) -> Optional[tuple[Path, Path]]:
    """``(output, input)`` for the first output that is one of the inputs (the same file,
    through any links or names), or None. An output that does not exist yet overwrites nothing."""
    known: dict[tuple[int, int], Path] = {}
    for source in inputs:
        with contextlib.suppress(OSError):
            info = os.stat(source)
            known[(info.st_dev, info.st_ino)] = Path(source)
    for output in outputs:
        try:
            info = os.stat(output)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in known:
            return Path(output), known[(info.st_dev, info.st_ino)]
    return None
