"""The model file of argn's sequential mode: each part's JSON state and its arrays under the part's prefix.

Parts: the entity model (an argn engine), the entity encoder and discretiser (the history network's
start), the gap discretiser, the event encoder and discretiser (absent without value columns that change
along a history), and the history network's weights (``net.<state_dict key>``, float32).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mirage._validate import StateError, require, require_array, require_int, require_mapping, within
from mirage.encoding.discretise import Discretiser
from mirage.schema import Schema
from mirage.sequential._model import engine_state, restore_engine
from mirage.sequential._schema import SequenceSchema

if TYPE_CHECKING:
    from mirage.sequential._argn import ArgnSequenceSynthesizer

__all__ = ["model_state", "restore_model"]

_NET = "net."


def _prefixed(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}/{k}": v for k, v in arrays.items()}


def _own(prefix: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    start = f"{prefix}/"
    return {k[len(start) :]: v for k, v in arrays.items() if k.startswith(start)}


def model_state(model: ArgnSequenceSynthesizer) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    entity_engine, arrays = engine_state(model.entity_engine_, "entity_engine")
    state: dict[str, Any] = {
        "static": model.static_,
        "dynamic": model.dynamic_,
        "context_columns": model.context_columns_,
        "max_length": model.max_length_,
        "drawn_length": model.drawn_length_,
        "day_token": model.day_token_,
        "max_days": model.max_days_,
        "last_time": model.last_time_,
        "hidden": model.hidden_,
        "training": model.training_,
        "entity_engine": entity_engine,
    }
    encoders = {"entity_encoder": model.entity_encoder_, "event_encoder": model.event_encoder_}
    for name, encoder in encoders.items():
        if encoder is None:
            continue
        encoder_state, encoder_arrays = encoder.get_state()
        state[name] = {"schema": encoder.schema.to_dict(), "state": encoder_state}
        arrays.update(_prefixed(name, encoder_arrays))
    discretisers = {
        "entity_discretiser": model.entity_discretiser_,
        "gap_discretiser": model.gap_discretiser_,
        "value_discretiser": model.value_discretiser_,
    }
    for name, disc in discretisers.items():
        if disc is None:
            continue
        disc_state, disc_arrays = disc.get_state()
        state[name] = disc_state
        arrays.update(_prefixed(name, disc_arrays))
    arrays["position/time_edges"] = model.time_edges_
    arrays["position/elapsed_edges"] = model.elapsed_edges_
    arrays["position/length_tails"] = model.length_tails_
    for key, tensor in model.network_.state_dict().items():
        arrays[f"{_NET}{key}"] = tensor.detach().cpu().numpy()
    return state, arrays


def restore_model(model: ArgnSequenceSynthesizer, manifest: Mapping[str, Any], payload: bytes) -> None:
    """Fill ``model`` (constructed with the file's hyperparameters) from the file's state and arrays;
    a :class:`StateError` names a field that cannot be used."""
    import torch
    from safetensors.numpy import load as load_arrays

    from mirage.encoding._table import TableEncoder
    from mirage.engines.argn import ArgnSynthesizer
    from mirage.engines.argn._runtime import torch_scope

    arrays = load_arrays(payload) if payload else {}
    schema = SequenceSchema.from_dict(dict(require_mapping(require(manifest, "schema"), "schema")))
    state = require_mapping(require(manifest, "state"), "state")
    with within("state.entity_engine", "entity_engine/"):
        saved = require_mapping(require(state, "entity_engine"))
        model.entity_engine_ = restore_engine(ArgnSynthesizer, saved, arrays, "entity_engine")
    for name in ("entity_encoder", "event_encoder"):
        encoder = None
        if name in state:
            with within(f"state.{name}", f"{name}/"):
                saved = require_mapping(require(state, name))
                encoder_schema = Schema.from_dict(dict(require_mapping(require(saved, "schema"))))
                encoder = TableEncoder.from_state(encoder_schema, require(saved, "state"), _own(name, arrays))
        elif name == "entity_encoder":
            raise StateError(f"state.{name}", "missing")
        setattr(model, f"{name}_", encoder)
    for name in ("entity_discretiser", "gap_discretiser", "value_discretiser"):
        disc = None
        if name in state:
            with within(f"state.{name}", f"{name}/"):
                disc = Discretiser.from_state(require_mapping(require(state, name)), _own(name, arrays))
        elif name != "value_discretiser":
            raise StateError(f"state.{name}", "missing")
        setattr(model, f"{name}_", disc)
    if (model.event_encoder_ is None) != (model.value_discretiser_ is None):
        raise StateError("state.event_encoder", "and state.value_discretiser go together")
    model.static_ = [str(c) for c in state["static"]]
    model.dynamic_ = [str(c) for c in state["dynamic"]]
    model.context_columns_ = [str(c) for c in state["context_columns"]]
    model.max_length_ = require_int(state, "max_length", low=1)
    drawn_length = state.get("drawn_length", False)  # files written before lengths were drawn lack it
    if not isinstance(drawn_length, bool):
        raise StateError("state.drawn_length", f"must be true or false, got {drawn_length!r}")
    model.drawn_length_ = drawn_length
    day_token = state.get("day_token", False)  # files written before the day token lack it
    if not isinstance(day_token, bool):
        raise StateError("state.day_token", f"must be true or false, got {day_token!r}")
    model.day_token_ = day_token
    model.max_days_ = require_int(state, "max_days", low=0) if "max_days" in state else 0
    model.hidden_ = require_int(state, "hidden", low=1)
    last_time = require(state, "last_time")
    if isinstance(last_time, bool) or not isinstance(last_time, (int, float)) or not np.isfinite(last_time):
        raise StateError("state.last_time", f"must be a finite number, got {last_time!r}")
    model.last_time_ = float(last_time)
    model.training_ = dict(require_mapping(state.get("training", {}), "training"))
    model.schema_ = schema
    for name in ("time_edges", "elapsed_edges"):
        edges = require_array(arrays, f"position/{name}", kind="f", shape=(None,))
        if not np.all(np.diff(edges) > 0):
            raise StateError(f"position/{name}", "not increasing", array=True)
        setattr(model, f"{name}_", edges.astype("float64"))
    model.length_tails_ = np.zeros((2, 5))  # files written before the lengths' tails were drawn lack them
    if "position/length_tails" in arrays:
        tails = require_array(arrays, "position/length_tails", kind="f", shape=(2, 5))
        shares, scales = tails[:, 2], tails[:, 3]
        if np.any(shares < 0.0) or np.any(shares >= 1.0) or np.any((shares > 0.0) & (scales <= 0.0)):
            raise StateError("position/length_tails", "expected shares in [0, 1) with scales > 0", array=True)
        model.length_tails_ = tails.astype("float64")
    with torch_scope(None):  # the initial weights, overwritten below, must not draw from torch's state
        network = model._new_network(0.0)
    weights = {}
    expected = network.state_dict()
    for key, tensor in expected.items():
        value = require_array(arrays, f"{_NET}{key}", kind="f", shape=tuple(tensor.shape))
        weights[key] = torch.from_numpy(value.astype(np.float32))
    extra = sorted(k for k in arrays if k.startswith(_NET) and k[len(_NET) :] not in expected)
    if extra:
        raise StateError(extra[0], "not a weight of this network", array=True)
    network.load_state_dict(weights)
    network.train(False)
    model.network_ = network
