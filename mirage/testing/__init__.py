"""Public conformance suites: what any engine must do to be a Mirage engine.

``check_engine(MyEngine, frame)`` runs every check on ``frame`` (any table of at least a few dozen
rows) and raises ``AssertionError`` naming the first check that fails; ``engine_checks`` gives the
checks one by one (for ``pytest.mark.parametrize``), ``ENGINE_CHECKS`` their names.
"""

from mirage.testing._engines import ENGINE_CHECKS, check_engine, engine_checks

__all__ = ["ENGINE_CHECKS", "check_engine", "engine_checks"]
