"""Synthea's GMF semantics, one small module each (the list is in mirage/simulate/_gmf.py's docstring).

Patients here are born at 1970-01-01 00:00 UTC (time 0), so a record's time is its age in ms.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from mirage.errors import DataError
from mirage.simulate import DAY_MS, PATIENT_TABLES, STEP_MS, Patient, load_module
from mirage.simulate._patients import live

YEAR_MS = 365 * DAY_MS
CODE = [{"system": "SNOMED-CT", "code": "1234", "display": "Something (disorder)"}]
VISIT = [{"system": "SNOMED-CT", "code": "185345009", "display": "Encounter for symptom"}]
MED = [{"system": "RxNorm", "code": "42", "display": "Pill"}]


def module(states: dict[str, Any], name: str = "Test") -> Any:
    return load_module({"name": name, "states": {"Terminal": {"type": "Terminal"}, **states}})


def patient(seed: int = 0, gender: str = "F") -> Patient:
    person: dict[str, Any] = {column: None for column, _ in PATIENT_TABLES["patients"]}
    return Patient(0, random.Random(seed), 0, {**person, "GENDER": gender})


def run(states: dict[str, Any], *, years: float = 2, seed: int = 0, gender: str = "F") -> Patient:
    return live(patient(seed, gender), [module(states)], round(years * YEAR_MS))


def encounter(states_after: str) -> dict[str, Any]:
    return {
        "type": "Encounter",
        "encounter_class": "ambulatory",
        "codes": VISIT,
        "direct_transition": states_after,
    }


def test_a_guard_is_checked_at_every_7_day_step() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Wait"},
            "Wait": {
                "type": "Guard",
                "allow": {"condition_type": "Age", "operator": ">=", "quantity": 10, "unit": "days"},
                "direct_transition": "Visit",
            },
            "Visit": encounter("Terminal"),
        }
    )
    assert STEP_MS == 7 * DAY_MS
    assert [e.start for e in p.encounters if e.encounter_class == "ambulatory"] == [14 * DAY_MS]


def test_a_delay_ends_at_its_entry_time_plus_its_duration_not_at_the_step() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Wait"},
            "Wait": {
                "type": "Delay",
                "exact": {"quantity": 10, "unit": "days"},
                "direct_transition": "Visit",
            },
            "Visit": encounter("Terminal"),
        }
    )
    assert [e.start for e in p.encounters if e.encounter_class == "ambulatory"] == [10 * DAY_MS]


def test_states_run_instantly_within_a_step_through_a_chain_of_short_delays() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Three"},
            "Three": {
                "type": "Delay",
                "exact": {"quantity": 3, "unit": "days"},
                "direct_transition": "First",
            },
            "First": encounter("End_First"),
            "End_First": {"type": "EncounterEnd", "direct_transition": "Two"},
            "Two": {"type": "Delay", "exact": {"quantity": 2, "unit": "days"}, "direct_transition": "Second"},
            "Second": encounter("Terminal"),
        }
    )
    # both delays are over by the first step after birth (day 7): the records keep days 3 and 5
    assert [e.start for e in p.encounters if e.encounter_class == "ambulatory"] == [3 * DAY_MS, 5 * DAY_MS]


@pytest.mark.parametrize(
    ("quantity", "unit", "days"),
    [(1, "years", 365), (2, "months", 60), (3, "weeks", 21), (36, "hours", 1.5), (90, "minutes", 90 / 1440)],
)
def test_delay_units(quantity: int, unit: str, days: float) -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Wait"},
            "Wait": {
                "type": "Delay",
                "exact": {"quantity": quantity, "unit": unit},
                "direct_transition": "Visit",
            },
            "Visit": encounter("Terminal"),
        }
    )
    assert [e.start for e in p.encounters if e.encounter_class == "ambulatory"] == [round(days * DAY_MS)]


def test_a_delay_range_draws_between_low_and_high() -> None:
    states = {
        "Initial": {"type": "Initial", "direct_transition": "Wait"},
        "Wait": {
            "type": "Delay",
            "range": {"low": 20, "high": 40, "unit": "days"},
            "direct_transition": "Visit",
        },
        "Visit": encounter("Terminal"),
    }
    starts = [
        next(e.start for e in run(states, seed=s).encounters if e.encounter_class == "ambulatory") / DAY_MS
        for s in range(300)
    ]
    assert 20 <= min(starts) < 21 and 39 < max(starts) <= 40
    assert abs(sum(starts) / len(starts) - 30) < 1


def test_a_distribution_summing_below_one_leaves_the_rest_to_the_last_option() -> None:
    states = {
        "Initial": {
            "type": "Initial",
            "distributed_transition": [
                {"distribution": 0.5, "transition": "A"},
                {"distribution": 0.3, "transition": "B"},
            ],
        },
        "A": {"type": "SetAttribute", "attribute": "path", "value": "A", "direct_transition": "Terminal"},
        "B": {"type": "SetAttribute", "attribute": "path", "value": "B", "direct_transition": "Terminal"},
    }
    paths = [run(states, seed=s, years=0.1).attributes["path"] for s in range(2000)]
    share_b = paths.count("B") / len(paths)
    assert abs(share_b - 0.5) < 4 * (0.25 / 2000) ** 0.5


def test_a_diagnosis_is_recorded_at_its_target_encounter() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Onset"},
            "Onset": {
                "type": "ConditionOnset",
                "codes": CODE,
                "target_encounter": "Visit",
                "assign_to_attribute": "thing",
                "direct_transition": "Before",
            },
            "Before": {
                "type": "Simple",
                "conditional_transition": [
                    {
                        "condition": {"condition_type": "Active Condition", "codes": CODE},
                        "transition": "Terminal",
                    },
                    {"transition": "Wait"},
                ],
            },
            "Wait": {
                "type": "Delay",
                "exact": {"quantity": 20, "unit": "days"},
                "direct_transition": "Visit",
            },
            "Visit": {
                "type": "Encounter",
                "encounter_class": "ambulatory",
                "codes": VISIT,
                "reason": "thing",
                "direct_transition": "Terminal",
            },
        }
    )
    visit = next(e for e in p.encounters if e.encounter_class == "ambulatory")
    assert visit.start == 20 * DAY_MS  # "Before" found no active condition: not diagnosed yet
    [condition] = p.entries["conditions"]
    assert condition.start == visit.start and condition.encounter is visit
    assert visit.reason is not None and visit.reason.code == "1234"
    assert p.attributes["thing"] is condition


def test_a_wellness_encounter_waits_for_the_next_wellness_visit() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Wait"},
            "Wait": {
                "type": "Delay",
                "exact": {"quantity": 1, "unit": "days"},
                "direct_transition": "Checkup",
            },
            "Checkup": {"type": "Encounter", "wellness": "true", "direct_transition": "Found"},
            "Found": {
                "type": "ConditionOnset",
                "codes": CODE,
                "target_encounter": "Checkup",
                "direct_transition": "Terminal",
            },
        }
    )
    wellness = [e for e in p.encounters if e.encounter_class == "wellness"]
    # the first visit is at one month of age (30.4 days), held at the next step: day 35
    assert wellness[0].start == 35 * DAY_MS
    [condition] = p.entries["conditions"]
    assert condition.encounter is wellness[0] and condition.start == wellness[0].start


def test_a_wellness_visit_joined_after_a_delay_ending_in_its_step_dates_what_follows_at_the_visit() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Onset"},
            "Onset": {
                "type": "ConditionOnset",
                "codes": CODE,
                "target_encounter": "Checkup",
                "direct_transition": "Wait",
            },
            "Wait": {
                "type": "Delay",
                "exact": {"quantity": 30, "unit": "days"},
                "direct_transition": "Checkup",
            },
            "Checkup": {"type": "Encounter", "wellness": "true", "direct_transition": "Pill"},
            "Pill": {"type": "MedicationOrder", "codes": MED, "direct_transition": "Terminal"},
        }
    )
    # the delay ends at day 30, inside the step of the first wellness visit (day 35)
    first = next(e for e in p.encounters if e.encounter_class == "wellness")
    assert first.start == 35 * DAY_MS
    [condition] = p.entries["conditions"]
    [medication] = p.entries["medications"]
    assert condition.encounter is first and condition.start == first.start
    assert medication.encounter is first and medication.start == first.start


def test_referenced_by_attribute_ends_the_record_assigned_to_the_attribute() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Visit"},
            "Visit": encounter("Order"),
            "Order": {
                "type": "MedicationOrder",
                "codes": MED,
                "assign_to_attribute": "pill",
                "direct_transition": "Course",
            },
            "Course": {
                "type": "Delay",
                "exact": {"quantity": 10, "unit": "days"},
                "direct_transition": "Stop",
            },
            "Stop": {
                "type": "MedicationEnd",
                "referenced_by_attribute": "pill",
                "direct_transition": "Terminal",
            },
        }
    )
    [medication] = p.entries["medications"]
    assert medication.start == 0 and medication.stop == 10 * DAY_MS
    assert p.active["medications"] == {}


def test_conditions_read_symptoms_observations_attributes_and_history() -> None:
    def check(name: str, condition: dict[str, Any], then: str) -> dict[str, Any]:
        return {
            "type": "Simple",
            "conditional_transition": [
                {"condition": condition, "transition": f"{name}_yes"},
                {"transition": f"{name}_no"},
            ],
        }

    conditions: dict[str, dict[str, Any]] = {
        "symptom": {"condition_type": "Symptom", "symptom": "Cough", "operator": ">=", "value": 40},
        "observation": {
            "condition_type": "Observation",
            "codes": [{"system": "LOINC", "code": "8310-5"}],
            "operator": ">",
            "value": 38,
        },
        "attribute": {"condition_type": "Attribute", "attribute": "level", "operator": "==", "value": 5},
        "nil": {"condition_type": "Attribute", "attribute": "smoker", "operator": "is nil"},
        "gender": {"condition_type": "Gender", "gender": "F"},
        "date": {"condition_type": "Date", "operator": "<", "year": 1971},
        "age": {"condition_type": "Age", "operator": "<", "quantity": 1, "unit": "years"},
        "prior": {"condition_type": "PriorState", "name": "Measure"},
        "prior_within": {
            "condition_type": "PriorState",
            "name": "Initial",
            "within": {"quantity": 1, "unit": "days"},
        },
        "and": {
            "condition_type": "And",
            "conditions": [{"condition_type": "Gender", "gender": "F"}, {"condition_type": "True"}],
        },
        "or": {
            "condition_type": "Or",
            "conditions": [{"condition_type": "Gender", "gender": "M"}, {"condition_type": "False"}],
        },
        "not": {"condition_type": "Not", "condition": {"condition_type": "Gender", "gender": "M"}},
        "at_least": {
            "condition_type": "At Least",
            "minimum": 2,
            "conditions": [
                {"condition_type": "Gender", "gender": "F"},
                {"condition_type": "Gender", "gender": "M"},
                {"condition_type": "True"},
            ],
        },
        "at_most": {
            "condition_type": "At Most",
            "maximum": 1,
            "conditions": [{"condition_type": "True"}, {"condition_type": "True"}],
        },
        "active_medication": {"condition_type": "Active Medication", "codes": MED},
        "active_careplan": {"condition_type": "Active CarePlan", "referenced_by_attribute": "plan"},
        "active_allergy": {"condition_type": "Active Allergy", "codes": MED},
    }
    names = list(conditions)
    states: dict[str, Any] = {
        "Initial": {"type": "Initial", "direct_transition": "Later"},
        "Later": {"type": "Delay", "exact": {"quantity": 2, "unit": "days"}, "direct_transition": "Cough"},
        "Cough": {
            "type": "Symptom",
            "symptom": "Cough",
            "exact": {"quantity": 45},
            "direct_transition": "Visit",
        },
        "Visit": encounter("Measure"),
        "Measure": {
            "type": "Observation",
            "category": "vital-signs",
            "unit": "Cel",
            "codes": [{"system": "LOINC", "code": "8310-5", "display": "Body temperature"}],
            "exact": {"quantity": 38.5},
            "direct_transition": "Level",
        },
        "Level": {"type": "SetAttribute", "attribute": "level", "value": 5, "direct_transition": "Plan"},
        "Plan": {
            "type": "CarePlanStart",
            "codes": CODE,
            "assign_to_attribute": "plan",
            "direct_transition": names[0],
        },
    }
    for i, name in enumerate(names):
        following = names[i + 1] if i + 1 < len(names) else "Terminal"
        states[name] = check(name, conditions[name], following)
        for answer in ("yes", "no"):
            states[f"{name}_{answer}"] = {
                "type": "SetAttribute",
                "attribute": f"is_{name}",
                "value": answer == "yes",
                "direct_transition": following,
            }
    p = run(states, gender="F")
    got = {name: p.attributes[f"is_{name}"] for name in names}
    assert got == {
        "symptom": True,
        "observation": True,
        "attribute": True,
        "nil": True,
        "gender": True,
        "date": True,
        "age": True,
        "prior": True,
        "prior_within": False,  # Initial was left two days before
        "and": True,
        "or": False,
        "not": True,
        "at_least": True,
        "at_most": False,
        "active_medication": False,
        "active_careplan": True,
        "active_allergy": False,
    }
    [observation] = p.observation_rows
    assert observation[4] == 38.5 and observation[1] is not None


def test_a_complex_transition_takes_the_distributions_of_the_first_condition_that_holds() -> None:
    states = {
        "Initial": {
            "type": "Initial",
            "complex_transition": [
                {
                    "condition": {"condition_type": "Gender", "gender": "M"},
                    "distributions": [{"distribution": 1.0, "transition": "A"}],
                },
                {
                    "distributions": [
                        {"distribution": 0.0, "transition": "A"},
                        {"distribution": 1.0, "transition": "B"},
                    ]
                },
            ],
        },
        "A": {"type": "SetAttribute", "attribute": "path", "value": "A", "direct_transition": "Terminal"},
        "B": {"type": "SetAttribute", "attribute": "path", "value": "B", "direct_transition": "Terminal"},
    }
    assert run(states, gender="M", years=0.1).attributes["path"] == "A"
    assert run(states, gender="F", years=0.1).attributes["path"] == "B"


def test_death_ends_the_patients_life() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Wait"},
            "Wait": {"type": "Delay", "exact": {"quantity": 30, "unit": "days"}, "direct_transition": "Die"},
            "Die": {"type": "Death", "direct_transition": "Terminal"},
        },
        years=3,
    )
    assert p.death == 30 * DAY_MS
    # the wellness visit of the step that ran the Death state (day 35) is the last record
    assert max(e.start for e in p.encounters) == 35 * DAY_MS


@pytest.mark.parametrize(
    ("states", "message"),
    [
        (
            {"Initial": {"type": "Initial", "direct_transition": "X"}, "X": {"type": "Vaccine"}},
            "module 'Broken' (<mapping>), state 'X': unknown state type 'Vaccine'",
        ),
        (
            {
                "Initial": {
                    "type": "Initial",
                    "conditional_transition": [
                        {"condition": {"condition_type": "Race", "race": "x"}, "transition": "Terminal"}
                    ],
                }
            },
            "module 'Broken' (<mapping>), state 'Initial': unknown condition type 'Race'",
        ),
        (
            {"Initial": {"type": "Initial", "direct_transition": "Nowhere"}},
            "module 'Broken' (<mapping>), state 'Initial': transition to 'Nowhere'",
        ),
        (
            {
                "Initial": {"type": "Initial", "direct_transition": "Wait"},
                "Wait": {
                    "type": "Delay",
                    "exact": {"quantity": 1, "unit": "fortnights"},
                    "direct_transition": "Terminal",
                },
            },
            "state 'Wait': Delay: unknown time unit 'fortnights'",
        ),
    ],
)
def test_an_unknown_type_is_an_error_naming_module_state_and_type(
    states: dict[str, Any], message: str
) -> None:
    with pytest.raises(DataError) as caught:
        module(states, name="Broken")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


LOOP = {
    "Initial": {"type": "Initial", "direct_transition": "Potential_Onset"},
    "Potential_Onset": {
        "type": "Delay",
        "exact": {"quantity": 1, "unit": "months"},
        "complex_transition": [
            {
                "condition": {"condition_type": "Age", "operator": "<", "quantity": 1, "unit": "years"},
                "distributions": [
                    {"distribution": 0.05, "transition": "Visit"},
                    {"distribution": 0.95, "transition": "Potential_Onset"},
                ],
            },
            {
                "distributions": [
                    {"distribution": 0.02, "transition": "Visit"},
                    {"distribution": 0.0, "transition": "Potential_Onset"},
                ]
            },
        ],
    },
    "Visit": {
        "type": "Encounter",
        "encounter_class": "ambulatory",
        "codes": VISIT,
        "direct_transition": "Terminal",
    },
}


@pytest.mark.parametrize("fast_loops", [True, False])
def test_a_monthly_loop_checks_every_30_days_with_the_age_of_each_check(fast_loops: bool) -> None:
    """A looping Delay (Synthea's "Potential_Onset") turns every 30 days from birth; the first year's
    checks (12 of them, the last at day 360) leave with 5%, later ones with 2% (the other 98% go to
    the last option, listed with 0).  Runs ahead in one loop or turn by turn:
    the same law."""
    loop = module(LOOP)
    n = 3000
    exits = []
    for seed in range(n):
        p = live(patient(seed), [loop], 6 * YEAR_MS, fast_loops=fast_loops)
        visits = [e.start for e in p.encounters if e.encounter_class == "ambulatory"]
        exits.append(visits[0] // DAY_MS if visits else None)
    left = [e for e in exits if e is not None]
    assert all(e % 30 == 0 for e in left)
    first_year = sum(1 for e in left if e <= 360)
    q = 1 - 0.95**12
    assert abs(first_year - n * q) <= 4 * (n * q * (1 - q)) ** 0.5
    # after the first year 2% a month: of those still in the loop, 1 - 0.98^12 leave in the second year
    second_year = sum(1 for e in left if 360 < e <= 720)
    stayed = n - first_year
    q2 = 1 - 0.98**12
    assert abs(second_year - stayed * q2) <= 4 * (stayed * q2 * (1 - q2)) ** 0.5


def test_an_encounter_no_encounter_end_closes_lasts_15_minutes() -> None:
    """A module that joins a wellness visit and never ends it (asthma's ``Next_Adult_Welness_Encounter``)
    leaves the visit 15 minutes long, even when its next encounter comes months later."""
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Checkup"},
            "Checkup": {"type": "Encounter", "wellness": True, "direct_transition": "Wait"},
            "Wait": {
                "type": "Delay",
                "exact": {"quantity": 3, "unit": "months"},
                "direct_transition": "Visit",
            },
            "Visit": encounter("Done"),
            "Done": {"type": "EncounterEnd", "direct_transition": "Terminal"},
        }
    )
    checkup = next(e for e in p.encounters if e.encounter_class == "wellness")
    visit = next(e for e in p.encounters if e.encounter_class == "ambulatory")
    assert checkup.stop is None  # written as START + 15 minutes
    assert visit.start == checkup.start + 90 * DAY_MS and visit.stop == visit.start + 15 * 60_000
    table: dict[str, list[tuple[object, ...]]] = {name: [] for name in PATIENT_TABLES}
    p.rows(table, None)
    starts_stops = {row[0]: (row[1], row[2]) for row in table["encounters"]}
    assert starts_stops[checkup.id] == (checkup.start, checkup.start + 15 * 60_000)


def test_records_end_by_the_state_that_started_them_and_death_can_be_delayed() -> None:
    p = run(
        {
            "Initial": {"type": "Initial", "direct_transition": "Visit"},
            "Visit": encounter("Onset"),
            "Onset": {"type": "ConditionOnset", "codes": CODE, "direct_transition": "Order"},
            "Order": {
                "type": "MedicationOrder",
                "codes": MED,
                "reason": "Onset",
                "direct_transition": "Plan",
            },
            "Plan": {"type": "CarePlanStart", "codes": CODE, "reason": "Onset", "direct_transition": "Wait"},
            "Wait": {"type": "Delay", "exact": {"quantity": 3, "unit": "weeks"}, "direct_transition": "End1"},
            "End1": {"type": "ConditionEnd", "condition_onset": "Onset", "direct_transition": "End2"},
            "End2": {"type": "MedicationEnd", "medication_order": "Order", "direct_transition": "End3"},
            "End3": {"type": "CarePlanEnd", "careplan": "Plan", "direct_transition": "Die"},
            "Die": {"type": "Death", "range": {"low": 10, "high": 20, "unit": "days"}},
        },
        years=5,
    )
    for table in ("conditions", "medications", "careplans"):
        [entry] = p.entries[table]
        assert (entry.start, entry.stop) == (0, 21 * DAY_MS), table
    assert p.entries["medications"][0].reason == p.entries["conditions"][0].code  # reason: the onset state
    assert p.death is not None and 31 * DAY_MS <= p.death <= 41 * DAY_MS
    assert max(e.start for e in p.encounters) <= p.death + STEP_MS


def test_prior_state_since_and_symptom_probability() -> None:
    states = {
        "Initial": {"type": "Initial", "direct_transition": "A"},
        "A": {"type": "Simple", "direct_transition": "B"},
        "B": {"type": "Simple", "direct_transition": "Maybe"},
        "Maybe": {
            "type": "Symptom",
            "symptom": "Itch",
            "exact": {"quantity": 10},
            "probability": 0.25,
            "direct_transition": "Check",
        },
        "Check": {
            "type": "Simple",
            "conditional_transition": [
                {
                    "condition": {"condition_type": "PriorState", "name": "A", "since": "B"},
                    "transition": "Yes",
                },
                {"transition": "No"},
            ],
        },
        "Yes": {
            "type": "SetAttribute",
            "attribute": "a_since_b",
            "value": True,
            "direct_transition": "Terminal",
        },
        "No": {
            "type": "SetAttribute",
            "attribute": "a_since_b",
            "value": False,
            "direct_transition": "Terminal",
        },
    }
    patients = [run(states, seed=s, years=0.1) for s in range(1200)]
    assert all(p.attributes["a_since_b"] is False for p in patients)  # B came after A
    itchy = sum(1 for p in patients if p.symptom("Itch") == 10)
    assert abs(itchy - 300) <= 4 * (1200 * 0.25 * 0.75) ** 0.5
