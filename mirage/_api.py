"""The top-level functions: ``mirage.fit`` and ``mirage.load``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from mirage.encoding import EncodingOptions
from mirage.engines import Synthesizer, fit_auto, get_engine
from mirage.engines._base import require_training_rows
from mirage.errors import OptionError
from mirage.schema import Schema

if TYPE_CHECKING:
    from mirage.relational import RelationalSynthesizer
    from mirage.sequential import ArgnSequenceSynthesizer, SequenceSynthesizer

__all__ = ["fit", "load"]

logger = logging.getLogger("mirage")


def fit(
    data: pd.DataFrame | str | Path,
    *,
    engine: str = "auto",
    schema: Schema | str | Path | None = None,
    holdout: float | None = None,
    split_seed: int = 0,
    read_options: Mapping[str, Any] | None = None,
    source: str | Path | None = None,
    encoding_options: EncodingOptions | None = None,
    **hyperparameters: Any,
) -> Synthesizer:
    """Learn ``data`` (a DataFrame, a table file or a Dask DataFrame) with ``engine`` and return the fitted
    model.  ``engine="auto"`` fits an engine whose defaults keep the no-copying bar, picked by the table's
    size and, below 5,000 rows, by measuring two (see :func:`mirage.engines.fit_auto`).  A Dask DataFrame
    is learned partition by partition (see :func:`mirage.scale.fit_partitions`; ``engine="auto"`` is the
    copula there).

    ``holdout`` keeps that fraction of the rows aside (never learned) for the privacy checks of
    ``mirage report``; the model records how to rebuild the split, not the rows themselves.
    ``read_options`` (such as ``on_bad_lines``, ``encoding``) go to ``read_table`` when ``data`` is a
    file, and are recorded with the split so that it is rebuilt from the same rows.  ``source`` names
    the file a DataFrame ``data`` was read from (with ``read_options``), so that a caller who has read
    it already need not read it twice for the split to be recorded.  ``encoding_options`` (an
    ``EncodingOptions``, such as ``EncodingOptions(rare_min_count=5)``) go to the engine's ``fit``.
    """
    from mirage.evaluation._holdout import holdout_record, split_holdout
    from mirage.io import read_any

    if type(data).__module__.split(".")[0] == "dask":  # a Dask DataFrame: fitted where its partitions lie
        from mirage.scale import fit_partitions

        if read_options or source is not None:
            raise OptionError("read_options and source do not apply to a Dask DataFrame")
        return fit_partitions(
            data,
            engine="copula" if engine == "auto" else engine,
            schema=Schema.load(schema) if isinstance(schema, (str, Path)) else schema,
            encoding_options=encoding_options,
            holdout=holdout,
            split_seed=split_seed,
            **hyperparameters,
        )
    options = dict(read_options or {})
    frame = read_any(data, **options)
    record = None
    if holdout is not None:
        if isinstance(data, (str, Path)):
            source = data
        record = holdout_record(source, holdout, split_seed, len(frame), read_options=options)
        frame, kept = split_holdout(frame, holdout, split_seed)
        require_training_rows(len(frame), holdout=holdout, kept=len(kept))
    if isinstance(schema, (str, Path)):
        schema = Schema.load(schema)
    if engine == "auto":
        model, reason = fit_auto(frame, schema, encoding_options=encoding_options, **hyperparameters)
        logger.info("engine=auto picked %r: %s", model.name, reason)
    else:
        model = get_engine(engine)(**hyperparameters).fit(frame, schema, encoding_options=encoding_options)
    if record is not None:
        model.training_.update(record)
    return model


def load(
    source: str | Path | bytes | IO[bytes],
) -> Synthesizer | RelationalSynthesizer | SequenceSynthesizer | ArgnSequenceSynthesizer:
    """Load a model file written by ``Synthesizer.save`` (or ``RelationalSynthesizer.save``: a whole
    database's model; ``SequenceSynthesizer.save`` or ``ArgnSequenceSynthesizer.save``: event sequences
    per entity) from a path, bytes or a binary stream; nothing in the file can run code."""
    from mirage.model_file import load_model, read_manifest
    from mirage.relational import RELATIONAL, RelationalSynthesizer
    from mirage.sequential import SEQUENTIAL, SEQUENTIAL_ARGN, ArgnSequenceSynthesizer, SequenceSynthesizer

    if not isinstance(source, (str, Path, bytes, bytearray, memoryview)) and hasattr(source, "read"):
        source = source.read()  # read twice below: the manifest first, then the whole model
    engine = read_manifest(source).get("engine")
    if engine == RELATIONAL:
        return RelationalSynthesizer.load(source)
    if engine == SEQUENTIAL:
        return SequenceSynthesizer.load(source)
    if engine == SEQUENTIAL_ARGN:
        return ArgnSequenceSynthesizer.load(source)
    return load_model(source)


def single_table(
    model: Synthesizer | RelationalSynthesizer | SequenceSynthesizer | ArgnSequenceSynthesizer, source: object
) -> Synthesizer:
    """``model`` where a command works on one table's model; a database's or a sequence model is an
    ``OptionError``."""
    from mirage.errors import OptionError
    from mirage.relational import RelationalSynthesizer

    if isinstance(model, RelationalSynthesizer):
        raise OptionError(
            f"{source} holds a model of several related tables; this command works on a single table's model"
        )
    if not isinstance(model, Synthesizer):
        raise OptionError(
            f"{source} holds a model of event sequences; this command works on a single table's model"
        )
    return model
