"""Synthea's CSV layout (version 3.0.0 of its CSV exporter): seven related tables and their keys.

Columns, names and order follow Synthea 3.0.0's ``patients.csv``, ``encounters.csv``,
``conditions.csv``, ``medications.csv``, ``careplans.csv``, ``observations.csv`` and
``procedures.csv``; times are ISO 8601 in UTC (``2019-02-17T05:07:38Z``), dates ``YYYY-MM-DD``.
Mirage has no organisations, providers, payers or costs: those columns are there but empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind, Schema, Table

__all__ = ["PATIENT_TABLES", "SYNTHEA_CSV_VERSION", "patients_database", "table_frames"]

SYNTHEA_CSV_VERSION = "3.0.0"

DATE = "%Y-%m-%d"
TIME = "%Y-%m-%dT%H:%M:%SZ"

# column -> (kind, datetime format for time columns / "num" for numbers / None for text)
_ID, _DATE, _TIME, _NUM, _TEXT, _CAT = "id", "date", "time", "num", "text", "cat"

PATIENT_TABLES: dict[str, list[tuple[str, str]]] = {
    "patients": [
        ("Id", _ID),
        ("BIRTHDATE", _DATE),
        ("DEATHDATE", _DATE),
        ("SSN", _TEXT),
        ("DRIVERS", _TEXT),
        ("PASSPORT", _TEXT),
        ("PREFIX", _CAT),
        ("FIRST", _TEXT),
        ("LAST", _TEXT),
        ("SUFFIX", _CAT),
        ("MAIDEN", _TEXT),
        ("MARITAL", _CAT),
        ("RACE", _CAT),
        ("ETHNICITY", _CAT),
        ("GENDER", _CAT),
        ("BIRTHPLACE", _TEXT),
        ("ADDRESS", _TEXT),
        ("CITY", _TEXT),
        ("STATE", _CAT),
        ("COUNTY", _CAT),
        ("FIPS", _TEXT),
        ("ZIP", _TEXT),
        ("LAT", _NUM),
        ("LON", _NUM),
        ("HEALTHCARE_EXPENSES", _NUM),
        ("HEALTHCARE_COVERAGE", _NUM),
        ("INCOME", _NUM),
    ],
    "encounters": [
        ("Id", _ID),
        ("START", _TIME),
        ("STOP", _TIME),
        ("PATIENT", _ID),
        ("ORGANIZATION", _TEXT),
        ("PROVIDER", _TEXT),
        ("PAYER", _TEXT),
        ("ENCOUNTERCLASS", _CAT),
        ("CODE", _CAT),
        ("DESCRIPTION", _CAT),
        ("BASE_ENCOUNTER_COST", _NUM),
        ("TOTAL_CLAIM_COST", _NUM),
        ("PAYER_COVERAGE", _NUM),
        ("REASONCODE", _CAT),
        ("REASONDESCRIPTION", _CAT),
    ],
    "conditions": [
        ("START", _DATE),
        ("STOP", _DATE),
        ("PATIENT", _ID),
        ("ENCOUNTER", _ID),
        ("CODE", _CAT),
        ("DESCRIPTION", _CAT),
    ],
    "medications": [
        ("START", _TIME),
        ("STOP", _TIME),
        ("PATIENT", _ID),
        ("PAYER", _TEXT),
        ("ENCOUNTER", _ID),
        ("CODE", _CAT),
        ("DESCRIPTION", _CAT),
        ("BASE_COST", _NUM),
        ("PAYER_COVERAGE", _NUM),
        ("DISPENSES", _NUM),
        ("TOTALCOST", _NUM),
        ("REASONCODE", _CAT),
        ("REASONDESCRIPTION", _CAT),
    ],
    "careplans": [
        ("Id", _ID),
        ("START", _DATE),
        ("STOP", _DATE),
        ("PATIENT", _ID),
        ("ENCOUNTER", _ID),
        ("CODE", _CAT),
        ("DESCRIPTION", _CAT),
        ("REASONCODE", _CAT),
        ("REASONDESCRIPTION", _CAT),
    ],
    "observations": [
        ("DATE", _TIME),
        ("PATIENT", _ID),
        ("ENCOUNTER", _ID),
        ("CATEGORY", _CAT),
        ("CODE", _CAT),
        ("DESCRIPTION", _CAT),
        ("VALUE", _TEXT),
        ("UNITS", _CAT),
        ("TYPE", _CAT),
    ],
    "procedures": [
        ("START", _TIME),
        ("STOP", _TIME),
        ("PATIENT", _ID),
        ("ENCOUNTER", _ID),
        ("CODE", _CAT),
        ("DESCRIPTION", _CAT),
        ("BASE_COST", _NUM),
        ("REASONCODE", _CAT),
        ("REASONDESCRIPTION", _CAT),
    ],
}

# (child, column, nullable): every ENCOUNTER may be empty where a module records outside an encounter
_REFERENCES = [
    ("encounters", "PATIENT", "patients", False),
    *((table, "PATIENT", "patients", False) for table in ("conditions", "medications", "careplans")),
    *((table, "PATIENT", "patients", False) for table in ("observations", "procedures")),
    *(
        (table, "ENCOUNTER", "encounters", True)
        for table in ("conditions", "medications", "careplans", "observations", "procedures")
    ),
]


def _column(name: str, kind: str, table: str) -> Column:
    nullable = not (kind == _ID and (name == "Id" or name == "PATIENT")) and name not in ("START", "DATE")
    if kind == _ID:
        return Column(name, Kind.IDENTIFIER, dtype="object", nullable=nullable)
    if kind in (_DATE, _TIME):
        fmt = DATE if kind == _DATE else TIME
        return Column(name, Kind.DATETIME, dtype="object", nullable=nullable, datetime_format=fmt)
    if kind == _NUM:
        return Column(name, Kind.NUMERIC, dtype="float64", nullable=True)
    if kind == _CAT:
        return Column(name, Kind.CATEGORICAL, dtype="object", nullable=True)
    return Column(name, Kind.TEXT, dtype="object", nullable=True)


def patients_database() -> DatabaseSchema:
    """The seven tables, their primary keys (``Id`` of patients, encounters and care plans) and the
    foreign keys PATIENT -> patients(Id) and ENCOUNTER -> encounters(Id)."""
    tables = {
        name: Table(
            name,
            Schema([_column(c, k, name) for c, k in columns]),
            primary_key=("Id",) if columns[0][0] == "Id" else (),
        )
        for name, columns in PATIENT_TABLES.items()
    }
    keys = [ForeignKey(child, (col,), parent, ("Id",), null) for child, col, parent, null in _REFERENCES]
    return DatabaseSchema(tables, keys)


def _format_times(values: Sequence[Any], kind: str) -> np.ndarray:
    """Milliseconds since 1970 (None: empty) as Synthea's text."""
    array = np.array([np.iinfo(np.int64).min if v is None else v for v in values], dtype=np.int64)
    stamps = array.astype("datetime64[ms]")
    text = np.datetime_as_string(stamps, unit="D" if kind == _DATE else "s").astype(object)
    if kind == _TIME:
        text = text + "Z"
    text[array == np.iinfo(np.int64).min] = None
    return text


def table_frames(rows: Mapping[str, list[tuple[Any, ...]]]) -> dict[str, pd.DataFrame]:
    """Rows (tuples in :data:`PATIENT_TABLES` column order, times in milliseconds) as DataFrames."""
    frames: dict[str, pd.DataFrame] = {}
    for name, columns in PATIENT_TABLES.items():
        table_rows = rows.get(name, [])
        data: dict[str, Any] = {}
        for i, (column, kind) in enumerate(columns):
            values = [row[i] for row in table_rows]
            if kind in (_DATE, _TIME):
                data[column] = pd.Series(_format_times(values, kind), dtype="object")
            elif kind == _NUM:
                data[column] = pd.Series(values, dtype="float64")
            else:
                data[column] = pd.Series(values, dtype="object")
        frames[name] = pd.DataFrame(data)
    return frames
