"""The agent core: clock ticks, event order, per-agent seeds, blocks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from mirage.errors import OptionError
from mirage.simulate import BLOCK_AGENTS, DAY_MS, Agent, Clock, agent_random, population_blocks, run_blocks


def test_clock_ticks_at_or_after_a_time() -> None:
    clock = Clock(start=100, step=10)
    assert [clock.tick_at_or_after(t) for t in (0, 100, 101, 110, 111, 119, 120)] == [
        100,
        100,
        110,
        110,
        120,
        120,
        120,
    ]
    negative = Clock(start=-25, step=10)
    assert negative.tick_at_or_after(-24) == -15
    with pytest.raises(OptionError, match="step"):
        Clock(start=0, step=0)


def test_events_run_by_tick_then_priority_then_schedule_order() -> None:
    agent = Agent.seeded(seed=1, index=0)
    seen: list[tuple[str, int]] = []

    def note(name: str):  # type: ignore[no-untyped-def]
        return lambda tick: seen.append((name, tick))

    agent.schedule(15, note("late"), priority=0)
    agent.schedule(3, note("b"), priority=2)
    agent.schedule(1, note("a"), priority=1)
    agent.schedule(9, note("c"), priority=2)

    def chain(tick: int) -> None:
        seen.append(("chain", tick))
        agent.schedule(tick, note("same tick"), priority=5)
        agent.schedule(tick + 1, note("next tick"), priority=0)

    agent.schedule(0, chain, priority=9)
    agent.run(Clock(start=0, step=10), until=25)
    assert seen == [
        ("chain", 0),
        ("same tick", 0),
        ("next tick", 10),  # priority 0
        ("a", 10),  # priority 1
        ("b", 10),  # priority 2, scheduled before c
        ("c", 10),
        ("late", 20),
    ]
    assert agent.pending == 0


def test_run_stops_before_until_and_keeps_later_events() -> None:
    agent = Agent.seeded(seed=1, index=0)
    seen: list[int] = []
    for t in (0, 7, 14, 21):
        agent.schedule(t, seen.append)
    agent.run(Clock(0, 7), until=14)
    assert seen == [0, 7]
    assert agent.pending == 2
    agent.clear()
    assert agent.pending == 0


def test_an_agents_generator_depends_on_the_seed_and_its_number_only() -> None:
    draws = [
        agent_random(7, i).random() for i in (0, 1, BLOCK_AGENTS - 1, BLOCK_AGENTS, 5 * BLOCK_AGENTS + 3)
    ]
    assert len(set(draws)) == len(draws)
    assert agent_random(7, BLOCK_AGENTS + 3).random() == agent_random(7, BLOCK_AGENTS + 3).random()
    assert agent_random(8, 3).random() != agent_random(7, 3).random()
    with pytest.raises(OptionError):
        agent_random(7, -1)


def test_population_blocks_cover_every_agent_once() -> None:
    blocks = population_blocks(2 * BLOCK_AGENTS + 5)
    assert [(b.start, b.stop) for b in blocks] == [
        (0, BLOCK_AGENTS),
        (BLOCK_AGENTS, 2 * BLOCK_AGENTS),
        (2 * BLOCK_AGENTS, 2 * BLOCK_AGENTS + 5),
    ]
    assert population_blocks(0) == []
    assert [len(b) for b in population_blocks(10, block_agents=4)] == [4, 4, 2]
    with pytest.raises(OptionError):
        population_blocks(-1)


def _random_walks(block: range) -> list[tuple[int, float]]:
    """A user's own agents: each walks for 30 days, a step a day, and reports where it ended."""
    out = []
    for index in block:
        agent = Agent.seeded(seed=11, index=index, attributes={"position": 0.0})

        def move(tick: int, agent: Agent = agent) -> None:
            agent.attributes["position"] += agent.random.gauss(0, 1)
            agent.schedule(tick + DAY_MS, move)

        agent.schedule(0, move)
        agent.run(Clock(0, DAY_MS), until=30 * DAY_MS)
        out.append((index, agent.attributes["position"]))
    return out


def test_the_same_agents_come_out_however_the_population_is_split() -> None:
    whole = [row for rows in run_blocks(_random_walks, [range(0, 25)]) for row in rows]
    split = [row for rows in run_blocks(_random_walks, population_blocks(25, 4)) for row in rows]
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = [
            row for rows in run_blocks(_random_walks, population_blocks(25, 7), executor=pool) for row in rows
        ]
    assert whole == split == threaded
    assert len({position for _, position in whole}) == 25
