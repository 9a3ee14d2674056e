"""Token layout: the role of every token position, from the tokenizer's offsets on the whole prompt.

Roles are `bos` (leading special tokens) or `<owner>.<part>` where owner
is `demo<i>` (0-based) or `query` and part is a template part (see templates.PARTS). A token whose
characters fall in two roles raises LayoutError; nothing is guessed.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from dataclasses import dataclass

from icl_core.errors import LayoutError, UnknownNameError
from icl_core.prompts.render import Prompt


@dataclass(frozen=True)
class Span:
    """Tokens [start, end) holding one role (e.g. `demo2.output`)."""

    role: str
    start: int
    end: int

    @property
    def n(self) -> int:
        return self.end - self.start

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(range(self.start, self.end))


@dataclass(frozen=True)
class Layout:
    """A tokenized prompt with a role per position. `len(layout)` = number of tokens."""

    prompt: Prompt
    input_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    roles: tuple[str, ...]
    spans: tuple[Span, ...]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def k(self) -> int:
        return self.prompt.k

    def span(self, role: str) -> Span:
        for s in self.spans:
            if s.role == role:
                return s
        raise UnknownNameError("role", role, [s.role for s in self.spans])

    def has(self, role: str) -> bool:
        return any(s.role == role for s in self.spans)

    def _parts(self, parts: tuple[str, ...], demos: range | None = None) -> tuple[int, ...]:
        demos = range(self.k) if demos is None else demos
        wanted = {f"demo{i}.{p}" for i in demos for p in parts}
        return tuple(i for i, r in enumerate(self.roles) if r in wanted)

    def position_sets(self) -> dict[str, tuple[int, ...]]:
        """Named position sets (token indices, ascending). Sets: output_only (demo answers, no
        label), output_lines (label + answer), input_only, input_lines, all_demo (every demo
        token), last_demo (every token of the last demo), query (every query token),
        all_positions (every token, BOS included: a full-patch sanity control). Single
        positions: demo<i>_output_last, last_demo_token (last answer token of the last demo),
        last_separator (last token after the last demo, where the template has a separator),
        query_first, query_input_last, query_last (the final position)."""
        k = self.k
        every = ("input_label", "input", "line_break", "output_label", "output", "separator")
        query = tuple(i for i, r in enumerate(self.roles) if r.startswith("query."))
        sets: dict[str, tuple[int, ...]] = {
            "output_only": self._parts(("output",)),
            "output_lines": self._parts(("output_label", "output")),
            "input_only": self._parts(("input",)),
            "input_lines": self._parts(("input_label", "input")),
            "all_demo": self._parts(every),
            "last_demo": self._parts(every, range(k - 1, k)),
            "query": query,
            "all_positions": tuple(range(len(self))),
        }
        for i in range(k):
            sets[f"demo{i}_output_last"] = (self.span(f"demo{i}.output").end - 1,)
        sets["last_demo_token"] = sets[f"demo{k - 1}_output_last"]
        if self.has(f"demo{k - 1}.separator"):
            sets["last_separator"] = (self.span(f"demo{k - 1}.separator").end - 1,)
        sets["query_first"] = (query[0],)
        sets["query_input_last"] = (self.span("query.input").end - 1,)
        sets["query_last"] = (query[-1],)
        return sets

    def position_set(self, name: str) -> tuple[int, ...]:
        """A named set, or a derived one: `<set>@k<K>s<S>` = subset number S of K positions of
        <set> (drawn by index with a generator seeded by (K, S); all of them if K exceeds the
        set), `<set>@last<M>` = the positions of <set> in the last M demos."""
        base, _, spec = name.partition("@")
        sets = self.position_sets()
        if base not in sets:
            raise UnknownNameError("position set", base, sets)
        positions = sets[base]
        if not spec:
            return positions
        if m := re.fullmatch(r"k(\d+)s(\d+)", spec):
            k, s = int(m[1]), int(m[2])
            if k >= len(positions):
                return positions
            chosen = random.Random(f"subset:{k}:{s}").sample(range(len(positions)), k)
            return tuple(positions[i] for i in sorted(chosen))
        if m := re.fullmatch(r"last(\d+)", spec):
            demos = {f"demo{i}." for i in range(max(0, self.k - int(m[1])), self.k)}
            return tuple(
                p for p in positions if self.roles[p][: self.roles[p].index(".") + 1] in demos
            )
        raise UnknownNameError("position set modifier", spec, ["k<K>s<S>", "last<M>"])


def tokenize_with_offsets(tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids and character offsets of the whole text, with the tokenizer's own special
    tokens. Raises LayoutError for a tokenizer that cannot report offsets."""
    try:
        enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=True)
        if "offset_mapping" not in enc:
            raise ValueError("no offset_mapping returned")
    except (NotImplementedError, ValueError) as exc:
        raise LayoutError(
            f"tokenizer {type(tokenizer).__name__} gives no character offsets ({exc}); a fast "
            f"tokenizer is required to derive token positions"
        ) from None
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]


def build_layout(prompt: Prompt, tokenizer) -> Layout:
    """Assign every token of `prompt.text` a role (the context length is checked where the
    model runs, `context_window.check_context`)."""
    ids, offsets = tokenize_with_offsets(tokenizer, prompt.text)
    spans = prompt.spans
    starts = [s.start for s in spans]
    special = set(getattr(tokenizer, "all_special_ids", ()))
    roles: list[str] = []
    text_end = spans[-1].end
    for i, (tid, (s, e)) in enumerate(zip(ids, offsets, strict=True)):
        name = tokenizer.convert_ids_to_tokens(tid)
        if s == e and tid in special:
            if any(r != "bos" for r in roles):
                raise LayoutError(
                    f"special token {i} {name!r} inside the prompt: the prompt must end with "
                    f"the query (does the tokenizer append EOS?)"
                )
            roles.append("bos")
            continue
        if s >= text_end or e > text_end:
            raise LayoutError(
                f"token {i} {name!r} (chars {s}-{e}) lies outside the rendered prompt"
            )
        first = bisect_right(starts, s) - 1
        last = bisect_right(starts, max(s, e - 1)) - 1
        if first != last:
            a, b = spans[first], spans[last]
            raise LayoutError(
                f"token {i} {name!r} (chars {s}-{e}, {prompt.text[s:e]!r}) straddles roles "
                f"{a.role} and {b.role}: its position cannot be assigned to one role; use "
                f"another template or tokenizer"
            )
        roles.append(spans[first].role)
    return Layout(prompt, tuple(ids), tuple(offsets), tuple(roles), _group(roles, prompt))


def _group(roles: list[str], prompt: Prompt) -> tuple[Span, ...]:
    """Consecutive runs of one role -> spans; every rendered part must own >= 1 token and be
    contiguous."""
    runs: list[tuple[str, int]] = []  # (role, first token) of each run
    for i, role in enumerate(roles):
        if runs and runs[-1][0] == role:
            continue
        runs.append((role, i))
    spans = [Span(role, start, end) for (role, start), (_, end)
             in zip(runs, [*runs[1:], ("", len(roles))], strict=True)]  # fmt: skip
    seen = {s.role for s in spans}
    if len(seen) < len(spans):
        split = next(s.role for i, s in enumerate(spans) if s.role in {t.role for t in spans[:i]})
        raise LayoutError(f"role {split} is split into non-contiguous tokens")
    missing = [c.role for c in prompt.spans if c.role not in seen]
    if missing:
        raise LayoutError(f"role(s) {missing} got no token of their own (merged into neighbours)")
    return tuple(spans)
