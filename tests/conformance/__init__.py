"""Engine conformance: every registered engine, with ``FAST`` settings where its defaults train long."""

# The neural engines train for minutes by default; the default suite bounds their epochs so that it
# stays fast (their default-length fits are measured in benchmarks/bench_classic.py).
# The dp engine runs at an epsilon where 320 rows keep their categories: its privacy is tested in
# tests/privacy.  Tests of what a fully trained model does (scenarios) use only these settings.
FULL: dict[str, dict[str, object]] = {"dp": {"epsilon": 1000.0}}
FAST: dict[str, dict[str, object]] = {**FULL, "gan": {"max_epochs": 40}, "vae": {"max_epochs": 60}}
# Checks of what comes out (names, dtypes, unique keys, no copied personal data), not of how well it is
# learned: a few epochs show them as well as forty.
STRUCTURAL: dict[str, dict[str, object]] = {**FAST, "gan": {"max_epochs": 3}, "vae": {"max_epochs": 3}}
