"""Public conformance suites: what any engine, and any codec, must do to be part of Mirage.

``check_engine(MyEngine, frame)`` runs every engine check on ``frame`` (any table of at least a few
dozen rows) and raises ``AssertionError`` naming the first check that fails; ``engine_checks`` gives
the checks one by one (for ``pytest.mark.parametrize``), ``ENGINE_CHECKS`` their names.

``check_codec(lambda: MyCodec(column, EncodingOptions()), values)`` does the same for a codec on a
column's values: ``codec_checks`` and ``CODEC_CHECKS`` likewise.
"""

from mirage.testing._codecs import CODEC_CHECKS, Support, check_codec, codec_checks
from mirage.testing._engines import ENGINE_CHECKS, check_engine, engine_checks

__all__ = [
    "CODEC_CHECKS",
    "ENGINE_CHECKS",
    "Support",
    "check_codec",
    "check_engine",
    "codec_checks",
    "engine_checks",
]
