"""Files a command writes where the user said (``report --out``, ``sample --out``).

Such a path may be a symlink, a folder or a device. A symlink is written through (its
target gets the new content and the link stays a link); a folder, a device, a pipe or a
socket is refused up front in one line, before anything is computed, so that nothing is
replaced that was not a file and no temporary file is left beside it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Optional


def output_problem(path: Path) -> Optional[str]:
    """Why ``path`` cannot take a new file, or None when it can (it is a regular file, a
    symlink to one, or nothing yet)."""
    try:
        mode = path.stat().st_mode  # follows symlinks: the target is what gets written
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    if stat.S_ISDIR(mode):
        return f"{path} is a folder; give a file name in it, e.g. {path / 'NAME'}"
    if not stat.S_ISREG(mode):
        return f"{path} is not a regular file (a device, a pipe or a socket); give a file name"
    return None


def write_target(path: Path) -> Path:
    """The file to write for ``path``: the final target when it is a symlink (a dangling
    one included), so that renaming a new file into place keeps the link."""
    return Path(os.path.realpath(path))
