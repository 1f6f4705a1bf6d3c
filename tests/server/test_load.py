"""A bounded load on a real server over loopback: 50 clients polling while 4 fits run, without an error.

The latency figures are written to ``test-output/load.json``; they are measured, not asserted
(``benchmarks/bench_server_load.py`` prints them for the record).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import TOKEN
from tests.server.test_serve import serving

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    """benchmarks/bench_server_load.py, by its path (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_server_load", ROOT / "benchmarks" / "bench_server_load.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fifty_polling_clients_and_four_fits_get_no_error(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN)
    with serving(tmp_path / "data", "--token-file", str(token_file), "--workers", "4") as (_, base, token):
        figures = _bench().run_load(base, token, clients=50, fits=4)
    output = Path(os.environ.get("MIRAGE_TEST_OUTPUT", ROOT / "test-output"))
    output.mkdir(parents=True, exist_ok=True)
    (output / "load.json").write_text(json.dumps(figures, indent=2))
    assert figures["errors"] == [] and figures["error_count"] == 0
    assert figures["fit_states"] == ["succeeded"] * 4
    assert figures["requests"] > 200
