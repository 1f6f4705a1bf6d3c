"""Freed memory is reused while a task runs in a process started as Dask starts its workers (with
``MALLOC_TRIM_THRESHOLD_`` set, which makes glibc map every array over 128 KiB afresh)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc"
)

CHURN = """
import json, resource
import numpy as np
from mirage.scale._malloc import reusing_freed_memory

def churn():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):
        block = np.ones(1_000_000)  # 8 MB, as the arrays of a sampled block are
        del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

outside = churn()
with reusing_freed_memory():
    inside = churn()
after = churn()
print(json.dumps([outside, inside, after]))
"""


def _page_faults(env: dict[str, str]) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", CHURN], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_task_reuses_freed_arrays_where_dask_fixed_the_trim_threshold_and_puts_it_back_after() -> None:
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    outside, inside, after = _page_faults(env)
    # 8 MB is about 2,000 pages (a few hundred faults here, the kernel maps several at a time): mapped
    # afresh 40 times outside, once within
    assert outside > 40 * 200
    assert inside < outside / 10
    assert after > 40 * 200  # the worker's own setting is back once the task is done


def test_a_plain_process_keeps_glibcs_own_tuning() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    outside, inside, after = _page_faults(env)
    assert max(outside, inside, after) < 40 * 200  # glibc's growing threshold reuses them already
