"""Error types. Every error names the problem and, where a finite set exists, the valid choices."""

from __future__ import annotations

from collections.abc import Iterable


class ICLClaimsError(Exception):
    """Base class of every error this library raises on bad input or bad state."""


def _choices(valid: Iterable[str]) -> str:
    return ", ".join(sorted(valid))


class UnknownNameError(ICLClaimsError, KeyError):
    """A name (model, task, template, protocol...) that is not in its registry."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]):
        self.kind, self.name, self.valid = kind, name, sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid {kind}s: {_choices(self.valid)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]

    def __reduce__(self):  # pickles (e.g. from a worker process) with its fields
        return type(self), (self.kind, self.name, self.valid)


class ModelLoadError(ICLClaimsError):
    """A model could not be found, fetched, verified or loaded."""


class HashMismatchError(ModelLoadError):
    """Assembled weights whose SHA-256 differs from the expected one."""


class LayoutError(ICLClaimsError):
    """A prompt whose tokens cannot be assigned to roles unambiguously."""


class PromptTooLongError(LayoutError):
    """A prompt (with its decoding budget) longer than the model's context
    (`context_window.check_context`)."""


class InterventionError(ICLClaimsError):
    """An intervention asked for something the model or prompt does not have."""


class InvalidChoiceError(ICLClaimsError, ValueError):
    """A value outside its allowed set or range (layer, device, dtype, k...)."""
