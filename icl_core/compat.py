"""Differences between supported transformers releases, in one place.

transformers 5.24 renamed the KV-cache argument and output field from `past_key_values` to
`cache`; earlier 5.x releases (>= 5.17 supported) use `past_key_values`.
"""

from __future__ import annotations

import copy
import functools
import inspect

import torch


@functools.cache
def _cache_name(forward_cls: type) -> str:
    params = inspect.signature(forward_cls.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def forward(model: torch.nn.Module, input_ids: torch.Tensor, cache=None, **kwargs):
    """`model(input_ids, <cache argument>=cache, use_cache=True, **kwargs)`; returns
    (output, cache after the call)."""
    name = _cache_name(type(model))
    out = model(input_ids=input_ids, use_cache=True, **{name: cache}, **kwargs)
    new_cache = getattr(out, "cache", None)
    return out, new_cache if new_cache is not None else out.past_key_values


def concat_caches(caches: list) -> object:
    """Concatenate KV caches of equal sequence length along the batch dimension (reuses and
    returns the first). Used to decode rows prefilled in separate chunks as one batch."""
    first = caches[0]
    if len(caches) > 1:
        for i, layer in enumerate(first.layers):
            layer.keys = torch.cat([c.layers[i].keys for c in caches])
            layer.values = torch.cat([c.layers[i].values for c in caches])
    return first


def fork_cache(cache) -> object:
    """A new cache object sharing the key/value tensors of `cache` without copying them.
    Safe because transformers' dynamic cache layers never write into their tensors in place
    (updates concatenate into new tensors), so the original stays intact."""
    fork = copy.copy(cache)
    fork.layers = [copy.copy(layer) for layer in cache.layers]
    return fork
