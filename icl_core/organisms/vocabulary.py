"""The organisms' word-level tokenizer: one token per pre-tokenized piece of any prompt the suite
can render (every task's inputs and answers under every template, and the paper's task data).

Pieces come from the byte-level pre-tokenizer of GPT-2 (" apple", "Input", ":", "\\n"), so
character offsets are exact and decoding is lossless. A string outside that corpus maps to
`<unk>`, which no organism is trained to emit. Deterministic: the vocabulary is sorted.
"""

from __future__ import annotations

from collections.abc import Iterator

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")


def _corpus() -> Iterator[str]:
    """Every demo line of every task under every template, and the paper's task data."""
    from icl_core.papers.cheng2026.protocol import paper_task, paper_task_names
    from icl_core.prompts.render import render
    from icl_core.prompts.templates import TEMPLATES
    from icl_core.tasks import ICLExample, get_task, task_names

    for name in task_names():
        task = get_task(name)
        for x in task.demo_pool + task.query_pool:
            example = ICLExample(name, ((x, task.answer(x)),), x, task.answer(x))
            for template in TEMPLATES:
                yield render(example, template).text
    for name in paper_task_names():
        task = paper_task(name)
        pairs = list(task.demos) + list(task.answers.items())
        for options in (task.acceptable_answers or {}).values():
            pairs += [("", y) for y in options]
        for x, y in pairs:
            example = ICLExample(name, ((x, y),), x, y)
            for template in TEMPLATES:
                yield render(example, template).text


def build_tokenizer():
    """The fast tokenizer (BOS prepended, offsets supported) over the corpus's pieces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.ByteLevel(add_prefix_space=False)
    pieces = {p for text in _corpus() for p, _ in pre.pre_tokenize_str(text)}
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
