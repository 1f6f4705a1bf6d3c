"""simulate_patients: Synthea's tables with their keys, the same output however the population is split."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from mirage.errors import DataError, OptionError
from mirage.simulate import (
    PATIENT_TABLES,
    SYNTHEA_CSV_VERSION,
    load_modules,
    patients_database,
    simulate_patients,
)

MODULES = Path(__file__).resolve().parent / "modules"

# Synthea 3.0.0's CSV exporter, column for column
SYNTHEA_COLUMNS = {
    "patients": "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,"
    "ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,HEALTHCARE_EXPENSES,"
    "HEALTHCARE_COVERAGE,INCOME",
    "encounters": "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
    "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION",
    "conditions": "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION",
    "medications": "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,"
    "TOTALCOST,REASONCODE,REASONDESCRIPTION",
    "careplans": "Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION",
    "observations": "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
    "procedures": "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION",
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return simulate_patients(MODULES, 120, years=None, seed=7)


def test_the_six_modules_load_unmodified() -> None:
    modules = load_modules(MODULES)
    assert [m.name for m in modules] == [
        "Appendicitis",
        "Asthma",
        "Bronchitis",
        "Fibromyalgia",
        "Sinusitis",
        "Sore Throat",
    ]
    assert sum(len(m.states) for m in modules) == 35 + 50 + 41 + 25 + 40 + 44


def test_tables_follow_synthea_csv_layout_and_keep_their_keys(tables: dict[str, pd.DataFrame]) -> None:
    assert SYNTHEA_CSV_VERSION == "3.0.0"
    assert {name: ",".join(frame.columns) for name, frame in tables.items()} == SYNTHEA_COLUMNS
    assert list(PATIENT_TABLES) == list(SYNTHEA_COLUMNS)
    database = patients_database()
    database.validate(tables)
    assert database.integrity_problems(tables) == []
    assert len(tables["patients"]) == 120
    for name in ("encounters", "conditions", "medications", "careplans", "observations", "procedures"):
        assert len(tables[name]) > 0, name
    encounters = tables["encounters"]
    assert set(encounters["ENCOUNTERCLASS"]) >= {"wellness", "ambulatory"}
    assert encounters["START"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert tables["conditions"]["START"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert (encounters["STOP"] >= encounters["START"]).all()
    patients = tables["patients"]
    assert set(patients["GENDER"]) == {"F", "M"}
    assert patients["BIRTHDATE"].max() <= "2025-01-01"
    assert patients["FIRST"].notna().all() and patients["ADDRESS"].notna().all()
    assert (patients["INCOME"] > 0).all()


def test_a_diagnosis_sits_at_an_encounter_of_its_patient(tables: dict[str, pd.DataFrame]) -> None:
    conditions = tables["conditions"].merge(
        tables["encounters"][["Id", "PATIENT", "START"]],
        left_on="ENCOUNTER",
        right_on="Id",
        suffixes=("", "_enc"),
    )
    assert len(conditions) == len(tables["conditions"])
    assert (conditions["PATIENT"] == conditions["PATIENT_enc"]).all()
    assert (conditions["START"] == conditions["START_enc"].str[:10]).all()


def test_same_seed_same_tables_however_the_population_is_split(tables: dict[str, pd.DataFrame]) -> None:
    split = simulate_patients(
        MODULES, 120, years=None, seed=7, blocks=[range(50, 120), range(0, 7), range(7, 50)]
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = simulate_patients(
            MODULES,
            120,
            years=None,
            seed=7,
            blocks=[range(i, min(i + 25, 120)) for i in range(0, 120, 25)],
            executor=pool,
        )
    for name in tables:
        pd.testing.assert_frame_equal(split[name], tables[name])
        pd.testing.assert_frame_equal(threaded[name], tables[name])
    other = simulate_patients(MODULES, 120, years=None, seed=8)
    assert not other["patients"]["Id"].equals(tables["patients"]["Id"])


def test_blocks_run_in_other_processes_give_the_same_tables() -> None:
    alone = simulate_patients(MODULES, 30, years=None, seed=3)
    with ProcessPoolExecutor(max_workers=2) as pool:
        spread = simulate_patients(
            MODULES, 30, years=None, seed=3, blocks=[range(0, 15), range(15, 30)], executor=pool
        )
    for name in alone:
        pd.testing.assert_frame_equal(spread[name], alone[name])


def test_years_keeps_the_last_years_of_records(tables: dict[str, pd.DataFrame]) -> None:
    recent = simulate_patients(MODULES, 120, years=5, seed=7)
    assert patients_database().integrity_problems(recent) == []
    pd.testing.assert_frame_equal(recent["patients"], tables["patients"])
    assert recent["encounters"]["START"].min() >= "2020-01-01"
    kept = tables["encounters"][tables["encounters"]["START"] >= recent["encounters"]["START"].min()]
    assert len(recent["encounters"]) == len(kept)
    assert len(recent["conditions"]) < len(tables["conditions"])


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="population"):
        simulate_patients(MODULES, 0)
    with pytest.raises(OptionError, match="years"):
        simulate_patients(MODULES, 5, years=0)
    with pytest.raises(OptionError, match="locale"):
        simulate_patients(MODULES, 5, locale="xx_NOPE")
    with pytest.raises(OptionError, match="blocks"):
        simulate_patients(MODULES, 5, blocks=[range(0, 3)])
    with pytest.raises(OptionError, match="end"):
        simulate_patients(MODULES, 5, end="soon")
    with pytest.raises(DataError, match="holds no"):
        simulate_patients(tmp_path, 5)
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match="bad.json"):
        simulate_patients(tmp_path, 5)
    with pytest.raises(OptionError, match="given twice"):
        simulate_patients([MODULES / "asthma.json", MODULES / "asthma.json"], 5)


def test_another_faker_locale_writes_its_names() -> None:
    german = simulate_patients(MODULES / "appendicitis.json", 20, seed=1, locale="de_DE")
    english = simulate_patients(MODULES / "appendicitis.json", 20, seed=1)
    assert not german["patients"]["ADDRESS"].equals(english["patients"]["ADDRESS"])
    pd.testing.assert_series_equal(german["patients"]["BIRTHDATE"], english["patients"]["BIRTHDATE"])


def test_a_us_patients_state_city_postcode_and_coordinates_agree(tables: dict[str, pd.DataFrame]) -> None:
    from faker.providers.address.en_US import Provider as UsAddresses

    from mirage.simulate._places import US_STATES

    patients = tables["patients"]
    by_name = {name: (abbr, lat, lon) for abbr, name, _, _, lat, lon in US_STATES}
    assert patients["STATE"].isin(list(by_name)).all()
    for _, row in patients.iterrows():
        abbr, lat, lon = by_name[row["STATE"]]
        assert abs(row["LAT"] - lat) < 0.6 and abs(row["LON"] - lon) < 0.6, row.to_dict()
        low, high = UsAddresses.states_postcode[abbr]
        assert low <= int(row["ZIP"]) <= high, (row["STATE"], row["ZIP"])
    assert patients["STATE"].value_counts().index[0] in {"California", "Texas", "Florida", "New York"}


def test_another_locales_coordinates_lie_in_its_country() -> None:
    german = simulate_patients(MODULES / "appendicitis.json", 30, seed=2, locale="de_DE")["patients"]
    assert german["LAT"].between(47.0, 55.5).all() and german["LON"].between(5.5, 15.5).all()


def test_costs_mirage_does_not_simulate_are_empty_not_zero(tables: dict[str, pd.DataFrame]) -> None:
    patients = tables["patients"]
    assert patients["HEALTHCARE_EXPENSES"].isna().all() and patients["HEALTHCARE_COVERAGE"].isna().all()
