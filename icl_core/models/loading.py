"""Load a model by zoo name, Hugging Face id (local cache only), local folder or `.gguf` file.

Always offline, never `trust_remote_code`, weights only from safetensors or GGUF (no pickle).
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from icl_core.errors import InvalidChoiceError, ModelLoadError
from icl_core.models import acquire
from icl_core.models.architectures import Architecture, architecture_of
from icl_core.models.dtype_policy import auto_dtype
from icl_core.models.integrity import check_loaded
from icl_core.models.locate import (
    check_tokenizer_files,
    check_weights_folder,
    locate,
    source_digest,
    weights_digest,
)
from icl_core.models.registry import REGISTRY

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DTYPES = {
    "float32": torch.float32, "fp32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16,
}  # fmt: skip
DEVICE_KINDS = ("auto", "cpu", "cuda", "cuda:N", "mps")


@dataclass(frozen=True)
class ModelInfo:
    """What every load reports. `weights_sha256` identifies the exact weights used."""

    name: str
    family: str
    n_layers: int
    hidden: int
    dtype: str
    device: str
    weights_sha256: str  # digest of the weight files actually loaded (safetensors or GGUF)
    source_sha256: str | None  # SHA-256 of the GGUF the zoo model was converted from, if any
    source: str  # zoo | organism | hf-cache | local-dir | gguf-file
    path: str  # the model folder, or the GGUF file itself
    architecture: str
    load_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class LoadedModel:
    """A model in eval mode with its tokenizer (pad token set) and its load report."""

    model: torch.nn.Module
    tokenizer: object
    info: ModelInfo

    @property
    def layers(self) -> torch.nn.ModuleList:
        return decoder_layers(self.model)


def resolve_device(device: str = "auto") -> torch.device:
    """`auto` -> cuda if present else cpu. A device that is absent raises InvalidChoiceError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InvalidChoiceError(
            f"unknown device {device!r}; valid devices: {', '.join(DEVICE_KINDS)}"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidChoiceError(f"device {device!r} requested but CUDA is not available here")
    if dev.type == "cuda" and (dev.index or 0) >= torch.cuda.device_count():
        raise InvalidChoiceError(
            f"device {device!r}: only {torch.cuda.device_count()} CUDA devices"
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidChoiceError(f"device {device!r} requested but MPS is not available here")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise InvalidChoiceError(f"unsupported device {device!r}; valid: {', '.join(DEVICE_KINDS)}")
    return dev


def resolve_dtype(dtype: str = "auto") -> torch.dtype | None:
    """The torch dtype named by `dtype`; None for `auto`, which `load_model` settles per model
    and device (`dtype_policy.auto_dtype`)."""
    if dtype == "auto":
        return None
    if dtype not in DTYPES:
        raise InvalidChoiceError(
            f"unknown dtype {dtype!r}; valid dtypes: auto, {', '.join(DTYPES)}"
        )
    return DTYPES[dtype]


def decoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The decoder blocks of a supported causal LM (`architectures.blocks_of`)."""
    from icl_core.models.architectures import blocks_of

    return blocks_of(model)


def _load_tokenizer(folder: Path, gguf_file: str | None, name: str):
    from transformers import AutoTokenizer

    kw = {"gguf_file": gguf_file} if gguf_file else {}
    if not gguf_file:
        check_tokenizer_files(folder)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False, **kw
        )
    except (OSError, ValueError, ImportError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"the tokenizer of {name} in {folder} cannot be loaded: {first}"
                             ) from None  # fmt: skip
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(
            f"tokenizer of {name} is not a fast tokenizer: character offsets are needed to "
            f"derive token positions"
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_kwargs(folder: Path, gguf_file: str | None) -> dict:
    kw: dict = {"local_files_only": True, "trust_remote_code": False}
    if gguf_file:
        kw["gguf_file"] = gguf_file
    else:
        check_weights_folder(folder)
        kw["use_safetensors"] = True
    return kw


def _config(folder: Path, gguf_file: str | None):
    from transformers import AutoConfig

    kw = {"gguf_file": gguf_file} if gguf_file else {}
    return AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False, **kw)


def model_architecture(folder: Path, gguf_file: str | None) -> Architecture:
    """The architecture of a located model, from its config alone (no weights are read);
    ModelLoadError for an unsupported one (`architectures.architecture_of`)."""
    return architecture_of(_config(folder, gguf_file).model_type)


def check_model_argument(name: str) -> None:
    """What can be checked of a model argument without reading weights (ModelLoadError or
    UnknownNameError otherwise): it exists, and, for one not in the registry (whose models are
    fetched and verified on first load), its architecture is supported and a folder holds
    safetensors weights and a tokenizer; a GGUF file's header and sizes are sound."""
    if name in REGISTRY:
        return
    _, folder, gguf_file, _ = locate(name, fetch_missing=False)
    model_architecture(folder, gguf_file)
    if not gguf_file:
        check_weights_folder(folder)
        check_tokenizer_files(folder)


@functools.cache
def model_family(name: str) -> str:
    """The family of a model argument without loading weights: the registry's for registered
    names, else from the config's `model_type`, found as `load_model` finds the model."""
    if name in REGISTRY:
        return REGISTRY[name].family
    _, folder, gguf_file, _ = locate(name, fetch_missing=False)
    return model_architecture(folder, gguf_file).family


def load_config(name: str, fetch_missing: bool = True):
    """Only the transformers config of a model (same resolution rules as `load_model`)."""
    _, folder, gguf_file, _ = locate(name, fetch_missing)
    return _config(folder, gguf_file)


def load_tokenizer(name: str, fetch_missing: bool = True):
    """Only the fast tokenizer of a model (same resolution rules as `load_model`)."""
    _, folder, gguf_file, _ = locate(name, fetch_missing)
    if not gguf_file:
        check_weights_folder(folder)
    return _load_tokenizer(folder, gguf_file, name)


def load_model(
    name: str, device: str = "auto", dtype: str = "auto", fetch_missing: bool = True
) -> LoadedModel:
    """Load a causal LM and its fast tokenizer, in eval mode, offline. See module docstring."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one line per load is ours to print

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype)
    start = time.perf_counter()
    source, folder, gguf_file, spec = locate(name, fetch_missing)
    kw = _load_kwargs(folder, gguf_file)
    arch = model_architecture(folder, gguf_file)
    digest = acquire.sha256_file(folder / gguf_file) if gguf_file else weights_digest(folder)
    if torch_dtype is None:
        torch_dtype = auto_dtype(spec.name if spec else name, digest, dev)
    if torch_dtype == torch.float16 and dev.type == "cpu":
        warnings.warn("float16 on CPU is slow and overflow-prone (residual streams of 1e5 "
                      "exceed its range of 65504); prefer float32 there", stacklevel=2)  # fmt: skip
    tokenizer = _load_tokenizer(folder, gguf_file, name)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype, **kw).to(dev).eval()
    check_loaded(model, tokenizer, digest)
    config = model.config
    n_layers = len(decoder_layers(model))
    family = spec.family if spec else arch.family
    if spec and (spec.n_layers != n_layers or spec.hidden != config.hidden_size):
        raise ModelLoadError(
            f"{name}: loaded {n_layers} layers x {config.hidden_size}, registry says "
            f"{spec.n_layers} x {spec.hidden}: wrong weights"
        )
    info = ModelInfo(
        name=spec.name if spec else name,
        family=family,
        n_layers=n_layers,
        hidden=config.hidden_size,
        dtype=str(torch_dtype).removeprefix("torch."),
        device=str(dev),
        weights_sha256=digest,
        source_sha256=source_digest(folder, gguf_file, digest),
        source=source,
        path=str(folder / gguf_file if gguf_file else folder),
        architecture=type(model).__name__,
        load_seconds=round(time.perf_counter() - start, 3),
    )
    return LoadedModel(model=model, tokenizer=tokenizer, info=info)
