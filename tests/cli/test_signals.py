"""A command stopped by SIGTERM (``kill``, ``docker stop``, a CI timeout) cleans up as on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import REPO

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGTERM semantics are POSIX")


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_during_sample_removes_the_temporary_file(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable,
        "-c",
        "from mirage.cli import main; main()",
        "sample",
        model_path,
        "-n",
        "1000000000",
        "-o",
        out,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        writing = _wait_for(lambda: any(tmp_path.glob(".rows.csv.*.tmp")) or process.poll() is not None, 120)
        assert writing and process.poll() is None, "mirage sample ended, or never started writing"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, stderr  # 143, as shells report a TERM
    assert stderr.strip() == "error: terminated (SIGTERM)"
    assert list(tmp_path.iterdir()) == []


def test_previous_sigterm_handler_is_restored(model_path: Path) -> None:
    from tests.cli.helpers import invoke

    def mine(signum: int, frame: object) -> None:
        pass

    before = signal.signal(signal.SIGTERM, mine)
    try:
        assert invoke("info", model_path).exit_code == 0
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
