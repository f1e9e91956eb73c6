"""All-or-nothing file writes: ``atomic_write`` (a file object) and ``atomic_path`` (a path).

Every file the library writes (checkpoints, exports, pictures, the HTML player, the
exercises' reports) goes to a temporary file ``.NAME.PID-RANDOM.tmp`` next to the
target, which is flushed, fsync'd and then renamed over it (``os.replace`` is atomic).
So an error, a Ctrl-C or a full disk in the middle of a write leaves the previous file
intact and removes the temporary file; a reader never sees a half-written file. An
``OSError`` of the write (a full disk) is raised again naming the file and what is left:
``save: cannot write 'c.npz': No space left on device; the previous file is kept``.

Also: a read-only file is refused, as ``open`` refuses it (root may write it, as with ``open``);
the temporary name is cut short when a long ``NAME`` would make it too long for the file system;
the new file keeps the permission bits of the file it replaces (a ``chmod 600``
file stays private), and a file that did not exist gets the umask's mode, as ``open`` gives
it (0o644 under umask 022), also when a library makes the file itself with other bits
(safetensors makes its files 0o600); a symbolic link is followed (its target is replaced, the link
stays); a temporary file left by a write that was killed (its process is gone) is
removed by the next successful write of the same file. A target that exists and is not
a regular file (a pipe, ``/dev/stdout``) cannot be replaced by renaming: it is written
directly, as ``open`` would.

Only the standard library is used, so ``import tinygrad_edu`` still needs numpy alone.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
import uuid
from contextlib import contextmanager
from typing import IO, Any, Iterator, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

STALE_AFTER = 24 * 3600.0
"""Seconds after which a temporary file is stale where a process cannot be asked if it is alive."""


@contextmanager
def atomic_write(
    path: PathLike,
    mode: str = "wb",
    *,
    encoding: Optional[str] = None,
    newline: Optional[str] = None,
    where: str = "write",
) -> Iterator[IO[Any]]:
    """Yield a file object to write ``path``'s new content to; it replaces ``path`` only on success.

    ``mode`` is ``"wb"`` or ``"w"`` (text, with ``encoding`` and ``newline`` as ``open``
    takes them). If the ``with`` block raises, ``path`` is left as it was and the
    temporary file is removed. ``where`` starts error messages (``"save"``).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    with _temporary(path, where) as (fd, tmp):
        if tmp is None:  # a pipe or a device: write straight to it
            with open(path, mode, encoding=encoding, newline=newline) as f:
                yield f
            return
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


@contextmanager
def atomic_path(path: PathLike, *, where: str = "write") -> Iterator[str]:
    """Yield a temporary path next to ``path`` for a library that writes to a file name itself.

    After the ``with`` block the temporary file is fsync'd and renamed over ``path``; if the
    block raises, ``path`` is left as it was and the temporary file is removed. The
    temporary name ends in ``.tmp``: tell a library that picks the format by the suffix
    (matplotlib's ``savefig``) the format explicitly.
    """
    with _temporary(path, where, reopened=True) as (fd, tmp):
        if tmp is None:  # a pipe or a device: the library writes straight to it
            yield os.fspath(path)
            return
        # The mode a new file gets (the umask's, 0o644 under umask 022), before the library writes:
        # a library may make the file anew with other bits (safetensors writes its own, 0o600, file).
        new_file_mode = stat.S_IMODE(os.fstat(fd).st_mode)
        os.close(fd)
        yield tmp
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            # the exact bits of the file it replaces, or a new file's, also if the library made it anew
            _keep_mode(fd, tmp, os.path.realpath(path), new_file_mode=new_file_mode)
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def _temporary(path: PathLike, where: str, reopened: bool = False) -> Iterator[tuple[int, Optional[str]]]:
    """The open temporary file (fd, name) beside ``path``'s target; renamed over it on success.

    For a target that exists and is not a regular file, (-1, None): nothing to rename.
    ``reopened``: the file will be opened again by name, so it stays writable by its owner
    (a read-only target's bits are given at the end).
    """
    path = os.fspath(path)
    target = os.path.realpath(path)  # through a symlink: replace its target, keep the link
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, f"{where}: {path!r} is a folder; give a file name in it")
    if os.path.exists(target) and not os.path.isfile(target):
        yield -1, None
        return
    directory, name = os.path.split(target)
    _check_writable(target, path, where)
    name = _temporary_stem(name)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")
    fd = _create_temporary(tmp, path, where)
    try:
        try:
            _keep_mode(fd, tmp, target, stat.S_IWUSR if reopened else 0)
            yield fd, tmp
            os.replace(tmp, target)
        except OSError as exc:
            if exc.filename not in (None, tmp):
                raise  # about another file, which it names
            raise _write_error(exc, path, where) from None
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)
    _remove_stale_temporaries(directory, name)


NAME_MAX = 255
"""The longest file name, in bytes, on the usual file systems (ext4, APFS, NTFS's 255 characters)."""


def _temporary_stem(name: str) -> str:
    """``name`` as the temporary file carries it: cut short so that ``.NAME.PID-RANDOM.tmp`` is a
    legal name where ``NAME`` alone is one (a 244-byte name would otherwise fail to save)."""
    room = NAME_MAX - len(".") - len(f".{os.getpid()}-") - 12 - len(".tmp")
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= room:
        return name
    return encoded[:room].decode("utf-8", "ignore")  # (a character cut in half is left out)


def _check_writable(target: str, path: str, where: str) -> None:
    """Refuse to replace a read-only file, as ``open(path, "w")`` does (for its owner, not for root:
    ``os.access`` answers as open would); renaming over it would succeed silently."""
    if os.path.isfile(target) and not os.access(target, os.W_OK):
        message = f"{where}: cannot write {path!r}: the file is read-only (its permissions); it is kept"
        raise PermissionError(errno.EACCES, message)


def _write_error(exc: OSError, path: str, where: str) -> OSError:
    """``exc`` of a write of ``path`` that failed (a full disk) as an OSError naming ``path``.

    Raised while the write is in progress, so the previous file, if any, is still in place.
    """
    kept = "the previous file is kept" if os.path.lexists(path) else "no file was written"
    message = f"{where}: cannot write {path!r}: {exc.strerror or exc}; {kept}"
    try:
        return type(exc)(exc.errno, message)
    except TypeError:  # an OSError subclass that takes other arguments
        return OSError(exc.errno, message)


def _create_temporary(tmp: str, path: str, where: str) -> int:
    """Open the temporary file (0o666: the umask decides, as a plain open() would).

    An error names the user's ``path`` and its folder, not the hidden temporary name.
    """
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        folder = os.path.dirname(os.path.abspath(path)) or "."
        if os.path.isdir(folder) and not os.path.isdir(os.path.dirname(tmp)):
            folder = os.path.dirname(tmp)  # (a symbolic link into a folder that is gone: name that one)
        if exc.errno == errno.ENOENT and not os.path.isdir(folder):
            reason = f"the folder {folder!r} does not exist"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = f"the folder {folder!r} is not writable"
        elif exc.errno == errno.ENOTDIR:
            reason = f"{folder!r} is not a folder"
        else:
            reason = f"cannot create a file in {folder!r} ({exc.strerror or exc})"
        raise type(exc)(exc.errno, f"{where}: cannot write {path!r}: {reason}") from None


def _keep_mode(fd: int, tmp: str, target: str, extra: int = 0, new_file_mode: Optional[int] = None) -> None:
    """Give the new file the permission bits of the file it replaces (if there is one), plus ``extra``.

    Without a file to replace: ``new_file_mode`` when given, else the bits stay (the umask's mode).
    """
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode) | extra
    except OSError:
        if new_file_mode is None:
            return  # a new file: the umask's mode
        mode = new_file_mode
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(tmp, mode)


def _temporary_pattern(name: str) -> "re.Pattern[str]":
    """``.NAME.PID-RANDOM.tmp`` (and ``.NAME.RANDOM.tmp`` from before the PID was recorded)."""
    return re.compile(rf"\.{re.escape(name)}\.(?:(\d+)-)?[0-9a-f]{{12}}\.tmp")


def _process_is_gone(pid: int) -> Optional[bool]:
    """True when no process ``pid`` runs, False when one does, None when we cannot ask (Windows)."""
    if os.name == "nt":
        return None  # os.kill(pid, 0) would send CTRL_C_EVENT there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it runs, as another user
        return False
    return False


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Remove the temporary files of writes of ``name`` whose process was killed before it could."""
    pattern = _temporary_pattern(name)
    try:
        candidates = [n for n in os.listdir(directory) if pattern.fullmatch(n)]
    except OSError:
        return
    for candidate in candidates:
        pid_text = pattern.fullmatch(candidate).group(1)
        full = os.path.join(directory, candidate)
        gone = True if pid_text is None else _process_is_gone(int(pid_text))
        try:
            if gone is None:
                gone = time.time() - os.stat(full).st_mtime > STALE_AFTER
            if gone:
                os.remove(full)
        except OSError:
            pass  # removed meanwhile, or not ours to remove: leave it


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); not possible, and not needed, on Windows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
