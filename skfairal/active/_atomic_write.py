"""Files written whole or not at all: a temporary file, then one rename."""

import glob
import os
from pathlib import Path


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The temporary file sits in the target's folder, so that ``os.replace`` is
    a rename, not a copy: a crash at any point leaves the previous file
    whole. A replaced file keeps its permissions.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _remove_stale_temporaries(path)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files of writes whose process was killed."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            pid = int(stale.name[len(path.name) + 2 : -len(".tmp")])
            os.kill(pid, 0)
        except ProcessLookupError:
            stale.unlink(missing_ok=True)
        except (ValueError, PermissionError, OSError):
            # Not one of ours, or a live process of another user.
            continue
