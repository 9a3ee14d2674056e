"""Tiny random-init models of each supported architecture, for fast unit tests (no downloads).

Sizes follow transformers' own model testers: a few layers, hidden 32. The tokenizer is a small
byte-level BPE trained in-process (milliseconds) on prompt-like text, so merges such as "\\n\\n"
and leading-space words occur as in real tokenizers. Two variants: with a prepended BOS (like
Llama/Gemma) and without BOS but with "\n\n" merged into one token (like Qwen).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

TINY_ARCHS = ("llama", "qwen2", "gemma2", "gemma3")
TINY_LAYERS = 4
_SIZE = dict(hidden_size=32, num_hidden_layers=TINY_LAYERS, num_attention_heads=4)
_GQA = dict(_SIZE, intermediate_size=64, num_key_value_heads=2)
_GPT = dict(n_embd=32, n_layer=TINY_LAYERS, n_head=4, n_positions=512)
# The rest of `architectures.ARCHITECTURES` (by model_type), for the engine's properties.
_OTHER_ARCHS = {
    "mistral": dict(_GQA, sliding_window=None), "qwen3": dict(_GQA, head_dim=8),
    "gemma": dict(_GQA, head_dim=8), "phi": dict(_SIZE, intermediate_size=64),
    "phi3": _GQA, "olmo": dict(_SIZE, intermediate_size=64),
    "olmo2": dict(_SIZE, intermediate_size=64), "stablelm": _GQA, "gpt2": _GPT,
    "gptj": dict(_GPT, rotary_dim=4), "gpt_neox": dict(_SIZE, intermediate_size=64),
    "falcon": dict(_SIZE, new_decoder_architecture=False),
    "bloom": dict(hidden_size=32, n_layer=TINY_LAYERS, n_head=4),
}  # fmt: skip
ALL_TINY_ARCHS = TINY_ARCHS + tuple(_OTHER_ARCHS)
_CORPUS_WORDS = (
    "apple brain cloud delta flame honey frost badge stone lemon river tower "
    "knife ocean happy sad good bad hot cold big small fast slow "
    "light dark positive negative cat dog house table water green yellow orange "
    "purple silver golden window garden"
).split()


def _corpus() -> list[str]:
    lines = []
    for i, w in enumerate(_CORPUS_WORDS):
        out = [w.upper(), w[0], f"{w} {w}", str(len(w)), w[::-1], " ".join(w)][i % 6]
        lines.append(f"Input: {w}\nOutput: {out}\n\n")
        lines.append(f"Q: {w}\nA: {out}\n\n{w} -> {out}\n")
    lines.append(" ".join(str(n) for n in range(200)))
    lines.append("A B A B A x y x y x 1 2 1 2 1 , . ! ? + - : ;")
    return lines


@functools.cache
def tiny_tokenizer(add_bos: bool = True):
    """A fast tokenizer (offsets supported), BOS prepended iff `add_bos`. Vocabulary ~ 400."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    if add_bos:
        tok.pre_tokenizer = byte_level
    else:  # keep newline runs whole so "\n\n" can merge into one token, as in Qwen's tokenizer
        newlines = pre_tokenizers.Split(Regex(r"\n+"), behavior="isolated")
        tok.pre_tokenizer = pre_tokenizers.Sequence([newlines, byte_level])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<bos>", "<eos>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    if add_bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", 1)]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>"
    )


def tiny_config(arch: str, vocab_size: int):
    """A transformers config of `arch` at tester size (see SPEC 4.3 for the Gemma pitfalls)."""
    from transformers import Gemma2Config, Gemma3TextConfig, LlamaConfig, Qwen2Config

    from icl_core.errors import UnknownNameError

    common = dict(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
        num_hidden_layers=TINY_LAYERS, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    gemma = dict(head_dim=8, query_pre_attn_scalar=8, sliding_window=16,
                 attn_implementation="eager")  # fmt: skip
    configs = {
        "llama": lambda: LlamaConfig(**common),
        "qwen2": lambda: Qwen2Config(**common),
        "gemma2": lambda: Gemma2Config(**common, **gemma),
        "gemma3": lambda: Gemma3TextConfig(**common, **gemma),
    }
    if arch in _OTHER_ARCHS:
        from transformers import AutoConfig

        ids = {k: common[k] for k in ("vocab_size", "pad_token_id", "bos_token_id", "eos_token_id")}
        return AutoConfig.for_model(arch, **ids, **_OTHER_ARCHS[arch])
    if arch not in configs:
        raise UnknownNameError("tiny architecture", arch, [*configs, *_OTHER_ARCHS])
    return configs[arch]()


@dataclass
class TinyModel:
    """A tiny model, its tokenizer and its architecture name."""

    arch: str
    model: torch.nn.Module
    tokenizer: object

    @property
    def n_layers(self) -> int:
        return self.model.config.num_hidden_layers

    @property
    def hidden(self) -> int:
        return self.model.config.hidden_size

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def tiny_model(arch: str, seed: int = 0, device: str | torch.device = "cpu") -> TinyModel:
    """Build a random-init tiny causal LM of `arch` in eval mode, fp32 on `device` (weights
    initialised on CPU, so identical per seed on every device)."""
    from transformers import AutoModelForCausalLM

    tokenizer = tiny_tokenizer(add_bos=arch != "qwen2")
    config = tiny_config(arch, vocab_size=len(tokenizer))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    return TinyModel(arch=arch, model=model.to(device).eval(), tokenizer=tokenizer)
