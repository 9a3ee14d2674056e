"""The setup a result is computed under, as a fingerprint for the results store's key.

`setup_components(lm)` names, in clear text, everything about a loaded model and its runtime
that can change a result: weights, model class, model config, attention implementation,
tokenizer, dtype, device, torch and transformers versions (major.minor). `setup_hash(lm)` is
the SHA-256 over their canonical JSON. Where a model was loaded from (its path, its name) is
not part of it: the same setup loaded from another folder gives the same hash.

Contract: a tokenizer is not changed in place once fingerprinted (its digest is memoised per
tokenizer object: hashing a large vocabulary takes tens of milliseconds); the weights are
identified by `lm.info.weights_sha256`; dtype, device and config are read on every call.
"""

from __future__ import annotations

import hashlib
import json
import weakref

import torch

from icl_core.models.loading import LoadedModel

# Config fields that are bookkeeping, not forward computation: where the config came from,
# which transformers wrote it, and the dtype (taken from the parameters instead, see `dtype`).
# Every other field counts, at any depth (nested sub-configs included).
BOOKKEEPING_CONFIG_FIELDS = frozenset(
    {"_name_or_path", "transformers_version", "torch_dtype", "dtype", "_commit_hash",
     "_attn_implementation_autoset"}
)  # fmt: skip
_tokenizer_digests: dict[int, tuple[weakref.ref, str]] = {}


def _sha256_json(obj: object) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalised(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _normalised(v) for k, v in value.items()
                if k not in BOOKKEEPING_CONFIG_FIELDS}  # fmt: skip
    if isinstance(value, (list, tuple)):
        return [_normalised(v) for v in value]
    return value


def config_digest(config) -> str:
    """SHA-256 of a transformers config's `to_dict()` without BOOKKEEPING_CONFIG_FIELDS."""
    return _sha256_json(_normalised(config.to_dict()))


def tokenizer_digest(tokenizer) -> str:
    """SHA-256 of a fast tokenizer: its serialised backend (vocabulary, merges, normaliser,
    pre-tokenizer, post-processor, decoder, added tokens) plus the transformers-side settings
    that change encoding or decoding. Memoised per tokenizer object."""
    hit = _tokenizer_digests.get(id(tokenizer))
    if hit is not None and hit[0]() is tokenizer:
        return hit[1]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise TypeError(f"{type(tokenizer).__name__} is not a fast tokenizer: nothing to hash")
    digest = _sha256_json({
        "class": type(tokenizer).__name__,
        "backend": backend.to_str(),
        "special_tokens": tokenizer.special_tokens_map,
        "padding_side": tokenizer.padding_side,
        "clean_up_tokenization_spaces": tokenizer.clean_up_tokenization_spaces,
    })  # fmt: skip
    _tokenizer_digests[id(tokenizer)] = (weakref.ref(tokenizer), digest)
    return digest


def _major_minor(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


def _device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def setup_components(lm: LoadedModel) -> dict[str, str]:
    """What `lm` computes under, in clear text (digests for the large parts)."""
    import transformers

    param = next(lm.model.parameters())
    config = lm.model.config
    return {
        "weights_sha256": lm.info.weights_sha256,
        "model_class": type(lm.model).__name__,
        "config_sha256": config_digest(config),
        "attention": str(getattr(config, "_attn_implementation", None)),
        "tokenizer_sha256": tokenizer_digest(lm.tokenizer),
        "dtype": str(param.dtype).removeprefix("torch."),
        "device": _device(param.device),
        "torch": _major_minor(torch.__version__),
        "transformers": _major_minor(transformers.__version__),
    }


def setup_hash(lm: LoadedModel) -> str:
    """SHA-256 hex over the canonical JSON of `setup_components(lm)`."""
    return _sha256_json(setup_components(lm))
