"""The organisms' word-level tokenizer: one token per pre-tokenized piece of any prompt the suite
can render (every task's inputs and answers under every template, and the extra pairs its
builder passes: the paper protocol's task data).

Pieces come from the byte-level pre-tokenizer of GPT-2 (" apple", "Input", ":", "\\n"), so
character offsets are exact and decoding is lossless. A string outside that corpus maps to
`<unk>`, which no organism is trained to emit. Deterministic: the vocabulary is sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")


def _corpus(extra: Iterable[tuple[str, str]]) -> Iterator[str]:
    """Every demo line of every task, and each (input, output) pair of `extra`, under every
    template."""
    from icl_core.prompts.render import render
    from icl_core.prompts.templates import TEMPLATES
    from icl_core.tasks import ICLExample, get_task, task_names

    pairs = [(name, x, get_task(name).answer(x)) for name in task_names()
             for x in get_task(name).demo_pool + get_task(name).query_pool]  # fmt: skip
    pairs += [("extra", x, y) for x, y in extra]
    for name, x, y in pairs:
        example = ICLExample(name, ((x, y),), x, y)
        for template in TEMPLATES:
            yield render(example, template).text


def build_tokenizer(extra: Iterable[tuple[str, str]] = ()):
    """The fast tokenizer (BOS prepended, offsets supported) over the corpus's pieces; `extra`:
    (input, output) pairs beyond the registry's tasks that it must cover (the shipped organisms
    cover the paper protocol's task data: `cheng2026.protocol.data.paper_pairs`)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.ByteLevel(add_prefix_space=False)
    pieces = {p for text in _corpus(extra) for p, _ in pre.pre_tokenize_str(text)}
    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS + tuple(sorted(pieces)))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", vocab["<bos>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
        unk_token="<unk>",
    )  # fmt: skip
