"""Model files edited as a user (or an older Mirage) might have left them, for the loading tests."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def edit_manifest(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of model file ``source`` at ``target`` whose manifest ``change`` has edited in place."""
    with zipfile.ZipFile(source) as read, zipfile.ZipFile(target, "w") as write:
        for name in read.namelist():
            data = read.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            write.writestr(name, data)
    return target
