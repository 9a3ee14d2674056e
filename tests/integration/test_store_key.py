"""The store key covers the whole setup (SPEC 10): the same weights under another dtype, model
config, tokenizer or architecture class recompute; a refactor or another path changes no key."""

from __future__ import annotations

import builtins
import copy
import dataclasses
import io
import os
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, MistralConfig, MistralForCausalLM

import icl_core
from fixtures.models import tiny_loaded
from icl_core import provenance
from icl_core.experiments import patching
from icl_core.experiments.units import get_or_compute_unit, run_units
from icl_core.models.loading import LoadedModel
from icl_core.models.tiny import tiny_tokenizer
from icl_core.provenance import setup_components, setup_hash
from icl_core.records import TrialRecord
from icl_core.store import ResultsStore, code_version, result_key
from icl_core.versions import ENGINE_VERSION, RESULT_VERSIONS

CONFIG = {"pairs": [["uppercase", "first_letter"]], "seed": 0}
_MISTRAL_FIELDS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                   "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                   "pad_token_id", "bos_token_id", "eos_token_id", "head_dim")  # fmt: skip


def _like(base: LoadedModel, model=None, tokenizer=None, **info) -> LoadedModel:
    """`base` with another model or tokenizer; its ModelInfo (weights digest included) kept."""
    return LoadedModel(model or base.model, tokenizer or base.tokenizer,
                       dataclasses.replace(base.info, **info) if info else base.info)  # fmt: skip


def _same_tensors(model, config) -> torch.nn.Module:
    """A model built from `config` holding exactly `model`'s tensors."""
    other = AutoModelForCausalLM.from_config(config)
    other.load_state_dict(model.state_dict())
    return other.eval()


def _other_dtype(base: LoadedModel) -> LoadedModel:
    return _like(base, copy.deepcopy(base.model).to(torch.bfloat16))


def _other_rope_theta(base: LoadedModel) -> LoadedModel:
    config = copy.deepcopy(base.model.config)
    config.rope_parameters = {**config.rope_parameters, "rope_theta": 5e5}
    return _like(base, _same_tensors(base.model, config))


def _other_tokenizer(base: LoadedModel) -> LoadedModel:
    return _like(base, tokenizer=tiny_tokenizer(add_bos=False))


def _other_architecture(base: LoadedModel) -> LoadedModel:
    config = MistralConfig(**{f: getattr(base.model.config, f) for f in _MISTRAL_FIELDS},
                           sliding_window=None)  # fmt: skip
    model = MistralForCausalLM(config)
    model.load_state_dict(base.model.state_dict())
    return _like(base, model.eval())


VARIANTS = {
    "dtype": (_other_dtype, {"dtype"}),
    "config": (_other_rope_theta, {"config_sha256"}),
    "tokenizer": (_other_tokenizer, {"tokenizer_sha256"}),
    "architecture": (_other_architecture, {"model_class", "config_sha256"}),
}


@pytest.fixture(scope="module")
def base() -> LoadedModel:
    return tiny_loaded("llama")


def _compute(calls: list[int]):
    def compute() -> list[dict]:
        calls.append(1)
        return [{"n": len(calls)}]

    return compute


@pytest.mark.parametrize("variant", VARIANTS)
def test_same_weights_in_another_setup_recompute(
    base: LoadedModel, variant: str, tmp_path: Path
) -> None:
    make, differing = VARIANTS[variant]
    other = make(base)
    assert other.info.weights_sha256 == base.info.weights_sha256
    store, calls = ResultsStore(tmp_path), []
    first = get_or_compute_unit(store, base, "exp", CONFIG, _compute(calls), ("patching",))
    assert get_or_compute_unit(store, base, "exp", CONFIG, _compute(calls), ("patching",)) == first
    assert len(calls) == 1
    again = get_or_compute_unit(store, other, "exp", CONFIG, _compute(calls), ("patching",))
    assert len(calls) == 2 and again != first
    assert setup_hash(other) != setup_hash(base)
    a, b = setup_components(base), setup_components(other)
    assert {k for k in a if a[k] != b[k]} == differing


def test_entry_meta_holds_the_environment_in_clear_text(base: LoadedModel, tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    get_or_compute_unit(store, base, "exp", CONFIG, lambda: [1], ("tracing",))
    (entry,) = store.entries()
    assert entry.status == "current"
    meta = dict(entry.meta)
    assert meta.pop("compute_seconds") >= 0  # the unit's cost, never part of its key
    assert meta == {"model": base.info.name, "experiment": "exp",
                    "versions": code_version("tracing"),
                    "environment": setup_components(base)}  # fmt: skip
    env = entry.meta["environment"]
    assert env["dtype"] == "float32" and env["device"] == "cpu"
    assert env["model_class"] == "LlamaForCausalLM"
    assert env["torch"] == ".".join(torch.__version__.split(".")[:2])


def test_another_path_or_name_of_the_same_setup_shares_results(
    base: LoadedModel, tmp_path: Path
) -> None:
    config = copy.deepcopy(base.model.config)
    config._name_or_path = "/somewhere/else"
    moved = _like(base, _same_tensors(base.model, config), name="copy", path="/somewhere/else")
    assert setup_hash(moved) == setup_hash(base)

    def unit(lm: LoadedModel) -> list[TrialRecord]:
        return [TrialRecord(lm.info.name, "llama", 4, "rigorous", "exp", "uppercase",
                            "first_letter", 0, 1, "query", "malformed")]  # fmt: skip

    store = ResultsStore(tmp_path)
    run_units(base, "exp", [("u", CONFIG, lambda: unit(base))], store, code=("patching",))
    got = run_units(moved, "exp", [("u", CONFIG, lambda: pytest.fail("recomputed"))], store,
                    code=("patching",))  # fmt: skip
    assert [r.model for r in got] == ["copy"]  # named by the model asked for


def test_setup_hash_is_stable_and_covers_each_component(base: LoadedModel) -> None:
    assert setup_hash(base) == setup_hash(base)
    assert len(setup_hash(base)) == 64
    other = _like(base, weights_sha256="1" * 64)
    assert setup_components(other)["weights_sha256"] == "1" * 64
    assert setup_hash(other) != setup_hash(base)


def test_bookkeeping_config_fields_do_not_count(base: LoadedModel) -> None:
    config = copy.deepcopy(base.model.config)
    digest = provenance.config_digest(config)
    config._name_or_path, config.transformers_version = "/x", "0.0.1"
    assert provenance.config_digest(config) == digest
    config.sliding_window = 8  # a field that can change the forward
    assert provenance.config_digest(config) != digest


def test_code_version_is_explicit() -> None:
    assert code_version() == f"engine={ENGINE_VERSION}"
    want = f"engine={ENGINE_VERSION};patching={RESULT_VERSIONS['patching']}"
    want += f";tracing={RESULT_VERSIONS['tracing']}"
    assert code_version("tracing", "patching", "tracing") == want


def test_a_refactor_leaves_keys_unchanged(
    base: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming a private function and editing docstrings (as a refactor does) changes no key,
    and building a key reads no source file of the package."""
    key = result_key(setup_hash(base), "exp", CONFIG, code_version("patching"))
    monkeypatch.setattr(patching, "_pair_records", patching._records, raising=False)
    monkeypatch.delattr(patching, "_records")
    monkeypatch.setattr(patching.run_pair, "__doc__", "reworded")
    package = Path(icl_core.__file__).resolve().parent
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).resolve().is_relative_to(package):
            raise AssertionError(f"the store key read a package file: {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)
    monkeypatch.setattr(provenance, "_tokenizer_digests", {})  # recompute everything
    assert result_key(setup_hash(base), "exp", CONFIG, code_version("patching")) == key


def test_version_bumps_invalidate_only_their_experiments(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {m: code_version(m) for m in RESULT_VERSIONS}
    monkeypatch.setitem(RESULT_VERSIONS, "tracing", RESULT_VERSIONS["tracing"] + 1)
    after = {m: code_version(m) for m in RESULT_VERSIONS}
    assert {m for m in before if before[m] != after[m]} == {"tracing"}
    monkeypatch.setattr("icl_core.versions.ENGINE_VERSION", ENGINE_VERSION + 1)
    assert not set(before.values()) & {code_version(m) for m in RESULT_VERSIONS}
