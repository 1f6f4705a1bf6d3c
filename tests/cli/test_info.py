"""``mirage info``: the clock a datetime column written as text with UTC offsets is written on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import mirage
from mirage.cli import app


def test_info_names_the_time_zone_or_offset_text_datetimes_are_written_at(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-02", periods=300, freq="D")
    hours = pd.to_timedelta(rng.integers(9, 17, 300), unit="h")
    berlin = (days + hours).tz_localize("Europe/Berlin")
    delhi = (days + hours).tz_localize("Asia/Kolkata")
    mixed = [
        (t.tz_localize(zone)).isoformat()
        for t, zone in zip(days + hours, rng.choice(["+01:00", "-05:00"], 300), strict=True)
    ]
    frame = pd.DataFrame(
        {
            "office": [t.isoformat() for t in berlin],
            "call": [t.isoformat() for t in delhi],
            "amount": rng.gamma(2.0, 50.0, 300).round(2),
            "seen": mixed,
        }
    )
    with pytest.warns(UserWarning, match="column 'seen': its times are written at UTC offsets"):
        mirage.fit(frame, engine="copula", seed=0).save(tmp_path / "m.mirage")
    result = CliRunner().invoke(app, ["info", str(tmp_path / "m.mirage")], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert "at the UTC offset Europe/" in rows["office"] and "has at each value" in rows["office"]
    assert "written at UTC+05:30" in rows["call"]
    assert "written at" not in rows["amount"]
    assert "written at UTC+01:00, UTC-05:00, each on about its share of the rows" in rows["seen"]
