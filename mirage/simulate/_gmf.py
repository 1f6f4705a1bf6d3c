"""Synthea's Generic Module Framework (GMF): disease modules as JSON state machines, run per patient.

A module is loaded once (:func:`load_module`): every state, transition and condition is checked and
compiled, so an unknown state or condition type is an error naming the module, the state and the type
before anything runs.  :class:`ModuleRun` is one patient's progress through one module.

Semantics kept from Synthea (Java, ``Module.process`` and ``State``), each pinned by a test in
``tests/simulate/test_gmf_semantics.py``:

* A module is processed at a time step (7 days in :mod:`mirage.simulate._patients`).  States run one
  after another, all at that time, until one does not finish: a Delay not yet over, a Guard whose
  condition is false, an Encounter with ``wellness`` waiting for the patient's next wellness visit, or
  a Terminal state.
* A Delay ends at the time it was entered plus its duration, not at the step that notices it: the states
  after it run at that earlier time (Synthea "rewinds"), so a chain of short delays can finish within
  one step and every record carries its exact time.  The transition out of a Delay is chosen at the
  step's time (as Synthea does).  A wellness Encounter joined at a rewound time moves the run on to
  the visit's time: its records and the states after it are dated at the visit.
* Durations: a year is 365 days, a month 30 days, a week 7 days (Synthea's ``Utilities.convertTime``);
  a range draws uniformly between ``low`` and ``high``.
* A distributed transition draws ``u`` uniform in [0, 1) and takes the first option whose cumulative
  probability exceeds ``u``; when the probabilities sum below 1 the rest goes to the last option.
* A conditional (or complex) transition takes the first option whose condition holds (an option
  without a condition always holds); when none holds, the module ends as at a Terminal state.
* ``target_encounter``: a ConditionOnset records the condition only when the module is in (or next
  enters) the Encounter state of that name; the condition's START and ENCOUNTER are that encounter's.
  Until then it is not an "Active Condition", but its ``assign_to_attribute`` already holds its code
  (so an encounter's ``reason`` can name it).
* ``assign_to_attribute`` stores the record (condition, medication, care plan) in a patient attribute;
  ``referenced_by_attribute`` ends or tests the record stored there.
* A wellness Encounter joins the patient's wellness visit of the current step (at most one module
  state per module and visit), and waits otherwise.
* Ages are decimal: years of 365.25 days, months of a twelfth of that.

Not supported (an error names them): CallSubmodule, lookup tables, allergies, immunisations, devices,
supplies, imaging, vital signs, counters, physiology; ``type_of_care`` and table transitions.
"""

from __future__ import annotations

import json
import math
import operator
from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mirage.errors import DataError

if TYPE_CHECKING:
    from mirage.simulate._patients import Patient

__all__ = [
    "CONDITION_TYPES",
    "STATE_TYPES",
    "Code",
    "EncounterRecord",
    "Entry",
    "GMFModule",
    "ModuleRun",
    "duration_ms",
    "load_module",
    "load_modules",
]

DAY = 86_400_000
UNIT_MS: dict[str, float] = {
    "years": 365 * DAY,
    "months": 30 * DAY,
    "weeks": 7 * DAY,
    "days": DAY,
    "hours": 3_600_000,
    "minutes": 60_000,
    "seconds": 1000,
    "milliseconds": 1,
}
# units of an Age condition: decimal age
AGE_UNIT_MS: dict[str, float] = {
    **UNIT_MS,
    "years": 365.25 * DAY,
    "months": 365.25 * DAY / 12,
}


class Code(NamedTuple):
    system: str
    code: str
    display: str


class EncounterRecord:
    """An encounter on a patient's record (STOP None: 15 minutes after START when written)."""

    __slots__ = ("code", "encounter_class", "id", "reason", "start", "stop")

    def __init__(self, id: str, start: int, encounter_class: str, code: Code | None) -> None:
        self.id = id
        self.start = start
        self.stop: int | None = None
        self.encounter_class = encounter_class
        self.code = code
        self.reason: Code | None = None


class Entry:
    """A condition, medication or care plan on a patient's record (or, with ``encounter`` and ``start``
    None, a condition waiting for its target encounter)."""

    __slots__ = ("code", "encounter", "id", "module", "reason", "start", "state", "stop")

    def __init__(
        self, code: Code, state: str, module: str, start: int | None, encounter: EncounterRecord | None
    ) -> None:
        self.code = code
        self.state = state
        self.module = module
        self.start = start
        self.stop: int | None = None
        self.encounter = encounter
        self.reason: Code | None = None
        self.id = ""


Condition = Callable[["Patient", "ModuleRun", int], bool]


class ModuleRun:
    """One patient's progress through one module."""

    __slots__ = (
        "encounter",
        "encounter_state",
        "entered",
        "forced",
        "history",
        "module",
        "next",
        "pending",
        "state",
        "wellness",
    )

    def __init__(self, module: GMFModule) -> None:
        self.module = module
        self.state: State = module.states["Initial"]
        self.entered: int | None = None
        self.next: int | None = None  # a Delay's end
        self.forced: str | None = None  # the transition out of the current state, already drawn
        self.history: list[tuple[str, int]] = []  # (state, exit time) of the states left, oldest first
        self.encounter: EncounterRecord | None = None
        self.encounter_state: str | None = None  # the Encounter state that started ``encounter``
        self.pending: list[tuple[ConditionOnset, int]] = []  # onsets waiting for their target encounter
        self.wellness = False  # the patient's wellness visit of this step is still there to join

    def process(self, patient: Patient, time: int) -> None:
        """Run states from the current one at ``time`` until one does not finish (Synthea's loop, with
        its rewind to a Delay's end: the states after it run at that earlier time, then the loop goes
        on at ``time``)."""
        states = self.module.states
        times = [time]  # the rewound times still to finish, innermost last
        now = time
        while True:
            state = self.state
            if self.entered is None:
                self.entered = now
            if state.is_delay:
                end = self.next
                if end is None:
                    end = self.next = self.entered + state.duration(patient.random)  # type: ignore[attr-defined]
                done = now >= end
            else:
                done = state.process(patient, self, now)
                if done and self.encounter is not None and self.encounter.start > now:
                    # a wellness visit joined at a rewound time: what follows happens at the visit
                    now = times[-1] = self.encounter.start
            if not done:
                times.pop()
                if not times:
                    return
                now = times[-1]
                continue
            exited: int = self.next if state.is_delay else now  # type: ignore[assignment]
            transition = state.transition
            if self.forced is not None:
                target: str | None = self.forced
                self.forced = None
            else:
                target = transition.follow(patient, self, now) if transition is not None else None
            self.history.append((state.name, exited))
            if target is None:
                self.state = self.module.terminal
                self.entered = exited
                return
            self.state = states[target]
            self.entered = None
            self.next = None
            if exited < now:
                times.append(exited)
                now = exited

    @property
    def finished(self) -> bool:
        return self.state.is_terminal

    def had_prior_state(self, name: str, since: str | None, within_start: int | None) -> bool:
        if self.state.name == name:
            return True
        for state, exited in reversed(self.history):
            if within_start is not None and exited <= within_start:
                return False
            if state == name:
                return True
            if since is not None and state == since:
                return False
        return False


# --- module loading ---------------------------------------------------------------------------


class GMFModule:
    """A loaded, checked GMF module: its states by name (each compiled)."""

    def __init__(self, name: str, states: dict[str, State], source: str, spec: Mapping[str, Any]) -> None:
        self.name = name
        self.states = states
        self.source = source
        self.spec = spec  # the JSON as loaded, to load the module again in another process
        self.terminal = Terminal("<end>", {}, _Where(name, source, "<end>"))

    def __repr__(self) -> str:
        return f"GMFModule({self.name!r}, {len(self.states)} states)"


class _Where:
    """Where a piece of a module is, for error messages."""

    __slots__ = ("module", "source", "state")

    def __init__(self, module: str, source: str, state: str) -> None:
        self.module, self.source, self.state = module, source, state

    def __str__(self) -> str:
        return f"module {self.module!r} ({self.source}), state {self.state!r}"

    def error(self, message: str) -> DataError:
        return DataError(f"{self}: {message}")


def load_module(source: str | Path | Mapping[str, Any], *, label: str | None = None) -> GMFModule:
    """Load and check a GMF module from a JSON file or an already parsed mapping (``label`` names
    it in error messages; default: the file name)."""
    if isinstance(source, Mapping):
        data: Any = source
        label = label or "<mapping>"
    else:
        path = Path(source)
        label = label or path.name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"module file '{path}' does not exist") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"module file '{path}' is not JSON: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("states"), Mapping):
        raise DataError(f"module {label}: a GMF module is a JSON object with 'name' and 'states'")
    name = str(data.get("name", label))
    raw_states: Mapping[str, Any] = data["states"]
    if "Initial" not in raw_states:
        raise DataError(f"module {name!r} ({label}): no 'Initial' state")
    states: dict[str, State] = {}
    for state_name, spec in raw_states.items():
        where = _Where(name, label, str(state_name))
        if not isinstance(spec, Mapping) or "type" not in spec:
            raise where.error("a state is a JSON object with a 'type'")
        kind = spec["type"]
        cls = STATE_TYPES.get(kind)
        if cls is None:
            raise where.error(f"unknown state type {kind!r} (supported: {', '.join(sorted(STATE_TYPES))})")
        states[str(state_name)] = cls(str(state_name), spec, where)
    module = GMFModule(name, states, label, data)
    for state in states.values():
        for target in state.targets():
            if target not in states:
                raise state.where.error(f"transition to {target!r}, which is not a state of the module")
        state.link(module)
    return module


def load_modules(folder: str | Path) -> list[GMFModule]:
    """Every ``*.json`` module in ``folder``, in file-name order."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"modules folder '{path}' does not exist or is not a folder")
    files = sorted(path.glob("*.json"))
    if not files:
        raise DataError(f"modules folder '{path}' holds no *.json module")
    return [load_module(file) for file in files]


def duration_ms(spec: Mapping[str, Any], where: _Where, field: str) -> Callable[[Any], int]:
    """A sampler of an ``exact`` or ``range`` duration (with its ``unit``) in milliseconds."""
    if "exact" in spec:
        exact = spec["exact"]
        unit = _unit(exact.get("unit"), where, field)
        value = round(float(exact["quantity"]) * unit)
        return lambda rng: value
    if "range" in spec:
        rng_spec = spec["range"]
        unit = _unit(rng_spec.get("unit"), where, field)
        low, high = float(rng_spec["low"]) * unit, float(rng_spec["high"]) * unit
        if high < low:
            raise where.error(f"{field} range has high below low")
        width = high - low
        return lambda rng: round(low + width * rng.random())
    raise where.error(f"{field} needs an 'exact' or a 'range'")


def _unit(unit: Any, where: _Where, field: str) -> float:
    if unit not in UNIT_MS:
        raise where.error(f"{field}: unknown time unit {unit!r} (known: {', '.join(UNIT_MS)})")
    return UNIT_MS[unit]


def _codes(spec: Mapping[str, Any], where: _Where, required: bool = True) -> list[Code]:
    raw = spec.get("codes")
    if raw is None:
        if required:
            raise where.error("needs 'codes'")
        return []
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) and "code" in c for c in raw):
        raise where.error("'codes' must be a list of objects with a 'code'")
    return [Code(str(c.get("system", "")), str(c["code"]), str(c.get("display", ""))) for c in raw]


# --- conditions -------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _normalise(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def compare(lhs: Any, operator: str, rhs: Any) -> bool:
    """Synthea's comparison: ``is nil`` / ``is not nil``, else numbers as numbers, booleans as
    booleans (``"true"`` is true) and anything else as text; a missing value compares false."""
    if operator == "is nil":
        return lhs is None
    if operator == "is not nil":
        return lhs is not None
    if lhs is None or rhs is None:
        return False
    if isinstance(lhs, Entry):
        lhs = lhs.code.code
    lhs, rhs = _normalise(lhs), _normalise(rhs)
    if isinstance(lhs, bool) or isinstance(rhs, bool):
        if operator == "==":
            return bool(lhs == rhs)
        if operator == "!=":
            return bool(lhs != rhs)
        return False
    if isinstance(lhs, (int, float)) and isinstance(rhs, (int, float)):
        a: Any = float(lhs)
        b: Any = float(rhs)
    else:
        a, b = str(lhs), str(rhs)
    if operator == "<":
        return bool(a < b)
    if operator == "<=":
        return bool(a <= b)
    if operator == "==":
        return bool(a == b)
    if operator == ">=":
        return bool(a >= b)
    if operator == ">":
        return bool(a > b)
    return bool(a != b)


OPERATORS = ("<", "<=", "==", ">=", ">", "!=", "is nil", "is not nil")
_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
    "!=": operator.ne,
}


def _operator(spec: Mapping[str, Any], where: _Where) -> str:
    op = spec.get("operator")
    if op not in OPERATORS:
        raise where.error(f"condition {spec.get('condition_type')!r}: unknown operator {op!r}")
    return str(op)


def compile_condition(spec: Any, where: _Where) -> Condition:
    """A GMF condition as a function of (patient, module run, time)."""
    if not isinstance(spec, Mapping) or "condition_type" not in spec:
        raise where.error("a condition is a JSON object with a 'condition_type'")
    kind = spec["condition_type"]
    builder = CONDITION_TYPES.get(kind)
    if builder is None:
        raise where.error(
            f"unknown condition type {kind!r} (supported: {', '.join(sorted(CONDITION_TYPES))})"
        )
    return builder(spec, where)


def _and(spec: Mapping[str, Any], where: _Where) -> Condition:
    parts = [compile_condition(c, where) for c in spec.get("conditions", [])]
    return lambda p, r, t: all(c(p, r, t) for c in parts)


def _or(spec: Mapping[str, Any], where: _Where) -> Condition:
    parts = [compile_condition(c, where) for c in spec.get("conditions", [])]
    return lambda p, r, t: any(c(p, r, t) for c in parts)


def _not(spec: Mapping[str, Any], where: _Where) -> Condition:
    part = compile_condition(spec.get("condition"), where)
    return lambda p, r, t: not part(p, r, t)


def _at_least(spec: Mapping[str, Any], where: _Where) -> Condition:
    parts = [compile_condition(c, where) for c in spec.get("conditions", [])]
    minimum = int(spec["minimum"])
    return lambda p, r, t: sum(1 for c in parts if c(p, r, t)) >= minimum


def _at_most(spec: Mapping[str, Any], where: _Where) -> Condition:
    parts = [compile_condition(c, where) for c in spec.get("conditions", [])]
    maximum = int(spec["maximum"])
    return lambda p, r, t: sum(1 for c in parts if c(p, r, t)) <= maximum


def _gender(spec: Mapping[str, Any], where: _Where) -> Condition:
    gender = spec.get("gender")
    if gender not in ("M", "F"):
        raise where.error(f"condition 'Gender': gender must be 'M' or 'F', got {gender!r}")
    return lambda p, r, t: p.gender == gender


def _age(spec: Mapping[str, Any], where: _Where) -> Condition:
    op = _operator(spec, where)
    unit = spec.get("unit")
    if unit not in AGE_UNIT_MS:
        raise where.error(f"condition 'Age': unknown unit {unit!r}")
    return _AgeTest(op, float(spec["quantity"]) * AGE_UNIT_MS[unit])


class _AgeTest:
    """An Age condition: it depends on the time only (so a loop can look ahead, see ``Delay.loop``)."""

    __slots__ = ("operator", "test", "threshold")

    def __init__(self, operator: str, threshold: float) -> None:
        self.operator = operator
        self.threshold = threshold
        self.test = _NUMERIC.get(operator)

    def __call__(self, p: Patient, r: ModuleRun, t: int) -> bool:
        if self.test is not None:
            return self.test(t - p.birth, self.threshold)
        return compare(t - p.birth, self.operator, self.threshold)


def _date(spec: Mapping[str, Any], where: _Where) -> Condition:
    import datetime as dt

    op = _operator(spec, where)
    if "year" in spec:
        year = int(spec["year"])
        return lambda p, r, t: compare(_utc(t).year, op, year)
    if "month" in spec:
        month = int(spec["month"])
        return lambda p, r, t: compare(_utc(t).month, op, month)
    if "date" in spec:
        d = spec["date"]
        moment = dt.datetime(
            int(d["year"]),
            int(d.get("month", 1)),
            int(d.get("day", 1)),
            int(d.get("hour", 0)),
            int(d.get("minute", 0)),
            int(d.get("second", 0)),
            tzinfo=dt.timezone.utc,
        )
        limit = int(moment.timestamp() * 1000) + int(d.get("millisecond", 0))
        return lambda p, r, t: compare(t, op, limit)
    raise where.error("condition 'Date' needs a 'year', a 'month' or a 'date'")


def _utc(time: int) -> Any:
    import datetime as dt

    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=time)


def _attribute(spec: Mapping[str, Any], where: _Where) -> Condition:
    op = _operator(spec, where)
    name = str(spec["attribute"])
    value = spec.get("value")
    return lambda p, r, t: compare(p.attributes.get(name), op, value)


def _symptom(spec: Mapping[str, Any], where: _Where) -> Condition:
    op = _operator(spec, where)
    name = str(spec["symptom"])
    value = spec.get("value")
    return lambda p, r, t: compare(p.symptom(name), op, value)


def _observation(spec: Mapping[str, Any], where: _Where) -> Condition:
    op = _operator(spec, where)
    value = spec.get("value")
    if "referenced_by_attribute" in spec:
        attribute = str(spec["referenced_by_attribute"])

        def latest(p: Patient) -> Any:
            entry = p.attributes.get(attribute)
            return p.observations.get(entry.code.code) if isinstance(entry, Entry) else None

        return lambda p, r, t: compare(latest(p), op, value)
    codes = [c.code for c in _codes(spec, where)]

    def by_code(p: Patient) -> Any:
        for code in codes:
            if code in p.observations:
                return p.observations[code]
        return None

    return lambda p, r, t: compare(by_code(p), op, value)


def _prior_state(spec: Mapping[str, Any], where: _Where) -> Condition:
    name = str(spec["name"])
    since = spec.get("since")
    within = duration_ms({"exact": spec["within"]}, where, "within")(None) if "within" in spec else None
    return lambda p, r, t: r.had_prior_state(name, since, None if within is None else t - within)


def _active(table: str) -> Callable[[Mapping[str, Any], _Where], Condition]:
    def build(spec: Mapping[str, Any], where: _Where) -> Condition:
        if "referenced_by_attribute" in spec:
            attribute = str(spec["referenced_by_attribute"])

            def by_attribute(p: Patient, r: ModuleRun, t: int) -> bool:
                entry = p.attributes.get(attribute)
                if not isinstance(entry, Entry):
                    return False
                active = p.active[table].get(entry.code.code)
                return active is not None

            return by_attribute
        codes = [c.code for c in _codes(spec, where)]
        return lambda p, r, t: any(code in p.active[table] for code in codes)

    return build


def _constant(value: bool) -> Callable[[Mapping[str, Any], _Where], Condition]:
    return lambda spec, where: lambda p, r, t: value


CONDITION_TYPES: dict[str, Callable[[Mapping[str, Any], _Where], Condition]] = {
    "And": _and,
    "Or": _or,
    "Not": _not,
    "At Least": _at_least,
    "At Most": _at_most,
    "Gender": _gender,
    "Age": _age,
    "Date": _date,
    "Attribute": _attribute,
    "Symptom": _symptom,
    "Observation": _observation,
    "PriorState": _prior_state,
    "Active Condition": _active("conditions"),
    "Active Medication": _active("medications"),
    "Active CarePlan": _active("careplans"),
    "Active Allergy": _active("allergies"),
    "True": _constant(True),
    "False": _constant(False),
}


# --- transitions ------------------------------------------------------------------------------


class Transition:
    """Picks the next state's name (None: no option applies, the module ends).  ``time_only``: the
    choice depends on the time and the draw only (no attribute, record or history)."""

    time_only = False

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets

    def follow(self, patient: Patient, run: ModuleRun, time: int) -> str | None:
        raise NotImplementedError

    def phase(
        self, patient: Patient, run: ModuleRun, time: int
    ) -> tuple[Direct | Distributed | None, int | None]:
        """For a ``time_only`` transition: what applies at ``time`` (a direct or distributed choice, None
        when no option does) and the first time after which that may change (None: never)."""
        raise NotImplementedError


class Direct(Transition):
    time_only = True

    def __init__(self, target: str) -> None:
        super().__init__([target])
        self.target = target

    def follow(self, patient: Patient, run: ModuleRun, time: int) -> str | None:
        return self.target

    def phase(
        self, patient: Patient, run: ModuleRun, time: int
    ) -> tuple[Direct | Distributed | None, int | None]:
        return self, None


Probability = Callable[["Patient"], float]


def _probability(value: Any, where: _Where) -> Probability:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return lambda p: number
    if isinstance(value, Mapping) and "attribute" in value:
        attribute, default = str(value["attribute"]), float(value.get("default", 0.0))

        def from_attribute(p: Patient) -> float:
            found = p.attributes.get(attribute)
            return float(found) if isinstance(found, (int, float)) else default

        return from_attribute
    raise where.error(f"a distribution must be a number or an attribute reference, got {value!r}")


def _pick(options: list[tuple[Probability, str]], cumulative: list[float] | None, patient: Patient) -> str:
    u = patient.random.random()
    if cumulative is not None:
        index = bisect_right(cumulative, u)
        return options[index if index < len(options) else -1][1]
    high = 0.0
    for probability, target in options:
        high += probability(patient)
        if u < high:
            return target
    return options[-1][1]


class Distributed(Transition):
    def __init__(self, spec: Any, where: _Where) -> None:
        if not isinstance(spec, list) or not spec:
            raise where.error("a distributed transition is a non-empty list")
        self.options = [(_probability(o.get("distribution"), where), str(o["transition"])) for o in spec]
        raw = [o.get("distribution") for o in spec]
        self.constant = (
            list(accumulate(float(v) for v in raw)) if all(isinstance(v, (int, float)) for v in raw) else None
        )
        self.time_only = self.constant is not None
        super().__init__([t for _, t in self.options])

    def follow(self, patient: Patient, run: ModuleRun, time: int) -> str | None:
        return _pick(self.options, self.constant, patient)

    def phase(
        self, patient: Patient, run: ModuleRun, time: int
    ) -> tuple[Direct | Distributed | None, int | None]:
        return self, None

    def split(self, stay: str) -> tuple[float, list[tuple[float, str]]]:
        """With constant probabilities: the chance of going to ``stay`` and the chances of the other
        options (each option's share of [0, 1) as ``_pick`` sees it, the rest to the last one)."""
        assert self.constant is not None
        bounds = [min(max(c, 0.0), 1.0) for c in self.constant[:-1]] + [1.0]
        shares = [high - low for low, high in zip([0.0, *bounds[:-1]], bounds, strict=True)]
        targets = [t for _, t in self.options]
        stay_share = sum(p for p, t in zip(shares, targets, strict=True) if t == stay)
        return stay_share, [(p, t) for p, t in zip(shares, targets, strict=True) if t != stay and p > 0]


class Conditional(Transition):
    def __init__(self, spec: Any, where: _Where) -> None:
        if not isinstance(spec, list) or not spec:
            raise where.error("a conditional transition is a non-empty list")
        self.options = [
            (compile_condition(o["condition"], where) if "condition" in o else None, str(o["transition"]))
            for o in spec
        ]
        super().__init__([t for _, t in self.options])

    def follow(self, patient: Patient, run: ModuleRun, time: int) -> str | None:
        for condition, target in self.options:
            if condition is None or condition(patient, run, time):
                return target
        return None


class Complex(Transition):
    def __init__(self, spec: Any, where: _Where) -> None:
        if not isinstance(spec, list) or not spec:
            raise where.error("a complex transition is a non-empty list")
        self.options: list[tuple[Condition | None, Distributed | Direct]] = []
        for option in spec:
            condition = compile_condition(option["condition"], where) if "condition" in option else None
            if "distributions" in option:
                then: Distributed | Direct = Distributed(option["distributions"], where)
            elif "transition" in option:
                then = Direct(str(option["transition"]))
            else:
                raise where.error("a complex transition option needs 'distributions' or 'transition'")
            self.options.append((condition, then))
        super().__init__([t for _, then in self.options for t in then.targets])
        self.time_only = all(
            (condition is None or isinstance(condition, _AgeTest))
            and (isinstance(then, Direct) or then.time_only)
            for condition, then in self.options
        )

    def follow(self, patient: Patient, run: ModuleRun, time: int) -> str | None:
        for condition, then in self.options:
            if condition is None or condition(patient, run, time):
                return then.follow(patient, run, time)
        return None

    def phase(
        self, patient: Patient, run: ModuleRun, time: int
    ) -> tuple[Direct | Distributed | None, int | None]:
        chosen: Direct | Distributed | None = None
        for condition, then in self.options:
            if condition is None or condition(patient, run, time):
                chosen = then
                break
        change: int | None = None
        for condition, _ in self.options:
            if isinstance(condition, _AgeTest):
                # an age test can only change where the age crosses its threshold
                crossing = patient.birth + condition.threshold
                at = math.ceil(crossing) if crossing > time else time + 1 if crossing == time else None
                if at is not None and (change is None or at < change):
                    change = at
        return chosen, change


TRANSITION_TYPES = (
    "direct_transition",
    "distributed_transition",
    "conditional_transition",
    "complex_transition",
)


def _transition(spec: Mapping[str, Any], where: _Where) -> Transition | None:
    for unsupported in ("lookup_table_transition", "type_of_care_transition"):
        if unsupported in spec:
            raise where.error(f"transition type {unsupported!r} is not supported")
    if "direct_transition" in spec:
        return Direct(str(spec["direct_transition"]))
    if "distributed_transition" in spec:
        return Distributed(spec["distributed_transition"], where)
    if "conditional_transition" in spec:
        return Conditional(spec["conditional_transition"], where)
    if "complex_transition" in spec:
        return Complex(spec["complex_transition"], where)
    return None


# --- states -----------------------------------------------------------------------------------


class State:
    """A compiled state: ``process`` says whether it finished at ``time``."""

    is_delay = False
    is_terminal = False
    is_guard = False
    is_wellness = False
    needs_transition = True
    loop: int | None = None  # a looping Delay's exact duration (see ``Delay``)

    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        self.name = name
        self.where = where
        self.transition = _transition(spec, where)
        if self.transition is None and self.needs_transition:
            kinds = ", ".join(TRANSITION_TYPES)
            raise where.error(f"state type {spec.get('type')!r} needs a transition ({kinds})")

    def targets(self) -> list[str]:
        return [] if self.transition is None else self.transition.targets

    def link(self, module: GMFModule) -> None:
        """Resolve references to other states once the module is loaded."""

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        return True


class Initial(State):
    pass


class Simple(State):
    pass


class Terminal(State):
    is_terminal = True
    needs_transition = False

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        return False


class Delay(State):
    """Ends at its entry time plus its duration (``ModuleRun.process`` runs it inline)."""

    is_delay = True

    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.duration = duration_ms(spec, where, "Delay")
        # A loop: an exact delay whose transition may come back to it and depends on the time and the
        # draw only (Synthea's "Potential_Onset" pattern, checked every month for life).  Nothing else
        # can see its turns, so the patient draws how many turns it stays (``Patient.loop_ahead``)
        # instead of one scheduled event per turn: same checks at the same times, same probabilities.
        transition = self.transition
        if "exact" in spec and transition is not None and transition.time_only and name in transition.targets:
            self.loop = self.duration(None)


class Guard(State):
    is_guard = True

    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        if "allow" not in spec:
            raise where.error("a Guard needs an 'allow' condition")
        self.allow = compile_condition(spec["allow"], where)

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        return self.allow(patient, run, time)


class SetAttribute(State):
    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        if "attribute" not in spec:
            raise where.error("a SetAttribute needs an 'attribute'")
        for unsupported in ("expression", "distribution", "range"):
            if unsupported in spec:
                raise where.error(f"SetAttribute with {unsupported!r} is not supported")
        self.attribute = str(spec["attribute"])
        self.value = spec.get("value")

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        if self.value is None:
            patient.attributes.pop(self.attribute, None)
        else:
            patient.attributes[self.attribute] = self.value
        return True


class Symptom(State):
    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.symptom = str(spec.get("symptom", ""))
        self.probability = float(spec.get("probability", 1.0))
        if "exact" in spec:
            self.low = self.high = int(spec["exact"]["quantity"])
        elif "range" in spec:
            self.low, self.high = int(spec["range"]["low"]), int(spec["range"]["high"])
        else:
            raise where.error("a Symptom needs an 'exact' or a 'range'")

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        if self.probability >= 1.0 or patient.random.random() <= self.probability:
            value = self.low if self.low == self.high else patient.random.randint(self.low, self.high)
            patient.symptoms.setdefault(self.symptom, {})[run.module.name] = value
        return True


class Encounter(State):
    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.is_wellness = _truthy(spec.get("wellness", False))
        self.encounter_class = str(spec.get("encounter_class", "wellness" if self.is_wellness else ""))
        if not self.is_wellness and not spec.get("encounter_class"):
            raise where.error("an Encounter needs an 'encounter_class' (or 'wellness': true)")
        codes = _codes(spec, where, required=not self.is_wellness)
        self.code = codes[0] if codes else None
        self.reason = spec.get("reason")

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        if self.is_wellness:
            if not run.wellness or patient.wellness_encounter is None:
                return False
            run.wellness = False
            encounter = patient.wellness_encounter
        else:
            encounter = patient.new_encounter(time, self.encounter_class, self.code)
        run.encounter = encounter
        run.encounter_state = self.name
        if run.pending:
            waiting = [item for item in run.pending if item[0].target_encounter == self.name]
            run.pending = [item for item in run.pending if item[0].target_encounter != self.name]
            for onset, _ in waiting:
                onset.diagnose(patient, run, max(time, encounter.start))
        if self.reason is not None and encounter.reason is None:
            encounter.reason = patient.reason(str(self.reason), run)
        return True


class EncounterEnd(State):
    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        if run.encounter is not None:
            patient.end_encounter(run.encounter, time)
            run.encounter = None
            run.encounter_state = None
        return True


class ConditionOnset(State):
    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.code = _codes(spec, where)[0]
        self.target_encounter = spec.get("target_encounter")
        self.assign_to_attribute = spec.get("assign_to_attribute")

    def link(self, module: GMFModule) -> None:
        if self.target_encounter is not None and not isinstance(
            module.states.get(self.target_encounter), Encounter
        ):
            raise self.where.error(f"target_encounter {self.target_encounter!r} is not an Encounter state")

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        target = self.target_encounter
        if target is None or (run.encounter is not None and run.encounter_state == target):
            self.diagnose(patient, run, time)
        else:
            run.pending.append((self, time))
            if self.assign_to_attribute is not None:
                waiting = Entry(self.code, self.name, run.module.name, None, None)
                patient.attributes[self.assign_to_attribute] = waiting
        return True

    def diagnose(self, patient: Patient, run: ModuleRun, time: int) -> None:
        entry = patient.start_entry("conditions", self.code, self.name, run, time)
        if self.assign_to_attribute is not None:
            patient.attributes[self.assign_to_attribute] = entry


class _EndState(State):
    """ConditionEnd, MedicationEnd, CarePlanEnd: by a state of the module, an attribute or codes."""

    table = ""
    reference = ""

    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.state_ref = spec.get(self.reference)
        self.attribute = spec.get("referenced_by_attribute")
        self.codes = [c.code for c in _codes(spec, where, required=False)]
        if self.state_ref is None and self.attribute is None and not self.codes:
            raise where.error(f"needs {self.reference!r}, 'referenced_by_attribute' or 'codes'")

    def link(self, module: GMFModule) -> None:
        if self.state_ref is not None:
            state = module.states.get(self.state_ref)
            code = getattr(state, "code", None)
            if not isinstance(code, Code):
                raise self.where.error(
                    f"{self.reference} {self.state_ref!r} is not a state that records a code"
                )
            self.codes = [code.code]

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        if self.attribute is not None:
            entry = patient.attributes.get(self.attribute)
            if isinstance(entry, Entry):
                patient.end_entry(self.table, entry.code.code, time)
        for code in self.codes:
            patient.end_entry(self.table, code, time)
        return True


class ConditionEnd(_EndState):
    table = "conditions"
    reference = "condition_onset"


class MedicationEnd(_EndState):
    table = "medications"
    reference = "medication_order"


class CarePlanEnd(_EndState):
    table = "careplans"
    reference = "careplan"


class _StartState(State):
    """MedicationOrder, CarePlanStart: a record at the module's encounter, with a reason."""

    table = ""

    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.code = _codes(spec, where)[0]
        self.reason = spec.get("reason")
        self.assign_to_attribute = spec.get("assign_to_attribute")

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        entry = patient.start_entry(self.table, self.code, self.name, run, time)
        if self.reason is not None:
            entry.reason = patient.reason(str(self.reason), run)
        if self.assign_to_attribute is not None:
            patient.attributes[self.assign_to_attribute] = entry
        return True


class MedicationOrder(_StartState):
    table = "medications"


class CarePlanStart(_StartState):
    table = "careplans"


class Procedure(State):
    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.code = _codes(spec, where)[0]
        self.reason = spec.get("reason")
        self.duration = (
            duration_ms({"range": spec["duration"]}, where, "duration") if "duration" in spec else None
        )

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        stop = time + self.duration(patient.random) if self.duration is not None else None
        reason = patient.reason(str(self.reason), run) if self.reason is not None else None
        patient.procedures.append((time, stop, run.encounter, self.code, reason))
        return True


class Observation(State):
    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.code = _codes(spec, where)[0]
        self.category = str(spec.get("category", ""))
        self.unit = str(spec.get("unit", ""))
        self.exact: Any = None
        self.range: tuple[float, float] | None = None
        self.attribute: str | None = None
        if "exact" in spec:
            self.exact = spec["exact"].get("quantity")
        elif "range" in spec:
            self.range = (float(spec["range"]["low"]), float(spec["range"]["high"]))
        elif "value_code" in spec:
            value = spec["value_code"]
            self.exact = str(value.get("display", value.get("code", "")))
        elif "attribute" in spec:
            self.attribute = str(spec["attribute"])
        else:
            raise where.error("an Observation needs 'exact', 'range', 'value_code' or 'attribute'")

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        value: Any
        if self.range is not None:
            low, high = self.range
            value = round(low + (high - low) * patient.random.random(), 1)
        elif self.attribute is not None:
            value = patient.attributes.get(self.attribute)
        else:
            value = self.exact
        patient.observations[self.code.code] = value
        patient.observation_rows.append((time, run.encounter, self.category, self.code, value, self.unit))
        return True


class Death(State):
    needs_transition = False

    def __init__(self, name: str, spec: Mapping[str, Any], where: _Where) -> None:
        super().__init__(name, spec, where)
        self.delay = duration_ms(spec, where, "Death") if ("exact" in spec or "range" in spec) else None

    def process(self, patient: Patient, run: ModuleRun, time: int) -> bool:
        death = time + (self.delay(patient.random) if self.delay is not None else 0)
        if patient.death is None or death < patient.death:
            patient.death = death
        return True


STATE_TYPES: dict[str, type[State]] = {
    "Initial": Initial,
    "Terminal": Terminal,
    "Simple": Simple,
    "Guard": Guard,
    "Delay": Delay,
    "SetAttribute": SetAttribute,
    "Encounter": Encounter,
    "EncounterEnd": EncounterEnd,
    "ConditionOnset": ConditionOnset,
    "ConditionEnd": ConditionEnd,
    "MedicationOrder": MedicationOrder,
    "MedicationEnd": MedicationEnd,
    "CarePlanStart": CarePlanStart,
    "CarePlanEnd": CarePlanEnd,
    "Procedure": Procedure,
    "Observation": Observation,
    "Symptom": Symptom,
    "Death": Death,
}
