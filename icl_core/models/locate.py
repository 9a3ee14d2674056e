"""Where a model argument's files are (zoo name, registry entry, Hugging Face id in the local
cache, model folder, `.gguf` file), checked before anything loads: a folder needs config.json,
safetensors weights (pickle refused) and tokenizer files; a shipped organism must match its
registry digest. Weights digests are cached in the results cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

from icl_core.errors import ModelLoadError, UnknownNameError
from icl_core.models import acquire
from icl_core.models.integrity import check_gguf
from icl_core.models.registry import REGISTRY, ModelSpec, get_spec

# Files from which transformers builds a fast tokenizer (tokenizer.json directly; the others by
# conversion).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt")


def weights_digest(folder: Path) -> str:
    """SHA-256 over the folder's safetensors files (name + file digest), cached beside the files
    in the results cache keyed by (path, size, mtime)."""
    files = sorted(folder.glob("*.safetensors"))
    key = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    memo = acquire.cache_root() / "digests.json"
    known = json.loads(memo.read_text()) if memo.is_file() else {}
    if key not in known:
        import hashlib

        h = hashlib.sha256()
        for p in files:
            h.update(p.name.encode() + acquire.sha256_file(p).encode())
        known[key] = h.hexdigest()
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, memo)
    return known[key]


def source_digest(folder: Path, gguf_file: str | None, digest: str) -> str | None:
    if gguf_file:
        return digest
    meta = folder / acquire.META_FILE
    return json.loads(meta.read_text()).get("gguf_sha256") if meta.is_file() else None


def check_weights_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ModelLoadError(f"{folder} is not a directory")
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder} has no config.json: not a transformers model folder")
    if not any(folder.glob("*.safetensors")):
        present = sorted(p.name for p in folder.iterdir())[:20]
        pickles = [p for p in present if p.endswith((".bin", ".pt", ".pth", ".ckpt"))]
        why = (
            f"only pickle weights ({', '.join(pickles)}), which are refused for safety"
            if pickles
            else "no weights"
        )
        raise ModelLoadError(
            f"{folder} holds {why}; expected *.safetensors (or pass a .gguf file). "
            f"Files present: {', '.join(present) or 'none'}"
        )


def hf_cache_folder(hf_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(hf_id, local_files_only=True))
    except Exception as exc:  # the hub raises several types for "not cached"
        raise ModelLoadError(
            f"{hf_id!r} is not in the local Hugging Face cache and the hub is never contacted. "
            f"Download its safetensors elsewhere and pass the folder, or use a zoo model: "
            f"{', '.join(n for n, s in REGISTRY.items() if s.source == 'zoo')} "
            f"({exc.__class__.__name__})"
        ) from None


def locate(name: str, fetch_missing: bool) -> tuple[str, Path, str | None, ModelSpec | None]:
    """(source kind, path, gguf file name or None, spec or None) for a model argument."""
    path = Path(name).expanduser()
    if name in REGISTRY:
        spec = get_spec(name)
        if spec.source == "zoo":
            if not acquire.is_available(spec):
                if not fetch_missing:
                    raise ModelLoadError(
                        f"{name} is not fetched; run `icl-claims models fetch {name}`"
                    )
                acquire.fetch(spec)
            return "zoo", acquire.converted_dir(spec), None, spec
        if spec.source == "organism":
            return "organism", _organism_folder(spec), None, spec
        return "hf-cache", hf_cache_folder(spec.hf_id or name), None, spec
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"GGUF file {path} does not exist")
        check_gguf(path)
        return "gguf-file", path.parent, path.name, None
    if path.exists():
        return "local-dir", path, None, None
    if "/" in name and not name.startswith((".", "/", "~")):
        return "hf-cache", hf_cache_folder(name), None, None
    if name.startswith((".", "/", "~")):
        raise ModelLoadError(
            f"model folder {path} does not exist (a model is a zoo name, an HF id in the "
            "local cache, a model folder or a .gguf file)"
        )
    raise UnknownNameError("model", name, list(REGISTRY) + ["<local dir>", "<file.gguf>"])


def _organism_folder(spec: ModelSpec) -> Path:
    """The shipped folder of an organism, checked against the registry's digest."""
    folder = acquire.shipped_dir(spec.name)
    check_weights_folder(folder)
    digest = weights_digest(folder)
    if digest != spec.weights_sha256:
        raise ModelLoadError(
            f"{spec.name}: the shipped weights in {folder} have SHA-256 {digest}, the registry "
            f"says {spec.weights_sha256}: restore the folder from the package (reinstall) or "
            f"rebuild it with `icl-claims organisms build` and record the new digest"
        )
    return folder


def check_tokenizer_files(folder: Path) -> None:
    if not any((folder / f).is_file() for f in TOKENIZER_FILES):
        raise ModelLoadError(
            f"{folder} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}); copy the "
            f"tokenizer files of the model's publisher into the folder"
        )
