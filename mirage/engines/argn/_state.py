"""The network's weights in the model file: one ``net.<state_dict key>`` float32 array per weight."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from mirage._validate import StateError, require_array

if TYPE_CHECKING:
    from mirage.engines.argn._network import ArgnNetwork

__all__ = ["PREFIX", "load_weights", "weight_arrays"]

PREFIX = "net."


def weight_arrays(network: ArgnNetwork) -> dict[str, np.ndarray]:
    return {f"{PREFIX}{key}": tensor.detach().cpu().numpy() for key, tensor in network.state_dict().items()}


def load_weights(network: ArgnNetwork, arrays: Mapping[str, np.ndarray]) -> None:
    """Load ``arrays`` into ``network``, each checked for its key, kind and shape; no extra ones allowed."""
    import torch

    expected = network.state_dict()
    weights = {}
    for key, tensor in expected.items():
        value = require_array(arrays, f"{PREFIX}{key}", kind="f", shape=tuple(tensor.shape))
        weights[key] = torch.from_numpy(value.astype(np.float32))
    extra = sorted(k for k in arrays if k.startswith(PREFIX) and k[len(PREFIX) :] not in expected)
    if extra:
        raise StateError(extra[0], "not a weight of this network", array=True)
    network.load_state_dict(weights)
    network.train(False)
