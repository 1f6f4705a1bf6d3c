"""Counter-based random numbers for vectorised simulators.

A draw is a hash (SplitMix64's finaliser) of ``(seed, stream, agent, counter)``: it depends on those
numbers only, never on which other agents are simulated with it or in which order, so a population cut
into any blocks gives the same draws, and a whole block's draws are a few numpy passes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["agent_keys", "normals", "uniforms"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(x: np.ndarray) -> np.ndarray:
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def agent_keys(seed: int, stream: int, agents: np.ndarray) -> np.ndarray:
    """One 64-bit key per agent (numbered across the whole population) for the draws of ``stream``."""
    base = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    base = _mix(base ^ np.uint64(stream))
    return _mix(base + np.asarray(agents, dtype=np.uint64))


def uniforms(keys: np.ndarray, counters: np.ndarray | int) -> np.ndarray:
    """Uniform draws in [0, 1): one per (key, counter) pair (broadcast)."""
    with np.errstate(over="ignore"):
        z = _mix(keys ^ (np.asarray(counters, dtype=np.uint64) * _GOLDEN))
    return (z >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def normals(keys: np.ndarray, counters: np.ndarray | int) -> np.ndarray:
    """Standard normal draws (Box-Muller on the uniforms of ``2 * counter`` and ``2 * counter + 1``)."""
    counters = np.asarray(counters, dtype=np.uint64) * np.uint64(2)
    u1 = uniforms(keys, counters)
    u2 = uniforms(keys, counters + np.uint64(1))
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
