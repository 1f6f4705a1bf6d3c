"""Process-wide torch settings, changed only inside a scope and restored after it (exceptions too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["torch_scope"]


@contextmanager
def torch_scope(
    threads: int | None, devices: list[Any] | None = None, device_type: str = "cpu"
) -> Iterator[None]:
    """Run torch's CPU operations on ``threads`` threads (None: as set) with torch's global random state
    forked: whatever the block draws or sets, both are as before once it ends.

    ``devices`` are the CUDA devices whose random state is forked too (none by default).
    """
    import torch

    before = torch.get_num_threads()
    with torch.random.fork_rng(devices=devices or [], device_type=device_type):
        if threads is not None and threads != before:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)
