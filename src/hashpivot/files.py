"""Writing files so that a reader never sees half of one (the foundation: no domain imports)."""

from __future__ import annotations

import os
import shutil
import stat as stat_mod
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError


@contextmanager
def atomic_file(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed onto ``path`` when the block succeeds.

    The file gets mode 0644 when the block ends without an error and is deleted otherwise, so a
    failed write leaves the earlier file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write.
    suffix : str
        Suffix of the temporary file (some writers infer the format from it, e.g. ``.xlsx``).

    Yields
    ------
    pathlib.Path
        The temporary path to write to.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=suffix, dir=p.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write.
    text : str
        Its content (UTF-8).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_folder(
    directory: str | Path, names: Sequence[str], write: Callable[[str, Path], None]
) -> list[Path]:
    """All or nothing: write each file into a temporary folder, then move them in together.

    ``write(name, path)`` fills each file in a temporary folder beside ``directory``; the files
    move in only when every one is complete.

    Parameters
    ----------
    directory : str or pathlib.Path
        The folder to fill (created if needed).
    names : sequence of str
        The files' names.
    write : callable
        Called as ``write(name, path)`` for each name.

    Returns
    -------
    list of pathlib.Path
        The files, in ``directory``.
    """
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        for name in names:
            write(name, tmp / name)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name in names:
            os.replace(tmp / name, target / name)
            written.append(target / name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_local_file(path: str | Path, field: str, max_bytes: int, missing: str) -> bytes:
    """The bytes of a file a user named: a regular local file of at most ``max_bytes``.

    Never a URL, a device, a pipe or a folder; each refusal is a named error.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    field : str
        The option or argument named in errors (``--prices``, ``FILE``).
    max_bytes : int
        Largest size accepted [byte].
    missing : str
        What is allowed, said when the file does not exist.

    Returns
    -------
    bytes
        The file's content.

    Raises
    ------
    InputError
        A URL, a missing or unreadable file, not a regular file, or too large.
    """
    spec = str(path)
    if "://" in spec or spec.startswith(("http:", "https:", "ftp:", "file:")):
        raise InputError(field, spec, "a local file (never a URL)")
    p = Path(spec)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(field, spec, missing) from None
    except OSError as exc:
        raise InputError(field, spec, f"a readable file ({exc.strerror})") from None
    if not stat_mod.S_ISREG(st.st_mode):
        raise InputError(field, spec, "a regular file (not a device, pipe or folder)")
    if st.st_size > max_bytes:
        raise InputError(field, f"{st.st_size:,} bytes", f"at most {max_bytes:,}")
    try:
        with p.open("rb") as fh:
            return fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(field, spec, f"a readable file ({exc.strerror})") from None
