"""The model's context window: the one place a prompt's length is checked against it."""

from __future__ import annotations

import warnings

import torch

from icl_core.errors import PromptTooLongError


def context_limit(config) -> int | None:
    """A model config's context length in tokens (`max_position_embeddings`), None if unstated."""
    return getattr(config, "max_position_embeddings", None)


def check_context(model: torch.nn.Module, n_tokens: int) -> None:
    """The one place the context length is checked: PromptTooLongError if `n_tokens` (prompt
    plus decoding budget) exceed the model's `context_limit`; a warning (once per call site)
    within 10% of it, where a model's behaviour is less reliable."""
    limit = context_limit(model.config)
    if limit is None:
        return
    if n_tokens > limit:
        raise PromptTooLongError(
            f"{n_tokens} tokens (prompt and decoding budget), more than the model's context of "
            f"{limit}"
        )
    if n_tokens > 0.9 * limit:
        warnings.warn(
            f"a prompt of {n_tokens} tokens is within 10% of the model's context of {limit}",
            stacklevel=3,
        )
