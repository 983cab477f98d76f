"""File creation shared by everything that writes results: modes that honour the umask."""

from __future__ import annotations

import os


def umask() -> int:
    """The process umask, read without changing it where the system allows (Linux), else
    set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file (``0o666`` less the umask: 0644 under umask 022).

    Temporary files from :mod:`tempfile` are created 0600; a file written through one is
    given this mode before it replaces its target, so reports are as readable as any other
    file the user writes."""
    return 0o666 & ~umask()
