"""The one writer of every directory mlmon produces (``mlmon render --out``, ``mlmon runbooks --out``).

It never destroys anything mlmon did not write, and ``--out`` is never missing or partial:

- **What may be replaced.** ``--out`` must be absent, an empty directory, or a previous mlmon output: a
  directory holding :data:`MANIFEST` (``.mlmon-manifest.json``, the path and SHA-256 of every file mlmon
  wrote) and exactly those files, unchanged. A file added, changed or replaced by a symlink since is the
  user's: the write is refused (:class:`OutputRefused`, exit 2) naming the folder, the file and why; nothing
  is touched. Refused always: ``/``, ``$HOME``, the current directory or any folder containing it, a git work
  tree's root (a ``.git`` entry), a mount point (it cannot be renamed), and the catalog directory, its ``dashboards/`` and hand-written runbooks
  (``protect``), any folder containing one of them or inside one of them.
- **Symlinks.** ``--out LINK`` (a symlink to a directory) writes into the link's target: the rules above are
  applied to the target, the target is replaced and the link itself is kept. A dangling link, or one to
  something other than a directory, is refused. A symlink *inside* ``--out`` is never mlmon's (mlmon writes
  regular files only) and makes the folder a user's.
- **Atomic.** The new tree is written into a sibling ``.<name>.tmp-*`` directory (marked
  :data:`INCOMPLETE` until its manifest is written), then exchanged with ``--out`` in one
  ``renameat2(RENAME_EXCHANGE)`` (Linux; ``renamex_np(RENAME_SWAP)`` on macOS): at every instant ``--out``
  is the complete old or the complete new tree, even when the process is killed. The old tree, now in the
  sibling, is then deleted. On a filesystem without an atomic exchange (some network filesystems), mlmon
  falls back to two renames (old aside to ``.<name>.old-*``, new into place); a run killed between them
  leaves ``--out`` missing and the old tree in ``.<name>.old-*``, which the next run puts back first.
- **Leftovers and concurrency.** Writers of one parent directory take an exclusive ``flock`` on that
  directory (no lock file is left behind), so two concurrent renders into one ``--out`` run one after the
  other and end with one complete tree. Under the lock, leftovers of a killed run (``.<name>.tmp-*``,
  ``.<name>.old-*`` that are mlmon's: marked incomplete, holding a manifest, or empty) are removed, after a
  missing ``--out`` was restored from an ``.old-*`` tree; anything else of that name is left and reported.
- **Failures.** A failure to write (full disk, read-only filesystem, permission denied) raises
  :class:`OutputFailed` (exit 1) naming the folder and the file; the temporary tree is removed and
  ``--out`` is as it was.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

MANIFEST = ".mlmon-manifest.json"
"""Lists every file of an mlmon output with its SHA-256 (``{"written_by": "mlmon", "files": {...}}``)."""
INCOMPLETE = ".mlmon-incomplete"
"""Present in a temporary tree until all its files and its manifest are written."""
MANIFEST_FORMAT = 1
NAME_MAX = 255
LOCK_TIMEOUT = 600.0
"""Seconds to wait for another mlmon writing into the same parent directory."""
_SHOWN = 5


class OutputRefused(Exception):
    """``--out`` may not be replaced: printed as ``mlmon: error: ...``, exit 2; nothing was touched."""


class OutputFailed(Exception):
    """Writing failed (disk full, read-only, permission denied): exit 1; ``--out`` is as it was."""


def write_tree(files: dict[str, bytes], out_dir: str | os.PathLike, *, protect: tuple = (),
               keep_existing: bool = False, label: str = "--out") -> Path:
    """Replace the directory ``out_dir`` with exactly ``files`` (relative POSIX path -> bytes) plus the
    manifest, atomically; see the module docstring for what is refused. ``keep_existing`` keeps the files of
    the previous mlmon output that ``files`` does not replace (``mlmon render --service``). Returns the
    directory written (the target of a symlinked ``out_dir``)."""
    given = Path(os.path.abspath(out_dir))
    _check_names(files, given, label)
    _check_out_name(given, label)
    target = _target(given, label)
    _refuse_protected(target, given, protect, label)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFailed(f"cannot create {parent} (the folder holding {label} {given}): "
                           f"{_reason(exc)}") from None
    with _locked(parent, label, given):
        _recover(target)
        previous = _previous_output(target, label, given)
        if keep_existing and previous:
            merged = {rel: (target / rel).read_bytes() for rel in previous}
            merged.update(files)
            files = merged
        _write_and_swap(files, target, label, given)
    return target


def check_target(out_dir: str | os.PathLike, *, protect: tuple = (), label: str = "--out") -> None:
    """Raise :class:`OutputRefused` now if :func:`write_tree` would refuse ``out_dir`` (for commands that work a
    long time before writing, e.g. ``mlmon backtest --plots``). Writes nothing."""
    given = Path(os.path.abspath(out_dir))
    _check_out_name(given, label)
    target = _target(given, label)
    _refuse_protected(target, given, protect, label)
    _previous_output(target, label, given)


def manifest_bytes(files: dict[str, bytes]) -> bytes:
    """The manifest of ``files``: deterministic (sorted, no time stamps)."""
    body = {"written_by": "mlmon", "format": MANIFEST_FORMAT,
            "files": {rel: hashlib.sha256(files[rel]).hexdigest() for rel in sorted(files)}}
    return (json.dumps(body, indent=1, sort_keys=False) + "\n").encode()


# --- what may be written -------------------------------------------------------------------------


def _check_names(files: dict[str, bytes], given: Path, label: str) -> None:
    for rel in files:
        parts = PurePosixPath(rel).parts
        if (not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts)
                or parts[0] in (MANIFEST, INCOMPLETE) or "\\" in rel or "\0" in rel or "//" in rel
                or rel.endswith("/")):
            raise OutputRefused(f"refusing to write {rel!r} into {label} {given}: not a plain relative path")
        long = [p for p in parts if len(p.encode()) > NAME_MAX]
        if long:
            raise OutputRefused(f"cannot write {label} {given}: the file name {long[0][:60]}... "
                                f"({len(long[0].encode())} bytes) is longer than {NAME_MAX} bytes")


def _check_out_name(given: Path, label: str) -> None:
    if len(given.name.encode()) > NAME_MAX - 20:
        raise OutputRefused(f"{label} {given.name[:40]}... is a {len(given.name.encode())}-byte folder name; mlmon "
                            f"needs 20 bytes more for its temporary sibling and the limit is {NAME_MAX}: "
                            "give a shorter one")


def _target(given: Path, label: str) -> Path:
    """The directory to replace: ``given``, or the directory a symlinked ``given`` points to."""
    if given.is_symlink():
        real = Path(os.path.realpath(given))
        if not real.exists():
            raise OutputRefused(f"{label} {given} is a symlink to {real}, which does not exist; "
                                "create the target directory or remove the link")
        if not real.is_dir():
            raise OutputRefused(f"{label} {given} is a symlink to {real}, which is not a directory")
        return real
    return Path(os.path.realpath(given.parent)) / given.name


def _inside(a: Path, b: Path) -> bool:
    """``a`` is ``b`` or inside it."""
    return a == b or b in a.parents


def _refuse_protected(target: Path, given: Path, protect: tuple, label: str) -> None:
    shown = f"{label} {given}" + (f" (-> {target})" if target != given else "")
    if target == Path(target.anchor):
        raise OutputRefused(f"refusing {shown}: it is the filesystem root")
    home = os.environ.get("HOME")
    if home and os.path.isdir(home) and target == Path(os.path.realpath(home)):
        raise OutputRefused(f"refusing {shown}: it is your home directory ($HOME)")
    cwd = Path(os.path.realpath(os.getcwd()))
    if _inside(cwd, target):
        raise OutputRefused(f"refusing {shown}: it is the current directory or contains it; "
                            "give a folder of its own, e.g. --out out/dev")
    if os.path.ismount(target):
        raise OutputRefused(f"refusing {shown}: it is a mount point, which the atomic rename that replaces {label} "
                            f"cannot move; give a folder inside it, e.g. {label} {given / 'out'}")
    if os.path.lexists(target / ".git"):
        raise OutputRefused(f"refusing {shown}: it is the root of a git work tree (it holds .git)")
    for p in protect:
        if p is None:
            continue
        real = Path(os.path.realpath(p))
        if _inside(real, target):
            raise OutputRefused(f"refusing {shown}: it is or contains {p}, which mlmon reads "
                                "(the catalog, its dashboards or hand-written runbooks)")
        if _inside(target, real):
            raise OutputRefused(f"refusing {shown}: it is inside {p}, which mlmon reads "
                                "(the catalog, its dashboards or hand-written runbooks)")


def _previous_output(target: Path, label: str, given: Path) -> dict[str, str]:
    """The files of the mlmon output at ``target`` (path -> sha256): ``{}`` when absent or empty. Raises
    OutputRefused unless it is absent, empty or exactly a previous mlmon output."""
    shown = f"{label} {given}" + (f" (-> {target})" if target != given else "")
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return {}
    if not stat.S_ISDIR(st.st_mode):
        raise OutputRefused(f"refusing {shown}: it exists and is not a directory")
    entries = _walk(target)
    if not entries:
        return {}
    manifest = target / MANIFEST
    if MANIFEST not in entries:
        sample = ", ".join(sorted(entries)[:_SHOWN]) + (", ..." if len(entries) > _SHOWN else "")
        raise OutputRefused(f"refusing {shown}: it is not empty and not an mlmon output (no {MANIFEST}); "
                            f"it holds {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} ({sample}). "
                            "mlmon only replaces an empty folder or one it wrote: give another --out or "
                            "empty this one yourself")
    listed = _read_manifest(manifest, shown)
    problems = []
    for rel, kind in sorted(entries.items()):
        if rel == MANIFEST:
            continue
        if kind == "dir":
            if not any(f.startswith(rel + "/") for f in listed):
                problems.append(f"{rel}/ was not written by mlmon")
        elif rel not in listed:
            problems.append(f"{rel} was not written by mlmon" + (" (a symlink)" if kind == "symlink" else ""))
        elif kind != "file":
            problems.append(f"{rel} was replaced by a {kind} since mlmon wrote it")
        elif _sha256(target / rel) != listed[rel]:
            problems.append(f"{rel} was changed since mlmon wrote it")
    for rel in sorted(set(listed) - set(entries)):
        problems.append(f"{rel} (listed in {MANIFEST}) is missing")
    if problems:
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise OutputRefused(f"refusing {shown}: it holds files that are not mlmon's as written: "
                            f"{'; '.join(problems[:_SHOWN])}{more}. Nothing was touched: move your files "
                            "elsewhere (or delete the folder) and render again")
    return listed


def _walk(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (no symlink followed): relative path -> file/dir/link/other."""
    out: dict[str, str] = {}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(root / rel_dir if rel_dir else root) as it:
            for e in it:
                rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
                if e.is_symlink():
                    out[rel] = "symlink"
                elif e.is_dir(follow_symlinks=False):
                    out[rel] = "dir"
                    stack.append(rel)
                elif e.is_file(follow_symlinks=False):
                    out[rel] = "file"
                else:
                    out[rel] = "special file"
    return out


def _read_manifest(path: Path, shown: str) -> dict[str, str]:
    try:
        if not path.is_file() or path.is_symlink():
            raise ValueError("not a regular file")
        body = json.loads(path.read_bytes())
        files = body["files"]
        if body.get("written_by") != "mlmon" or not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise ValueError("not an mlmon manifest")
        return files
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise OutputRefused(f"refusing {shown}: its {MANIFEST} is not a valid mlmon manifest ({exc}); "
                            "nothing was touched") from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- writing -------------------------------------------------------------------------------------


def _write_and_swap(files: dict[str, bytes], target: Path, label: str, given: Path) -> None:
    parent = target.parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputFailed(f"cannot write {label} {given}: cannot create a temporary folder in {parent}: "
                           f"{_reason(exc)}") from None
    current = tmp
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        (tmp / INCOMPLETE).write_bytes(b"")
        made: set[Path] = set()
        for rel in sorted(files):
            current = tmp / rel
            if current.parent not in made:
                current.parent.mkdir(parents=True, exist_ok=True)
                made.add(current.parent)
            with open(current, "wb") as f:
                f.write(files[rel])
        current = tmp / MANIFEST
        current.write_bytes(manifest_bytes(files))
        current = tmp / INCOMPLETE
        os.unlink(current)
        current = target
        _hook("before-swap")
        if os.path.lexists(target):
            try:
                exchange(tmp, target)
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                _two_renames(tmp, target)
                return
            _hook("after-swap")
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old tree
        else:
            os.rename(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        where = current if current != target else target
        raise OutputFailed(f"cannot write {label} {given}: {where}: {_reason(exc)}; {label} is as it was") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _two_renames(tmp: Path, target: Path) -> None:
    """The fallback without an atomic exchange: the old tree aside, the new into place (recovered by the
    next run when killed in between, see :func:`_recover`)."""
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    os.rename(target, old)
    _hook("between-renames")
    try:
        os.rename(tmp, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _hook(point: str) -> None:
    """Fault injection for the tests (``tests/test_output.py``): ``MLMON_TEST_KILL_AT=<point>`` kills the
    process there with SIGKILL, as a crash or ``kill -9`` would."""
    if os.environ.get("MLMON_TEST_KILL_AT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --- atomic exchange -----------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS stdio.h


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> None:
    """Atomically swap the directory entries ``a`` and ``b`` (both must exist). Raises OSError (ENOSYS or
    EINVAL where the system or filesystem cannot)."""
    fa, fb = os.fsencode(a), os.fsencode(b)
    libc = ctypes.CDLL(None, use_errno=True)
    if sys.platform.startswith("linux"):
        fn = getattr(libc, "renameat2", None)
        if fn is not None:
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            rc = fn(_AT_FDCWD, fa, _AT_FDCWD, fb, _RENAME_EXCHANGE)
        else:  # glibc < 2.28: the system call itself
            nr = {"x86_64": 316, "aarch64": 276}.get(os.uname().machine)
            if nr is None:
                raise OSError(errno.ENOSYS, "renameat2 not available")
            libc.syscall.restype = ctypes.c_long
            rc = libc.syscall(ctypes.c_long(nr), ctypes.c_int(_AT_FDCWD), ctypes.c_char_p(fa),
                              ctypes.c_int(_AT_FDCWD), ctypes.c_char_p(fb), ctypes.c_uint(_RENAME_EXCHANGE))
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        fn = libc.renamex_np
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        rc = fn(fa, fb, _RENAME_SWAP)
    else:
        raise OSError(errno.ENOSYS, "no atomic exchange on this system")
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a), None, str(b))


# --- lock and leftovers --------------------------------------------------------------------------


@contextmanager
def _locked(parent: Path, label: str, given: Path):
    try:
        fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise OutputFailed(f"cannot open {parent} (the folder holding {label} {given}): {_reason(exc)}") from None
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputFailed(f"another mlmon has been writing into {parent} for {LOCK_TIMEOUT:.0f} s; "
                                       f"{label} {given} was not touched") from None
                if not told:
                    print(f"mlmon: waiting for another mlmon writing into {parent}", file=sys.stderr)
                    told = True
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _leftovers(target: Path) -> list[Path]:
    prefixes = (f".{target.name}.tmp-", f".{target.name}.old-")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return [target.parent / n for n in sorted(names) if n.startswith(prefixes)]


def _is_ours(d: Path) -> bool:
    if d.is_symlink() or not d.is_dir():
        return False
    if (d / INCOMPLETE).is_file():
        return True
    try:
        if not any(d.iterdir()):
            return True
        body = json.loads((d / MANIFEST).read_bytes())
        return body.get("written_by") == "mlmon"
    except (OSError, ValueError, AttributeError):
        return False


def _recover(target: Path) -> None:
    """Under the lock: put back an old tree a killed run left aside, then remove mlmon's leftovers."""
    found = _leftovers(target)
    if not os.path.lexists(target):
        olds = [d for d in found if d.name.startswith(f".{target.name}.old-") and _is_ours(d)
                and not (d / INCOMPLETE).exists()]
        if olds:
            restored = max(olds, key=lambda d: ((d / MANIFEST).is_file(), d.stat().st_mtime))
            os.rename(restored, target)
            print(f"mlmon: restored {target} from {restored.name}, left by an interrupted run", file=sys.stderr)
            found.remove(restored)
    for d in found:
        if _is_ours(d):
            shutil.rmtree(d, ignore_errors=True)
            print(f"mlmon: removed {d}, left by an interrupted run", file=sys.stderr)
        else:
            print(f"mlmon: warning: left {d} alone: its name is mlmon's but it is not an mlmon output",
                  file=sys.stderr)
