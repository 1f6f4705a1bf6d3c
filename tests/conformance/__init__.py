"""Engine conformance: every registered engine, with ``FAST`` settings where its defaults train long."""

# The neural engines train for minutes by default; the default suite bounds their epochs so that it
# stays fast (their default-length fits are measured in benchmarks/bench_classic.py).
FAST: dict[str, dict[str, object]] = {
    "vae": {"max_epochs": 40},
}
