"""GGUF -> safetensors folder conversion (transformers refuses save_pretrained on GGUF models)."""

from __future__ import annotations

from pathlib import Path

import transformers


def gguf_to_folder(gguf_path: Path, out_dir: Path) -> dict:
    """Load `gguf_path` (dequantized to fp32), rebuild it without its quantization config and
    save model + tokenizer to `out_dir`. Returns facts about the result for the metadata file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = {"gguf_file": gguf_path.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kw)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype="float32", **kw)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype="float32")
    model.load_state_dict(gguf_model.state_dict(), strict=True)
    del gguf_model
    model.eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return {
        "architecture": type(model).__name__,
        "model_type": config.model_type,
        "n_layers": config.num_hidden_layers,
        "hidden": config.hidden_size,
        "transformers_version": transformers.__version__,
    }
