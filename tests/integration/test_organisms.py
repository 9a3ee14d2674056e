"""Model organisms (issue 18): shipped folders match the registry, the tokenizer covers every
prompt the suite renders, training is deterministic, and the planted mechanisms are there."""

import json
import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.tokenizers import organism_tokenizer
from icl_core.errors import InvalidChoiceError, ModelLoadError
from icl_core.models import loading
from icl_core.models.acquire import shipped_dir
from icl_core.models.locate import weights_digest
from icl_core.models.registry import REGISTRY
from icl_core.organisms import FIGURES_FILE, ORGANISMS, PLANTED
from icl_core.organisms.training import train
from icl_core.organisms.training_data import PLANTED_SLOT, TrainingConfig, make_batch
from icl_core.organisms.vocabulary import build_tokenizer
from icl_core.papers.cheng2026.protocol import paper_pairs
from icl_core.prompts import build_layout, render
from icl_core.prompts.templates import TEMPLATES
from icl_core.tasks import ABLATION_TASKS, PAPER_TASKS, sample_example

ALL_TASKS = PAPER_TASKS + ABLATION_TASKS


@pytest.mark.parametrize("name", ORGANISMS)
def test_shipped_folder_matches_registry(name):
    spec = REGISTRY[name]
    assert spec.source == "organism" and spec.weights_sha256
    record = json.loads((shipped_dir(name) / FIGURES_FILE).read_text())
    assert weights_digest(shipped_dir(name)) == spec.weights_sha256
    assert record["weights_sha256"] == spec.weights_sha256
    assert record["config"] == json.loads(json.dumps(ORGANISMS[name].as_dict()))
    lm = loading.load_model(name)
    assert (lm.info.source, lm.info.n_layers, lm.info.hidden) == ("organism", spec.n_layers,
                                                                   spec.hidden)  # fmt: skip


def test_altered_organism_is_refused(monkeypatch):
    name = next(iter(ORGANISMS))
    monkeypatch.setitem(REGISTRY, name, replace(REGISTRY[name], weights_sha256="0" * 64))
    with pytest.raises(ModelLoadError, match="shipped weights .* have SHA-256"):
        loading.load_model(name)


def test_the_organisms_still_plant_the_papers_design():
    """The organisms froze the paper's design when they were trained (the core names no paper):
    the distributed organism's untransferring singles are C1's sets and the mechanism check
    patches the headline pair. A change to either design needs a rebuild."""
    from icl_core.organisms.mechanism import CHECK_PAIR
    from icl_core.organisms.training_data import UNPLANTED_SINGLES
    from icl_core.papers.cheng2026.design import HEADLINE, SINGLE_SETS

    assert UNPLANTED_SINGLES == SINGLE_SETS
    assert CHECK_PAIR == HEADLINE


def test_shipped_tokenizer_is_the_built_one():
    assert organism_tokenizer().get_vocab() == build_tokenizer(paper_pairs()).get_vocab()


@given(task=st.sampled_from(ALL_TASKS), seed=st.integers(0, 10_000), k=st.integers(1, 10),
       template=st.sampled_from(sorted(TEMPLATES)))  # fmt: skip
def test_tokenizer_covers_every_prompt(task, seed, k, template):
    """No suite prompt has an unknown piece, and decoding gives the text back exactly."""
    tok = organism_tokenizer()
    example = sample_example(task, k=k, seed=seed)
    layout = build_layout(render(example, template), tok)
    assert tok.unk_token_id not in layout.input_ids
    assert tok.decode(layout.input_ids, skip_special_tokens=True) == layout.prompt.text
    answer = tok(" " + example.answer + "\n", add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in answer


def test_training_batch_rows():
    """Labels sit on answers only; the localized penalty forbids, for every row after the slot,
    every column before it (BOS included) at every layer and the slot itself before
    `query_layer`, and for the slot the demos (not BOS) from `read_layer` on; nothing else."""
    tok = organism_tokenizer()
    cfg = TrainingConfig("localized", attention_penalty=1.0, batch=8, read_layer=3, query_layer=5)
    b = make_batch(tok, cfg, random.Random(0))
    q, early, late = cfg.query_layer, slice(0, cfg.read_layer), slice(cfg.read_layer, None)
    for r in range(8):
        n = int(b.mask[r].sum())
        rows = b.forbidden[r, 0].sum(-1).nonzero().flatten().tolist()
        slot = rows[0] - 1
        assert tok.convert_ids_to_tokens(int(b.ids[r, slot])) == "Ċ"
        assert rows == list(range(slot + 1, n))
        f = b.forbidden[r]
        assert f[:, slot + 1 : n, :slot].all() and f[:q, slot + 1 : n, slot].all()
        assert f[late, slot, 1:slot].all() and not f[early, slot].any() and not f[:, slot, 0].any()
        queries, layers = n - slot - 1, cfg.layers
        assert f.sum() == layers * queries * slot + q * queries + (layers - 3) * (slot - 1)
        labelled = (b.labels[r] != -100).nonzero().flatten().tolist()
        assert labelled[-1] == n - 1 and all(p > 0 for p in labelled)
        assert b.labels[r, n - 1] == tok.convert_tokens_to_ids("Ċ")


def test_localized_layers_are_checked():
    tok = organism_tokenizer()
    cfg = TrainingConfig("localized", read_layer=4, query_layer=2, layers=8)
    with pytest.raises(InvalidChoiceError, match="read_layer <= query_layer"):
        train(cfg, tok, progress=lambda _: None)


def test_training_is_deterministic():
    tok = organism_tokenizer()
    cfg = TrainingConfig("distributed", attention_penalty=1.0, read_layer=1,
                         interchange_share=0.5, shared_steps=2, steps=4, batch=4, hidden=16,
                         layers=2, heads=2, intermediate=32)  # fmt: skip
    a, fa = train(cfg, tok, progress=lambda _: None)
    b, fb = train(cfg, tok, progress=lambda _: None)
    assert fa["distributed"]["final_loss"] == fb["distributed"]["final_loss"]
    for (na, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert (pa == pb).all(), na


@pytest.mark.parametrize("name", ORGANISMS)
def test_recorded_mechanism_checks(name):
    """The checks recorded at build time show the planted mechanism: competent on every trained
    task; the localized organism's query reads (almost) nothing but the slot, and mean-ablating
    the slot breaks it, while the distributed one reads the demos and survives the ablation."""
    checks = json.loads((shipped_dir(name) / FIGURES_FILE).read_text())["checks"]
    assert min(c["k5"] for c in checks["competence"].values()) >= 0.9
    ablation = checks["slot_ablation"]
    if ORGANISMS[name].mechanism == "localized":
        assert checks["attention_to_demos"] <= 0.02
        assert ablation["ablated"] <= 0.5 <= ablation["clean"] - 0.4
        best = max(r["rate"] or 0 for r in checks["patch_transfer"][PLANTED_SLOT])
        assert best >= 0.5
    else:
        assert checks["attention_to_demos"] >= 0.2
        assert ablation["ablated"] >= ablation["clean"] - 0.05


@pytest.mark.slow
@pytest.mark.parametrize("name", ORGANISMS)
def test_planted_verdicts(name):
    """The controls tier: each organism's claim verdicts are the planted ones (ci profile)."""
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.papers.cheng2026.suite import ModelSuite

    suite = ModelSuite(loading.load_model(name), get_profile("ci"), "rigorous", None)
    for claim, status in PLANTED[name].items():
        verdict = suite.verdict(claim)
        assert verdict.status == status, (claim, verdict.figure)
