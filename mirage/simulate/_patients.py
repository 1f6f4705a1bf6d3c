"""Patients: a base population whose lives run through Synthea GMF modules, written as Synthea's CSV
tables (see :mod:`mirage.simulate._tables`).

Each patient is an :class:`~mirage.simulate._core.Agent` living from birth to the end date on a
clock that ticks every 7 days from birth (Synthea's time step).  Every module is an event on that
clock: it runs at a tick, and schedules itself again for when its blocking state can finish (the
tick at or after a Delay's end, the next tick for a Guard, the next wellness visit for a wellness
Encounter).  Wellness visits follow Synthea's age schedule (:func:`wellness_ages`) and run before the
modules at their tick.  Patient ``i`` draws from its own generator (``SeedSequence([seed, i // 1000],
spawn_key=(i % 1000,))``), so a population cut into any blocks gives the same tables.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd

from mirage.errors import DataError, OptionError
from mirage.simulate._core import DAY_MS, Agent, Clock, agent_random, population_blocks, run_blocks
from mirage.simulate._gmf import (
    Code,
    Direct,
    EncounterRecord,
    Entry,
    GMFModule,
    ModuleRun,
    load_module,
    load_modules,
)
from mirage.simulate._population import YEAR_DAYS, demographics, make_faker, wellness_ages
from mirage.simulate._tables import PATIENT_TABLES, table_frames

__all__ = [
    "DEFAULT_END",
    "ENCOUNTER_MINUTES",
    "STEP_MS",
    "Patient",
    "ModuleSource",
    "live",
    "new_patient",
    "simulate_patient",
    "simulate_patients",
]

STEP_MS = 7 * DAY_MS
DEFAULT_END = "2025-01-01"
ENCOUNTER_MINUTES = 15  # an encounter no EncounterEnd closes later lasts this long
YEAR_MS = YEAR_DAYS * DAY_MS
WELL_CHILD = Code("SNOMED-CT", "410620009", "Well child visit (procedure)")
GENERAL_EXAM = Code("SNOMED-CT", "162673000", "General examination of patient (procedure)")

ModuleSource = str | Path | Mapping[str, Any] | GMFModule


class Patient(Agent):
    """One patient: demographics, the GMF attributes and symptoms, and the records written so far."""

    def __init__(self, index: int, rng: random.Random, birth: int, person: dict[str, Any]) -> None:
        super().__init__(index=index, random=rng)
        self.ids = random.Random(rng.getrandbits(64))  # identifiers, apart from the clinical draws
        self.id = self.new_id()
        self.birth = birth
        self.gender: str = person["GENDER"]
        self.person = person
        self.death: int | None = None
        self.symptoms: dict[str, dict[str, int]] = {}
        self.observations: dict[str, Any] = {}  # latest value by code
        self.active: dict[str, dict[str, Entry]] = {
            "conditions": {},
            "medications": {},
            "careplans": {},
            "allergies": {},
        }
        self.entries: dict[str, list[Entry]] = {"conditions": [], "medications": [], "careplans": []}
        self.encounters: list[EncounterRecord] = []
        self.observation_rows: list[tuple[int, EncounterRecord | None, str, Code, Any, str]] = []
        self.procedures: list[tuple[int, int | None, EncounterRecord | None, Code, Code | None]] = []
        self.wellness_tick: int | None = None
        self.wellness_encounter: EncounterRecord | None = None
        self.waiting: list[tuple[Callable[[int], None], int]] = []  # modules waiting for a wellness visit
        self.end = 0  # when the life stops being simulated (set by ``live``)
        self.fast_loops = True  # run looping delays ahead (``loop_ahead``); False: one event per turn

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.ids.getrandbits(128), version=4))

    # --- what the GMF states call -----------------------------------------------------------
    def symptom(self, name: str) -> int:
        causes = self.symptoms.get(name)
        return max(causes.values()) if causes else 0

    def new_encounter(self, time: int, encounter_class: str, code: Code | None) -> EncounterRecord:
        encounter = EncounterRecord(self.new_id(), time, encounter_class, code)
        self.encounters.append(encounter)
        return encounter

    def end_encounter(self, encounter: EncounterRecord, time: int) -> None:
        encounter.stop = max(time, encounter.start + ENCOUNTER_MINUTES * 60_000)

    def start_entry(self, table: str, code: Code, state: str, run: ModuleRun, time: int) -> Entry:
        active = self.active[table]
        if table == "conditions" and code.code in active:  # Synthea keeps one record of a present condition
            return active[code.code]
        entry = Entry(code, state, run.module.name, time, run.encounter)
        if table == "careplans":
            entry.id = self.new_id()
        active[code.code] = entry
        self.entries[table].append(entry)
        return entry

    def end_entry(self, table: str, code: str, time: int) -> None:
        entry = self.active[table].pop(code, None)
        if entry is not None:
            entry.stop = time

    def reason(self, name: str, run: ModuleRun) -> Code | None:
        """An encounter's, medication's or care plan's ``reason``: the record in attribute ``name``, or
        the active condition recorded by the state ``name``."""
        value = self.attributes.get(name)
        if isinstance(value, Entry):
            return value.code
        for entry in self.active["conditions"].values():
            if entry.state == name and entry.module == run.module.name:
                return entry.code
        return None

    # --- the simulation ---------------------------------------------------------------------
    def wellness_visit(self, tick: int) -> None:
        code = WELL_CHILD if tick - self.birth < 18 * YEAR_MS else GENERAL_EXAM
        self.wellness_encounter = self.new_encounter(tick, "wellness", code)
        self.wellness_tick = tick
        waiting, self.waiting = self.waiting, []
        for step, priority in waiting:
            self.schedule(tick, step, priority)

    def module_step(self, run: ModuleRun, priority: int) -> Callable[[int], None]:
        """The event that runs ``run`` at a tick and schedules it again for when it can go on."""

        def step(tick: int) -> None:
            run.wellness = self.wellness_tick == tick
            run.process(self, tick)
            state = run.state
            if self.death is not None:
                self.schedule(self.death, self._die, -1)
            if state.is_delay:
                if state.loop is not None and state.loop >= STEP_MS and self.fast_loops:
                    self.loop_ahead(run, state.loop, step, priority)
                else:
                    self.schedule(run.next, step, priority)  # type: ignore[arg-type]
            elif state.is_guard:
                self.schedule(tick + STEP_MS, step, priority)
            elif state.is_wellness:
                self.waiting.append((step, priority))

        return step

    def loop_ahead(self, run: ModuleRun, duration: int, step: Callable[[int], None], priority: int) -> None:
        """Turn ``run``'s looping Delay until its transition leaves it, without an event per turn.

        Turn ``j`` ends at the first end plus ``j * duration`` (a step or more, so one turn per tick)
        and its transition is chosen at the tick that notices it, as the step-by-step run does.  While
        the same choice applies (an age test has not crossed its threshold), the turns are Bernoulli
        trials with the chance of staying ``s``: the number of turns before leaving is drawn at once
        (geometric), then where it goes, in proportion to the other options.  The leaving turn is
        scheduled with its target already drawn; a loop still turning at the end of the life schedules
        nothing.  Only the last turn of a run of stays is kept in the module's history (``PriorState``
        looks for the latest one)."""
        state = run.state
        transition = state.transition
        assert transition is not None and run.next is not None
        name = state.name
        end = run.next
        start, step_ms, until = self.birth, STEP_MS, self.end
        rng = self.random
        while True:
            tick = start - ((start - end) // step_ms) * step_ms
            if tick >= until:
                return
            choice, change = transition.phase(self, run, tick)
            limit = until if change is None else min(until, change)
            last_tick = start - ((start - limit) // step_ms) * step_ms - step_ms  # the last tick before limit
            turns = (last_tick - end) // duration + 1  # turns whose tick is before the limit (>= 1)
            if choice is None or isinstance(choice, Direct):
                if choice is not None and choice.target == name:
                    leave, target = turns, None
                else:  # the first turn leaves (or ends the module): the scheduled step follows it
                    self.schedule(end, step, priority)
                    return
            else:
                stay, others = choice.split(name)
                if stay >= 1.0 or not others:
                    leave, target = turns, None
                else:
                    leave = 0 if stay <= 0.0 else int(math.log(1.0 - rng.random()) / math.log(stay))
                    target = None
                    if leave < turns:
                        u = rng.random() * sum(p for p, _ in others)
                        target = others[-1][1]
                        for p, option in others:
                            u -= p
                            if u < 0:
                                target = option
                                break
            if target is None:  # stays through every turn of this choice
                end += turns * duration
                run.history.append((name, end - duration))
                continue
            if leave > 0:
                run.history.append((name, end + (leave - 1) * duration))
            end += leave * duration
            run.entered, run.next, run.forced = end - duration, end, target
            self.schedule(end, step, priority)
            return

    def _die(self, tick: int) -> None:
        self.clear()

    # --- output -----------------------------------------------------------------------------
    def rows(self, tables: dict[str, list[tuple[Any, ...]]], cutoff: int | None) -> None:
        """Append this patient's rows to ``tables`` (records from ``cutoff`` on, all when None)."""
        p = self.person
        pid = self.id
        tables["patients"].append(
            (
                pid,
                self.birth,
                self.death,
                *(p[c] for c in ("SSN", "DRIVERS", "PASSPORT", "PREFIX", "FIRST", "LAST", "SUFFIX")),
                *(p[c] for c in ("MAIDEN", "MARITAL", "RACE", "ETHNICITY", "GENDER", "BIRTHPLACE")),
                *(p[c] for c in ("ADDRESS", "CITY", "STATE", "COUNTY", "FIPS", "ZIP", "LAT", "LON")),
                None,
                None,
                p["INCOME"],
            )
        )
        start = -(2**62) if cutoff is None else cutoff
        kept: set[str] = set()
        minutes = ENCOUNTER_MINUTES * 60_000
        for e in self.encounters:
            if e.start < start:
                continue
            kept.add(e.id)
            code, reason = e.code, e.reason
            tables["encounters"].append(
                (
                    e.id,
                    e.start,
                    e.stop if e.stop is not None else e.start + minutes,
                    pid,
                    None,
                    None,
                    None,
                    e.encounter_class,
                    code.code if code else None,
                    code.display if code else None,
                    None,
                    None,
                    None,
                    reason.code if reason else None,
                    reason.display if reason else None,
                )
            )

        def keep(encounter: EncounterRecord | None, time: int) -> bool:
            return encounter.id in kept if encounter is not None else time >= start

        def eid(encounter: EncounterRecord | None) -> str | None:
            return encounter.id if encounter is not None else None

        def code_of(code: Code | None) -> tuple[str | None, str | None]:
            return (code.code, code.display) if code is not None else (None, None)

        for c in self.entries["conditions"]:
            if keep(c.encounter, c.start):  # type: ignore[arg-type]
                tables["conditions"].append((c.start, c.stop, pid, eid(c.encounter), *code_of(c.code)))
        for m in self.entries["medications"]:
            if keep(m.encounter, m.start):  # type: ignore[arg-type]
                head = (m.start, m.stop, pid, None, eid(m.encounter), *code_of(m.code))
                tables["medications"].append((*head, None, None, 1.0, None, *code_of(m.reason)))
        for cp in self.entries["careplans"]:
            if keep(cp.encounter, cp.start):  # type: ignore[arg-type]
                tables["careplans"].append(
                    (cp.id, cp.start, cp.stop, pid, eid(cp.encounter), *code_of(cp.code), *code_of(cp.reason))
                )
        for time, encounter, category, code, value, units in self.observation_rows:
            if keep(encounter, time):
                numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
                kind = "numeric" if numeric else "text"
                tables["observations"].append(
                    (time, pid, eid(encounter), category, *code_of(code), value, units, kind)
                )
        for time, stop, encounter, code, reason in self.procedures:
            if keep(encounter, time):
                ends = stop if stop is not None else time
                tables["procedures"].append(
                    (time, ends, pid, eid(encounter), *code_of(code), None, *code_of(reason))
                )


def _end_ms(end: str | dt.date | dt.datetime) -> int:
    if isinstance(end, str):
        try:
            moment = dt.datetime.fromisoformat(end)
        except ValueError:
            raise OptionError(f"end must be a date such as 2025-01-01, got {end!r}") from None
    elif isinstance(end, dt.datetime):
        moment = end
    else:
        moment = dt.datetime(end.year, end.month, end.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def new_patient(seed: int, index: int, end: int, fake: Any) -> Patient:
    """Patient ``index`` of a population simulated with ``seed``: demographics drawn, nothing lived."""
    rng = agent_random(seed, index)
    person = demographics(rng, fake)
    birth = end - round(person.pop("age_days") * DAY_MS)
    return Patient(index, rng, birth, person)


def live(patient: Patient, modules: Sequence[GMFModule], end: int, *, fast_loops: bool = True) -> Patient:
    """Run ``patient``'s life from birth to ``end`` (ms) through ``modules``, with wellness visits
    (``fast_loops=False``: every turn of a looping delay as its own event, for comparison)."""
    birth = patient.birth
    patient.end = end
    patient.fast_loops = fast_loops
    for age in wellness_ages((end - birth) / DAY_MS):
        patient.schedule(birth + round(age * DAY_MS), patient.wellness_visit, 0)
    for priority, module in enumerate(modules, start=1):
        patient.schedule(birth, patient.module_step(ModuleRun(module), priority), priority)
    patient.run(Clock(birth, STEP_MS), end)
    return patient


def simulate_patient(modules: Sequence[GMFModule], seed: int, index: int, end: int, fake: Any) -> Patient:
    """Patient ``index`` of a population simulated with ``seed``, from birth to ``end`` (ms)."""
    return live(new_patient(seed, index, end, fake), modules, end)


class _BlockSimulator:
    """Simulates one block of patients into rows; picklable (modules travel as their JSON and are
    loaded again where the block runs), so an executor can run blocks in other processes."""

    def __init__(
        self, specs: list[tuple[Mapping[str, Any], str]], seed: int, end: int, cutoff: int | None, locale: str
    ) -> None:
        self.specs, self.seed, self.end, self.cutoff, self.locale = specs, seed, end, cutoff, locale
        self._modules: list[GMFModule] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_modules": None}

    def __call__(self, block: range) -> dict[str, list[tuple[Any, ...]]]:
        if self._modules is None:
            self._modules = [load_module(spec, label=label) for spec, label in self.specs]
        fake = make_faker(self.locale)
        tables: dict[str, list[tuple[Any, ...]]] = {name: [] for name in PATIENT_TABLES}
        for index in block:
            simulate_patient(self._modules, self.seed, index, self.end, fake).rows(tables, self.cutoff)
        return tables


def _modules(modules: ModuleSource | Sequence[ModuleSource]) -> list[GMFModule]:
    if isinstance(modules, (str, Path)):
        if Path(modules).is_dir():
            return load_modules(modules)
        if not Path(modules).exists():
            raise DataError(f"modules '{modules}': no such folder or module file")
    items: Sequence[ModuleSource] = (
        [modules] if isinstance(modules, (str, Path, Mapping, GMFModule)) else modules
    )
    return [m if isinstance(m, GMFModule) else load_module(m) for m in items]


def simulate_patients(
    modules: ModuleSource | Sequence[ModuleSource],
    population: int,
    *,
    years: float | None = 10,
    seed: int = 0,
    end: str | dt.date = DEFAULT_END,
    locale: str = "en_US",
    blocks: Sequence[range] | None = None,
    executor: Executor | None = None,
) -> dict[str, pd.DataFrame]:
    """Simulate ``population`` patients through the GMF ``modules`` (a folder of ``*.json``, module
    files, parsed JSON or loaded modules) and return Synthea's CSV tables as DataFrames.

    Every life runs from birth to ``end``; the tables keep the last ``years`` of records (all of them
    when None), as Synthea's ``years_of_history``.  ``blocks`` (ranges of patient numbers covering
    ``0 .. population - 1``) and ``executor`` decide how the work is cut and where it runs, never the
    output.  :func:`mirage.simulate.patients_database` describes the tables and their keys.
    """
    if population < 1:
        raise OptionError(f"population must be at least 1, got {population}")
    if years is not None and years <= 0:
        raise OptionError(f"years must be positive, got {years}")
    loaded = _modules(modules)
    if not loaded:
        raise OptionError("no module to run: give at least one GMF module")
    names = [m.name for m in loaded]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise OptionError(f"module {duplicate!r} is given twice")
    end_ms = _end_ms(end)
    cutoff = None if years is None else end_ms - round(years * YEAR_MS)
    chosen = population_blocks(population) if blocks is None else sorted(blocks, key=lambda b: b.start)
    covered = sorted(i for block in chosen for i in block)
    if covered != list(range(population)):
        raise OptionError(f"blocks must cover patients 0 .. {population - 1} once each")
    make_faker(locale)  # an unknown locale fails here, before any block runs
    simulator = _BlockSimulator([(m.spec, m.source) for m in loaded], seed, end_ms, cutoff, locale)
    simulator._modules = loaded
    results = run_blocks(simulator, chosen, executor=executor)
    merged: dict[str, list[tuple[Any, ...]]] = {name: [] for name in PATIENT_TABLES}
    for result in results:
        for name, rows in result.items():
            merged[name].extend(rows)
    return table_frames(merged)
