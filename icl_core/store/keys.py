"""Result keys: what the results store keys a computation by (`result_key`), and the explicit
result versions in a key (`code_version`, from `icl_core.versions`)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from icl_core import versions
from icl_core.errors import UnknownNameError


def code_version(*modules: str) -> str:
    """The explicit result version of a computation that uses the shared engine and the named
    experiment `modules` (names in `icl_core.versions.RESULT_VERSIONS`), e.g.
    "engine=1;patching=1". Unknown module names raise UnknownNameError. Depends on no source
    file, so a pure refactor changes no key; see `icl_core.versions` for when to bump."""
    parts = [f"engine={versions.ENGINE_VERSION}"]
    for name in sorted(set(modules)):
        if name not in versions.RESULT_VERSIONS:
            raise UnknownNameError("experiment module", name, versions.RESULT_VERSIONS)
        parts.append(f"{name}={versions.RESULT_VERSIONS[name]}")
    return ";".join(parts)


def is_current_version(version: object) -> bool:
    """Whether a version string written by `code_version` is still the current one."""
    if not isinstance(version, str) or not version.startswith("engine="):
        return False
    modules = [part.split("=")[0] for part in version.split(";")[1:]]
    try:
        return code_version(*modules) == version
    except UnknownNameError:
        return False


# --------------------------------------------------------------------------- keys


def canonical_json(obj: object) -> str:
    """Canonical JSON: sorted keys, no spaces, NaN/Infinity allowed (Python's json spelling)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True, ensure_ascii=True)


def _check_config_value(value: object, where: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_config_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise TypeError(f"config key {k!r} inside {where} must be a str")
            _check_config_value(item, f"{where}[{k!r}]")
        return
    raise TypeError(
        f"config value {where} has unsupported type {type(value).__name__} ({value!r}); "
        f"allowed: str, int, float, bool, None, and lists/tuples/dicts of those"
    )


def result_key(
    model_hash: str, experiment: str, config: dict[str, Any], version: str | None = None
) -> str:
    """SHA-256 hex of the canonical JSON of (model_hash, experiment, config, version).

    `model_hash`: the setup fingerprint (`icl_core.provenance.setup_hash`). `version`
    defaults to `code_version()`. Config values may be str, int, float, bool, None,
    and lists/tuples/str-keyed dicts of those; anything else raises TypeError naming the config
    key. Dict order does not matter; a tuple and a list with equal items give the same key;
    1, 1.0 and True give three different keys (JSON spells them differently).
    """
    for name, part in (("model_hash", model_hash), ("experiment", experiment)):
        if not isinstance(part, str) or not part:
            raise TypeError(f"{name} must be a non-empty str, got {part!r}")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    for k, v in config.items():
        if not isinstance(k, str):
            raise TypeError(f"config key {k!r} must be a str")
        _check_config_value(v, repr(k))
    if version is None:
        version = code_version()
    elif not isinstance(version, str) or not version:
        raise TypeError(f"version must be a non-empty str or None, got {version!r}")
    parts = {"config": config, "experiment": experiment, "model": model_hash, "version": version}
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()
