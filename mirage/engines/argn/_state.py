"""The network's weights in the model file: one ``net.<state_dict key>`` float32 array per weight.

The heads keep the names they had before they became modules: ``heads.<b>.weight`` and
``heads.<b>.bias`` are stored as ``net.head_weight.<b>`` and ``net.head_bias.<b>``, so model files
written before and after read alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from mirage._validate import StateError, require_array

if TYPE_CHECKING:
    from mirage.engines.argn._network import ArgnNetwork

__all__ = ["PREFIX", "load_weights", "weight_arrays"]

PREFIX = "net."
_HEAD_KEY = re.compile(r"heads\.(\d+)\.(weight|bias)")


def _file_key(key: str) -> str:
    """The model-file array name of the state_dict entry ``key``."""
    head = _HEAD_KEY.fullmatch(key)
    return f"{PREFIX}head_{head[2]}.{head[1]}" if head else f"{PREFIX}{key}"


def weight_arrays(network: ArgnNetwork) -> dict[str, np.ndarray]:
    return {_file_key(key): tensor.detach().cpu().numpy() for key, tensor in network.state_dict().items()}


def load_weights(network: ArgnNetwork, arrays: Mapping[str, np.ndarray]) -> None:
    """Load ``arrays`` into ``network``, each checked for its key, kind and shape; no extra ones allowed."""
    import torch

    expected = network.state_dict()
    weights = {}
    for key, tensor in expected.items():
        value = require_array(arrays, _file_key(key), kind="f", shape=tuple(tensor.shape))
        weights[key] = torch.from_numpy(value.astype(np.float32))
    file_keys = {_file_key(key) for key in expected}
    extra = sorted(k for k in arrays if k.startswith(PREFIX) and k not in file_keys)
    if extra:
        raise StateError(extra[0], "not a weight of this network", array=True)
    network.load_state_dict(weights)
    network.train(False)
