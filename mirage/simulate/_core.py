"""A small agent-based simulation core: agents with attributes, a random generator of their own and
events scheduled at times, run on a clock with a fixed step.

Times are integer milliseconds since 1970-01-01 UTC (negative before), as in Synthea.  An event
scheduled at time ``t`` runs at the clock's first tick at or after ``t`` (the tick is what the action
is given); events due at one tick run by priority, then in the order they were scheduled.

Randomness is organised in blocks of ``BLOCK_AGENTS`` agents, like the engines' ``BLOCK_ROWS`` rows:
agent ``i`` is agent ``i % BLOCK_AGENTS`` of block ``i // BLOCK_AGENTS`` and draws from its own
generator, seeded from ``SeedSequence([seed, block], spawn_key=(i % BLOCK_AGENTS,))`` (the agent's
child of the block's sequence).  An agent's draws depend on the seed and its number only, so a
population split into any blocks, chunks or processes gives the same output.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from mirage.errors import OptionError

__all__ = [
    "BLOCK_AGENTS",
    "DAY_MS",
    "Agent",
    "Clock",
    "agent_random",
    "population_blocks",
    "run_blocks",
]

BLOCK_AGENTS = 1_000
DAY_MS = 86_400_000

T = TypeVar("T")
Action = Callable[[int], None]


@dataclass(frozen=True)
class Clock:
    """Ticks at ``start + k * step`` (k = 0, 1, ...), in milliseconds."""

    start: int
    step: int

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise OptionError(f"a clock's step must be positive, got {self.step} ms")

    def tick_at_or_after(self, time: int) -> int:
        """The first tick whose time is ``time`` or later."""
        if time <= self.start:
            return self.start
        return self.start - ((self.start - time) // self.step) * self.step


def agent_random(seed: int, index: int) -> random.Random:
    """The random generator of agent ``index`` (numbered from 0 across the whole population)."""
    if index < 0:
        raise OptionError(f"an agent's index must be 0 or more, got {index}")
    block, offset = divmod(index, BLOCK_AGENTS)
    sequence = np.random.SeedSequence([int(seed), block], spawn_key=(offset,))
    return random.Random(int.from_bytes(sequence.generate_state(4, dtype=np.uint32).tobytes(), "little"))


@dataclass
class Agent:
    """One simulated individual: ``attributes`` a user's code reads and writes, ``random`` its own
    generator (see :func:`agent_random`), and a queue of events it runs on a :class:`Clock`."""

    index: int
    random: random.Random
    attributes: dict[str, Any] = field(default_factory=dict)
    _events: list[tuple[int, int, int, Action]] = field(default_factory=list, init=False, repr=False)
    _scheduled: int = field(default=0, init=False, repr=False)
    _clock: Clock | None = field(default=None, init=False, repr=False)

    @classmethod
    def seeded(cls, seed: int, index: int, attributes: dict[str, Any] | None = None) -> Agent:
        """Agent ``index`` of a population simulated with ``seed``."""
        return cls(index=index, random=agent_random(seed, index), attributes=dict(attributes or {}))

    def schedule(self, time: int, action: Action, priority: int = 0) -> None:
        """Run ``action(tick)`` at the first tick at or after ``time`` (once :meth:`run` has a clock;
        scheduled before, the tick is worked out when the run starts)."""
        clock = self._clock
        if clock is None or time <= clock.start:
            tick = time if clock is None else clock.start
        else:  # clock.tick_at_or_after, inline: this is the hot path of every simulation
            tick = clock.start - ((clock.start - time) // clock.step) * clock.step
        heapq.heappush(self._events, (tick, priority, self._scheduled, action))
        self._scheduled += 1

    def run(self, clock: Clock, until: int) -> None:
        """Run the scheduled events in tick order until the queue is empty or the next tick is at or
        after ``until``; an action may schedule more events (at its own tick too: they run in turn)."""
        if self._clock is None:
            self._clock = clock
            self._events = [(clock.tick_at_or_after(t), p, n, a) for t, p, n, a in self._events]
            heapq.heapify(self._events)
        events = self._events
        while events and events[0][0] < until:
            tick, _, _, action = heapq.heappop(events)
            action(tick)

    def clear(self) -> None:
        """Drop every scheduled event (the agent has left the simulation)."""
        self._events.clear()

    @property
    def pending(self) -> int:
        """Events still scheduled (after :meth:`run` stopped at its ``until``)."""
        return len(self._events)


def population_blocks(population: int, block_agents: int = BLOCK_AGENTS) -> list[range]:
    """Agent numbers ``0 .. population - 1`` cut into consecutive ranges of ``block_agents``."""
    if population < 0:
        raise OptionError(f"population must be 0 or more, got {population}")
    if block_agents <= 0:
        raise OptionError(f"block size must be positive, got {block_agents}")
    starts = range(0, population, block_agents)
    return [range(start, min(start + block_agents, population)) for start in starts]


def run_blocks(
    simulate_block: Callable[[range], T],
    blocks: Sequence[range] | Iterable[range],
    *,
    executor: Executor | None = None,
) -> list[T]:
    """``simulate_block`` on each block of agents, in order, or on ``executor`` (results still in block
    order).  Since every agent draws from its own generator, how the agents are cut into blocks and where
    they run does not change what they do."""
    blocks = list(blocks)
    if executor is None:
        return [simulate_block(block) for block in blocks]
    return list(executor.map(simulate_block, blocks))
