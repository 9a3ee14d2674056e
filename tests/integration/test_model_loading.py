"""Model loading, resolution and bad input (no downloads: tiny models saved to tmp folders)."""

import shutil

import pytest
import torch

from icl_core.errors import (
    HashMismatchError,
    InvalidChoiceError,
    ModelLoadError,
    UnknownNameError,
)
from icl_core.models import acquire
from icl_core.models.loading import load_model, resolve_device, resolve_dtype
from icl_core.models.registry import DEFAULT_MODELS, REGISTRY, ZOO, get_spec
from icl_core.models.tiny import tiny_model


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory):
    tm = tiny_model("llama")
    folder = tmp_path_factory.mktemp("tiny-llama")
    tm.model.save_pretrained(folder, safe_serialization=True)
    tm.tokenizer.save_pretrained(folder)
    return folder, tm


def test_registry_has_default_zoo_and_paper_models():
    assert DEFAULT_MODELS == ("smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b")
    assert {s.family for s in ZOO if s.default} == {"llama", "gemma", "qwen"}
    for hf_id in ("meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.2-1B-Instruct",
                  "Qwen/Qwen2.5-1.5B-Instruct", "google/gemma-2-2b-it"):  # fmt: skip
        assert REGISTRY[hf_id].source == "hf"


def test_unknown_model_lists_valid_names():
    with pytest.raises(UnknownNameError) as err:
        load_model("smollm-135m")
    assert "smollm2-135m" in str(err.value) and "gemma3-270m" in str(err.value)
    with pytest.raises(UnknownNameError, match="qwen2.5-coder-0.5b"):
        get_spec("qwen")


def test_local_folder_loads_and_reports(saved_tiny):
    folder, tm = saved_tiny
    lm = load_model(str(folder), device="cpu", dtype="float32")
    info = lm.info
    assert (info.source, info.family, info.n_layers, info.hidden) == ("local-dir", "llama", 4, 32)
    assert info.dtype == "float32" and info.device == "cpu" and len(info.weights_sha256) == 64
    assert load_model(str(folder)).info.weights_sha256 == info.weights_sha256
    ids = tm.tokenizer("Input: apple", return_tensors="pt").input_ids
    assert torch.allclose(lm.model(ids).logits, tm.model(ids).logits, atol=1e-6)


def test_model_family_without_loading_weights(saved_tiny):
    """C4 tests are parametrized by family at collection: the family must match load_model's."""
    from icl_core.models.loading import model_family

    folder, _ = saved_tiny
    assert model_family("gemma3-270m") == "gemma"
    assert model_family(str(folder)) == load_model(str(folder), device="cpu").info.family == "llama"
    with pytest.raises(ModelLoadError, match="local Hugging Face cache"):
        model_family("nobody/not-cached-anywhere")


def test_folder_without_weights(tmp_path, saved_tiny):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="no weights"):
        load_model(str(tmp_path))
    pickled = tmp_path / "pickled"
    shutil.copytree(saved_tiny[0], pickled)
    for f in pickled.glob("*.safetensors"):
        f.rename(f.with_name("pytorch_model.bin"))
    with pytest.raises(ModelLoadError, match="pickle"):
        load_model(str(pickled))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="config.json"):
        load_model(str(empty))


def test_missing_gguf_and_uncached_hf_id(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(str(tmp_path / "nothing.gguf"))
    with pytest.raises(ModelLoadError, match="local Hugging Face cache"):
        load_model("someone/not-a-cached-model")


def test_bad_device_and_dtype():
    with pytest.raises(InvalidChoiceError, match="valid devices"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidChoiceError, match="CUDA is not available"):
            resolve_device("cuda")
    with pytest.raises(InvalidChoiceError, match="bfloat16"):
        resolve_dtype("float8")
    assert resolve_dtype("auto") is None  # settled per model and device by load_model


def test_auto_dtype_needs_a_qualifying_study_on_these_weights(monkeypatch):
    from icl_core.models import dtype_policy as P

    cpu = torch.device("cpu")
    study = P.BF16Study("abc", 8, 97, 100, 2.0, True, "test")
    monkeypatch.setattr(P, "BF16_STUDIES", {"m": study})
    monkeypatch.setattr(P, "bf16_is_fast", lambda device: True)
    assert P.auto_dtype("m", "abc", cpu) == torch.bfloat16
    assert P.auto_dtype("m", "other weights", cpu) == torch.float32
    assert P.auto_dtype("unstudied", "abc", cpu) == torch.float32
    for worse in (P.BF16Study("abc", 8, 96, 100, 2.0, True, "test"),
                  P.BF16Study("abc", 8, 99, 100, 0.9, True, "test"),
                  P.BF16Study("abc", 8, 99, 100, 2.0, False, "test")):  # fmt: skip
        monkeypatch.setattr(P, "BF16_STUDIES", {"m": worse})
        assert P.auto_dtype("m", "abc", cpu) == torch.float32
    monkeypatch.setattr(P, "BF16_STUDIES", {"m": study})
    monkeypatch.setattr(P, "bf16_is_fast", lambda device: False)
    assert P.auto_dtype("m", "abc", cpu) == torch.float32


def test_verify_sha256_detects_one_flipped_byte(tmp_path):
    f = tmp_path / "w.gguf"
    f.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    good = acquire.sha256_file(f)
    assert acquire.verify_sha256(f, good) == good
    data = bytearray(f.read_bytes())
    data[100] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError, match="SHA-256 mismatch"):
        acquire.verify_sha256(f, good)
