"""``argn`` with a privacy budget (``epsilon``): private preprocessing, then DP-SGD.

Nothing the model keeps is read from the rows without budget: the row count is a noisy count; every
learned column's domain is the schema's (public, free) or released privately by its codec
(:func:`mirage.engines.dp._domains.private_encoder`: ``TableEncoder.reduce`` with budgets); the table
encoder learns only from those domains, and the discretiser's bins are fitted on public rows spanning
them, never on the rows; the network is trained by DP-SGD
(:func:`mirage.engines.argn._training.train_private`), which takes what is left of epsilon.  Every charge
is on ``model.ledger_``, saved in the model file and shown by ``mirage budget``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mirage.encoding import EncodingOptions
from mirage.errors import OptionError
from mirage.privacy import GaussianMechanism, Ledger
from mirage.schema import Schema

if TYPE_CHECKING:
    from mirage.engines.argn._engine import ArgnSynthesizer

__all__ = ["COUNT_SHARE", "DOMAIN_SHARE", "learn_private"]

COUNT_SHARE = 0.01  # of rho, on the row count (the sample rate and batch sizes need it)
DOMAIN_SHARE = 0.3  # of rho, on the domains the schema does not declare (spent only on those)


def learn_private(
    engine: ArgnSynthesizer,
    data: pd.DataFrame,
    schema: Schema,
    context: pd.DataFrame | None,
    options: EncodingOptions,
) -> None:
    from mirage.engines.dp._domains import private_encoder, public_frame, restrict

    if context is not None:
        raise OptionError("argn with epsilon cannot learn a context yet: fit without one, or without epsilon")
    if schema.rules:
        raise OptionError("argn with epsilon cannot learn business rules yet: fit without the schema's rules")
    if engine.max_dcr_share is not None:
        raise OptionError(
            "argn: max_dcr_share refits until the DCR check passes, which would spend the budget again; "
            "with epsilon, leave it unset (the budget is the guarantee)"
        )
    ledger = Ledger(float(engine.epsilon or 0.0), float(engine.delta))
    rho = ledger.rho_budget
    count = GaussianMechanism(rho=rho * COUNT_SHARE)(np.array([len(data)]), ledger=ledger, what="row count")
    private = private_encoder(
        data, schema, options, ledger, rho * DOMAIN_SHARE, engine.delta / 2, float(count[0])
    )
    encoder = private.encoder
    rows = restrict(data, encoder)
    engine.schema_ = schema
    engine.rules_ = None
    engine.encoder_ = encoder
    engine.context_schema_ = None
    engine.context_encoder_ = None
    engine.n_training_rows_ = max(1, int(count[0]))
    engine.training_ = {}
    engine.ledger_ = ledger
    engine.measured_columns_ = list(private.measured)
    engine._learn_tokens(
        encoder.encode(rows),
        list(encoder.subcolumns),
        [],
        np.random.default_rng(engine.seed),
        public_parts=encoder.encode(public_frame(encoder, data)),
    )
