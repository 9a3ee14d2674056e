"""Experiments on a tiny random model: records are complete, exclusions are counted by reason,
results are stored once and read back, derived position sets are well formed."""

import itertools

import pytest

from fixtures.models import tiny_loaded
from icl_core.decisions import HOLDS, INCONCLUSIVE, Decision
from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.experiments.patching import PatchingConfig, run_pair, run_patching
from icl_core.experiments.rounds import counted_trials, trial_counts
from icl_core.experiments.tracing import TracingConfig, layer_noise_scale, run_task
from icl_core.models.tiny import tiny_tokenizer
from icl_core.papers.cheng2026 import design
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.headline import headline_figures
from icl_core.prompts import build_layout, render
from icl_core.records import aggregate
from icl_core.store import ResultsStore
from icl_core.tasks import PAPER_TASKS, sample_example


@pytest.fixture(scope="module")
def tiny_lm():
    return tiny_loaded("qwen2")


def test_patching_records_count_every_exclusion(tiny_lm):
    cfg = PatchingConfig("multi_sweep", (("uppercase", "repeat_word"),), ("all_demo", "query_last"),
                         n_trials=3)  # fmt: skip
    records = run_pair(tiny_lm, cfg, "uppercase", "repeat_word")
    assert len(records) == 3 * 2 * tiny_lm.info.n_layers
    # random weights never answer: every trial is excluded, by a named reason
    assert {r.excluded for r in records} == {"clean_target_wrong"}
    cells = aggregate(records, source_clean_only=True)
    assert all(c.n == 0 and c.excluded == {"clean_target_wrong": 3} for c in cells)


def test_patching_is_stored_once(tiny_lm, tmp_path):
    store = ResultsStore(tmp_path)
    cfg = PatchingConfig("multi_sweep", (("uppercase", "first_letter"),), ("all_demo",),
                         layers=(0, 1), n_trials=2)  # fmt: skip
    first = run_patching(tiny_lm, cfg, store)
    again = run_patching(tiny_lm, cfg, store)
    assert first == again and store.stats.hits == 1 and store.stats.misses == 1


def test_bad_config_is_refused():
    with pytest.raises(UnknownNameError, match="uppercase"):
        PatchingConfig("x", (("upper", "repeat_word"),), ("all_demo",))
    with pytest.raises(InvalidChoiceError, match="shuffled"):
        PatchingConfig("x", (("uppercase", "repeat_word"),), ("all_demo",), control="swap")


def test_tracing_records_and_noise_scale(tiny_lm):
    scale = layer_noise_scale(tiny_lm, n_prompts=100)
    assert len(scale) == tiny_lm.info.n_layers and all(s > 0 for s in scale)
    with pytest.raises(InvalidChoiceError, match=">= 100 prompts"):
        layer_noise_scale(tiny_lm, n_prompts=10)
    cfg = TracingConfig(("uppercase",), ("query_input_last",), layers=(0, 1), n_trials=2)
    records = run_task(tiny_lm, cfg, "uppercase", scale)
    assert len(records) == 2 * 2 and {r.excluded for r in records} == {"clean_target_wrong"}
    assert all(r.condition == "sigma=3std" for r in records)


def test_derived_position_sets():
    layout = build_layout(render(sample_example("uppercase", seed=1)), tiny_tokenizer(True))
    lines = layout.position_set("output_lines")
    sub = layout.position_set("output_lines@k3s1")
    assert len(sub) == 3 and set(sub) <= set(lines)
    assert sub == layout.position_set("output_lines@k3s1")  # deterministic
    assert layout.position_set("output_lines@k999s0") == lines
    last2 = layout.position_set("output_lines@last2")
    assert {layout.roles[p].split(".")[0] for p in last2} == {"demo3", "demo4"}
    with pytest.raises(UnknownNameError, match="k<K>s<S>"):
        layout.position_set("output_lines@first2")


@pytest.mark.slow
def test_suite_paper_protocol_uses_the_released_protocol(tiny_lm, monkeypatch):
    """Under protocol "paper" the suite runs the paper's patching (fixed demos, its positions)
    and counts every trial; claims not yet measured that way say so (inconclusive)."""
    from dataclasses import replace

    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.papers.cheng2026.protocol import patching as P
    from icl_core.papers.cheng2026.protocol.ingredients import paper_layer_grid
    from icl_core.papers.cheng2026.suite import ModelSuite
    from icl_core.records import Verdict

    seen = []
    real = P.run_paper_patching
    monkeypatch.setattr(P, "run_paper_patching", lambda lm, cfg, *a: seen.append(cfg)
                        or real(lm, replace(cfg, max_new_tokens=2), *a))  # fmt: skip
    profile = replace(get_profile("ci"), n_multi=2, n_controls=1)
    suite = ModelSuite(tiny_lm, profile, "paper")
    records = suite.multi
    grid = tuple(paper_layer_grid(suite.n_layers))
    assert seen[0].position_sets == P.PAPER_SET_NAMES and seen[0].demos == "fixed"
    assert seen[0].layers is None  # every layer computed (shared with paper+layers=all) ...
    assert {r.layer for r in records} == set(grid) == set(suite.sweep_layers)  # ... grid read
    assert {r.protocol for r in records} == {"paper"}
    assert all(c.n == 2 for c in suite.multi_cells)  # no source-competence filter
    assert suite.best_layer in grid
    assert suite.verdict("C8").figure.startswith("not measured under the paper protocol")
    tracing = suite.tracing  # the paper's noise at its positions, grid layers read
    assert {r.position_set for r in tracing} == {"query_first", "last_demo_token"}
    assert {r.layer for r in tracing} == set(grid) and {r.protocol for r in tracing} == {"paper"}
    assert suite.verdict("C5").status == "inconclusive"  # a random model: all clean-wrong
    figures = {f["claim"]: f for f in headline_figures(suite)}
    assert {"C1", "C2", "C9"} <= set(figures) and "C8" not in figures
    assert all(f["protocol"] == "paper" and f["n"] for f in figures.values())
    c3 = Verdict("C3", "m", "paper", "holds", "", "", {"best_layer": grid[0], "k": 2, "n": 2,
                 "depth": grid[0] / suite.n_layers, "ci_layers": [grid[0], grid[0]]})  # fmt: skip
    monkeypatch.setattr(suite, "verdict", lambda claim: c3)
    (row,) = [f for f in headline_figures(suite) if f["claim"] == "C3"]
    assert row["layer"] == grid[0] and row["protocol"] == "paper"
    controls = suite.controls
    assert {r.condition for r in controls} == {f"control={c}" for c in design.CONTROLS}
    assert {r.layer for r in controls} == {suite.best_layer}
    assert suite.verdict("C9").status in ("holds", "refuted", "inconclusive")

    every = ModelSuite(tiny_lm, profile, "paper+layers=all")
    n_cfg = len(seen)
    assert every.sweep_layers == tuple(range(suite.n_layers))
    assert {r.layer for r in every.multi} == set(range(suite.n_layers))
    assert seen[n_cfg].layers is None and seen[n_cfg].protocol == "paper"  # the same run
    assert {r.protocol for r in every.multi} == {"paper+layers=all"}  # named as measured

    sampled = ModelSuite(tiny_lm, profile, "paper+demos=sampled")
    assert {r.protocol for r in sampled.multi} == {"paper+demos=sampled"}
    assert seen[-1].layers == grid and seen[-1].demos == "sampled"  # ablations sweep the grid
    assert sampled.probe_protocol == "rigorous" and suite.probe_protocol == "paper"
    assert sampled.verdict("C10").figure.startswith(
        "not measured under the paper+demos=sampled protocol: the pair matrix is measured"
    )

    noised = ModelSuite(tiny_lm, profile, "paper+noise=sigma3")
    n_cfg = len(seen)
    assert {r.protocol for r in noised.multi} == {"paper+noise=sigma3"}
    assert seen[n_cfg].layers is None and seen[n_cfg].protocol == "paper"  # the paper's run
    scale = layer_noise_scale(tiny_lm)
    assert noised.noise_scale == pytest.approx(scale)
    assert {(r.layer, r.condition) for r in noised.tracing} == {
        (layer, f"sigma={3 * scale[layer]:g}") for layer in grid
    }


def test_rigorous_sweep_runs_in_rounds_on_undecided_conditions(tiny_lm, monkeypatch):
    """Round 1 runs every condition; later rounds (fresh seeds, round_size trials) run only the
    conditions some rule still needs, until every rule reading them decides or the cap."""
    from dataclasses import replace

    from icl_core.papers.cheng2026 import runner
    from icl_core.papers.cheng2026 import suite as S
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.records import TrialRecord

    calls = []

    def fake_run(lm, cfg, store=None, progress=None):
        calls.append(cfg)
        conds = cfg.conditions or [(ps, L) for ps in cfg.position_sets
                                   for L in (cfg.layers or range(lm.info.n_layers))]  # fmt: skip
        # uppercase->repeat_word: all_demo always transfers, nothing else does;
        # uppercase->length never transfers
        return [TrialRecord("m", "f", lm.info.n_layers, "rigorous", cfg.experiment, s, t,
                            hash((cfg.seed, i)), L, ps,
                            "transfer" if t == "repeat_word" and ps == "all_demo"
                            else "preserve", None, "", True)
                for s, t in cfg.pairs for i in range(cfg.n_trials)
                for ps, L in conds]  # fmt: skip

    monkeypatch.setattr(runner, "run_patching", fake_run)
    good, bad = ("uppercase", "repeat_word"), ("uppercase", "length")
    profile = replace(get_profile("ci"), sweep_pairs=(good, bad), n_multi=10, round_size=10,
                      cap_multi=120)  # fmt: skip
    suite = S.ModelSuite(tiny_lm, profile)
    records = suite.multi
    firsts = [c for c in calls if c.conditions is None]  # each pair runs its own rounds
    assert [c.pairs for c in firsts] == [(good,), (bad,)]
    assert all(c.n_trials == 10 and c.seed == profile.seed for c in firsts)
    later = [c for c in calls if c.conditions is not None]
    assert later and all(c.n_trials == 10 and len(c.pairs) == 1 for c in later)
    assert len({c.seed for c in later if c.pairs == (bad,)}) == len(
        [c for c in later if c.pairs == (bad,)])  # one fresh seed per round  # fmt: skip
    assert all(set(c.conditions) <= {(ps, L) for ps in design.MULTI_SETS
                                     for L in range(tiny_lm.info.n_layers)}
               for c in later)  # fmt: skip
    assert all(ps in ("all_demo", "input_only") for c in later for ps, _ in c.conditions)
    # uppercase->length stops once every layer is shown <= 10% (50 trials, the first round
    # past the 42 at 0 transfers that e >= 1/alpha needs): C3 and C3-peak can then never
    # decide, so more trials would be wasted
    assert counted_trials(records, bad) == 50
    assert counted_trials(records, good) < 120  # decided before the cap
    for claim in ("C2", "C3", "C3-peak"):
        assert suite.verdict(claim, good).status != "inconclusive", claim
    assert suite.verdict("C2", bad).status == "refuted"
    v = suite.verdict("C3", bad)
    assert v.status == "inconclusive" and v.details["drawn"] == 50


def test_trial_counts_count_noise_trials_that_have_no_source_prompt():
    from icl_core.records import TrialRecord

    base = dict(model="m", family="f", n_layers=2, protocol="rigorous", experiment="x",
                target_task="uppercase", layer=0, position_set="all_demo")  # fmt: skip
    records = [
        TrialRecord(**base, source_task="noise", seed=1, outcome="preserve"),  # tracing
        TrialRecord(**base, source_task="noise", seed=2, outcome=None, excluded="too_long"),
        TrialRecord(**base, source_task="a", seed=3, outcome="transfer", source_clean_correct=True),
        TrialRecord(
            **base, source_task="a", seed=4, outcome="preserve", source_clean_correct=False
        ),  # fmt: skip
    ]
    assert trial_counts(records) == {"drawn": 4, "counted": 2}


def test_a_model_that_answers_nothing_is_flagged_up_front(tiny_lm, tmp_path, monkeypatch):
    from dataclasses import replace

    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.papers.cheng2026.suite import ModelSuite

    suite = ModelSuite(tiny_lm, replace(get_profile("ci"), n_competence=2), "rigorous",
                       ResultsStore(tmp_path))  # fmt: skip
    warning = suite.incompetence_warning()  # a random model answers nothing
    assert warning and "patching claims cannot be measured" in warning
    rows = [dict(r, k=1) if i == 0 else r for i, r in enumerate(suite.competence)]
    monkeypatch.setattr(suite, "competence", rows)
    assert suite.incompetence_warning() is None


def test_matrix_draws_qualified_pairs_until_enough_count(tiny_lm, monkeypatch):
    """Every qualified pair reaches V.MIN_MATRIX_TRIALS counted trials despite exclusions (a
    third of trials excluded here), within the profile's max_matrix_draws, the qualified tasks
    of a draw group drawn together; unqualified pairs keep their first n_matrix trials. The
    stopping looks at validity only, never outcomes."""
    from dataclasses import replace

    from icl_core.papers.cheng2026 import runner
    from icl_core.papers.cheng2026 import suite as S
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.records import TrialRecord

    def fake_run(lm, cfg, store=None, progress=None):
        assert cfg.shared_draws
        return [TrialRecord("m", "f", lm.info.n_layers, "rigorous", cfg.experiment, s, t,
                            hash((cfg.seed, i)), L, "all_demo",
                            None if i % 3 == 0 else "preserve",
                            "clean_target_wrong" if i % 3 == 0 else None, "", True)
                for s, t in cfg.pairs for i in range(cfg.n_trials) for L in cfg.layers]  # fmt: skip

    monkeypatch.setattr(runner, "run_patching", fake_run)
    tasks = ("uppercase", "repeat_word", "first_letter", "sentiment")
    profile = replace(get_profile("full"), matrix_tasks=tasks, c7_variants=())
    suite = S.ModelSuite(tiny_lm, profile)
    suite.__dict__["best_layer"] = 0
    suite.__dict__["competence"] = [
        {"task": t, "accuracy": 0.5 if t in ("first_letter", "sentiment") else 1.0} for t in tasks
    ]
    records = suite.matrix

    def drawn(pair):
        return sum(r.source_task == pair[0] and r.target_task == pair[1] for r in records)

    for pair in itertools.permutations(tasks, 2):
        if "sentiment" in pair or "first_letter" in pair:
            assert drawn(pair) == profile.n_matrix
        else:
            assert counted_trials(records, pair) >= V.MIN_MATRIX_TRIALS
            assert drawn(pair) <= profile.max_matrix_draws
    capped = S.ModelSuite(tiny_lm, replace(profile, max_matrix_draws=V.MIN_MATRIX_TRIALS))
    capped.__dict__.update(best_layer=0, competence=suite.competence)
    pair = ("uppercase", "repeat_word")
    assert counted_trials(capped.matrix, pair) < V.MIN_MATRIX_TRIALS  # the cap binds


def test_c7_matrix_adds_the_variants_and_c10_reads_the_paper_pairs_only(tiny_lm):
    """Under the rigorous protocol the `full` matrix spans the paper's tasks and the variants
    (C7's power), the paper protocol's the paper's tasks only; C10 tests only the pairs of the
    paper's tasks, however the variants' pairs transfer."""
    from icl_core.papers.cheng2026 import suite as S
    from icl_core.papers.cheng2026.claims import get_claim
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.records import TrialRecord
    from icl_core.tasks import ABLATION_TASKS, PAPER_TASKS

    full = get_profile("full")
    assert S.ModelSuite(tiny_lm, full).matrix_tasks == PAPER_TASKS + ABLATION_TASKS
    assert S.ModelSuite(tiny_lm, full, "paper").matrix_tasks == PAPER_TASKS
    assert len(PAPER_TASKS + ABLATION_TASKS) >= 16  # SPEC 7: about 16 tasks for C7

    suite = S.ModelSuite(tiny_lm, full)
    qualified = ("uppercase", "repeat_word", "uppercase_period", "repeat_comma")
    suite.__dict__["competence"] = [
        {"task": t, "accuracy": 1.0 if t in qualified else 0.0} for t in suite.matrix_tasks
    ]

    def trial(s, t, i, outcome):
        return TrialRecord("m", "f", tiny_lm.info.n_layers, "rigorous", "matrix", s, t, i, 0,
                           "all_demo", outcome, None, "", True)  # fmt: skip

    suite.__dict__["matrix"] = [
        trial(s, t, i, "transfer" if s in ABLATION_TASKS or t in ABLATION_TASKS else "preserve")
        for s, t in itertools.permutations(qualified, 2) for i in range(20)
    ]  # fmt: skip
    verdict, _ = get_claim("C10").decide(suite, None)
    assert verdict.details["n_pairs"] == 2, verdict.figure  # uppercase <-> repeat_word
    assert verdict.status == "holds", verdict.figure


def test_c10_rounds_draw_only_its_undecided_pairs_and_c7_reads_the_fixed_matrix(
    tiny_lm, monkeypatch
):
    """After the fixed-N matrix, C10's rounds draw further trials, at the best layer and with
    fresh seeds, of the C10 pairs shown neither way while C10 is undecided; pairs already shown
    draw nothing; C7 reads the matrix without the rounds."""
    from icl_core.papers.cheng2026 import runner
    from icl_core.papers.cheng2026 import suite as S
    from icl_core.papers.cheng2026 import verdicts as V
    from icl_core.papers.cheng2026.claims import get_claim
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.records import TrialRecord

    suite = S.ModelSuite(tiny_lm, get_profile("full"))
    tasks = ("uppercase", "repeat_word", "antonym")  # 6 ordered pairs of the paper's tasks
    suite.__dict__["competence"] = [
        {"task": t, "accuracy": 1.0 if t in tasks else 0.0} for t in suite.matrix_tasks
    ]
    suite.__dict__["best_layer"] = 1
    suite.__dict__["similarity"] = []
    pairs = list(itertools.permutations(tasks, 2))
    rate = dict(zip(pairs, (0.0, 0.0, 0.2, 0.2, 0.9, 0.9), strict=True))

    def trial(pair, seed, i):
        outcome = "transfer" if i % 10 < 10 * rate[pair] else "preserve"
        return TrialRecord("m", "f", tiny_lm.info.n_layers, "rigorous", "matrix", *pair, seed,
                           1, "all_demo", outcome, None, "", True)  # fmt: skip

    suite.__dict__["matrix"] = [trial(p, i, i) for p in pairs for i in range(15)]
    fixed = V.c10(suite.cells(suite.matrix), "m", "rigorous", suite.c10_pairs)
    assert fixed.status == "inconclusive", fixed.figure  # 2 of 6 shown below at n = 15
    calls = []

    def fake_run_patching(lm, cfg, store=None, progress=None):
        calls.append(cfg)
        return [trial(p, cfg.seed * 1000 + i, i) for p in cfg.pairs for i in range(cfg.n_trials)]

    monkeypatch.setattr(runner, "run_patching", fake_run_patching)
    verdict, rows = get_claim("C10").decide(suite, None)
    assert verdict.status == "holds", verdict.figure  # the 0.2 pairs shown below too
    drawn = {p for c in calls for p in c.pairs}
    assert pairs[2] in drawn and pairs[3] in drawn and not drawn & set(pairs[:2])
    assert all(c.conditions == (("all_demo", 1),) and c.experiment == "matrix" for c in calls)
    assert all(c.seed != suite.profile.seed for c in calls)  # fresh seeds
    assert len(rows) > len(suite.matrix) == 90
    assert get_claim("C7").decide(suite, None)[1] is suite.matrix  # fixed-N: no rounds


def test_c6_scores_rounds_of_fresh_prompts_while_undecided(tiny_lm, tmp_path, monkeypatch):
    """While C6 is undecided the fixed probes score rounds of n_probe_prompts fresh prompts
    per task, up to cap_probe_prompts held out per task; each round is a stored unit, so a
    second suite on the same store computes nothing. A decided C6 adds no round."""
    from dataclasses import replace

    from icl_core.papers.cheng2026 import suite as S
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.records import Verdict

    calls = []
    real_c6 = V.c6

    def undecided(rows, model, protocol, layer):
        calls.append(sum(r["n"] for r in rows))
        v = real_c6(rows, model, protocol, layer)
        return Verdict(v.claim, v.model, v.protocol, INCONCLUSIVE, v.figure, v.paper)

    monkeypatch.setattr(V, "c6", undecided)
    profile = replace(get_profile("ci"), n_probe_prompts=4, cap_probe_prompts=2 + 4 + 4)
    store = ResultsStore(tmp_path)
    suite = S.ModelSuite(tiny_lm, profile, "rigorous", store)
    suite.__dict__["best_layer"] = 1
    rows = suite.c6_probes
    n_tasks = len(PAPER_TASKS)
    assert {r["probe"] for r in rows} == {"centroid", "logreg"}
    assert {r["n"] for r in rows} == {n_tasks * 10}  # 2 + 4 + 4 held out per task
    assert all(
        r["accuracy"] == r["k"] / r["n"] and r["ci_low"] <= r["accuracy"] <= r["ci_high"]
        for r in rows
    )  # the figures of all held-out prompts, not the first run's
    assert calls == [2 * n_tasks * k for k in (2, 6, 10)]  # decided after each round?
    rounds = [e for e in store.entries() if e.meta["experiment"] in ("probe_fit", "probe_round")]
    assert len(rounds) == 3
    again = S.ModelSuite(tiny_lm, profile, "rigorous", store)
    again.__dict__["best_layer"] = 1
    get = S.get_or_compute_unit
    monkeypatch.setattr(S, "get_or_compute_unit", _reading_only(get))
    assert again.c6_probes == rows
    monkeypatch.setattr(S, "get_or_compute_unit", get)

    def decided_(rows, model, protocol, layer):
        v = real_c6(rows, model, protocol, layer)
        return Verdict(v.claim, v.model, v.protocol, HOLDS, v.figure, v.paper)

    monkeypatch.setattr(V, "c6", decided_)
    decided = S.ModelSuite(tiny_lm, replace(profile, n_probe_prompts=6), "rigorous", store)
    decided.__dict__["best_layer"] = 1
    assert decided.c6_probes == [r for r in decided.probes if r["layer"] == 1
                                 and r["position"] == "last_demo_token"]  # fmt: skip


def _reading_only(get):
    def read(store, lm, experiment, config, compute, code):
        def fail():
            raise AssertionError(f"{experiment} recomputed")

        return get(store, lm, experiment, config, fail, code)

    return read


def test_c5_tracing_rounds_draw_only_undecided_cells(tiny_lm, tmp_path, monkeypatch):
    """While C5 is undecided, tracing rounds draw fresh prompts on the cells it draws only, with
    the first run's noise scale, until cap_tracing count per task; each round is a stored unit
    (a second suite on the same store computes nothing); the first run's key is the one a
    profile without rounds uses; cap_tracing 0 draws no round."""
    from dataclasses import replace

    from icl_core.experiments import tracing as T
    from icl_core.papers.cheng2026 import suite as S
    from icl_core.papers.cheng2026.profiles import get_profile
    from icl_core.records import TrialRecord

    calls = []

    def fake_task(lm, cfg, task, scale):
        calls.append((cfg, list(scale)))
        conds = cfg.conditions or [(ps, L) for ps in cfg.position_sets for L in range(2)]
        return [TrialRecord("m", "f", 2, "rigorous", "tracing", "noise", task,
                            T.derive_seed(cfg.seed, f"tracing:{task}:{i}"), L, ps, "correct",
                            condition=cfg.condition)
                for i in range(cfg.n_trials) for ps, L in conds]  # fmt: skip

    def undecided(cells, *args):
        cell = tuple(c for c in cells if (c.position_set, c.layer) == ("demo0_output_last", 1))
        return Decision(INCONCLUSIVE, "undecided", open=cell, projected=1, draw=cell)

    monkeypatch.setattr(T, "run_task", fake_task)
    monkeypatch.setattr(V, "c5_decision", undecided)
    profile = replace(get_profile("full"), tracing_tasks=("uppercase",), n_tracing=10,
                      cap_tracing=30, round_size=10)  # fmt: skip
    store = ResultsStore(tmp_path)
    records = S.ModelSuite(tiny_lm, profile, "rigorous", store).tracing
    first, *later = calls
    assert first[0].conditions is None and first[0].n_trials == 10
    assert [c.n_trials for c, _ in later] == [10, 10]  # up to 30 counted, then no more
    assert all(c.conditions == (("demo0_output_last", 1),) for c, _ in later)
    assert all(c.scale_seed == profile.seed and c.seed != profile.seed for c, _ in later)
    assert all(scale == first[1] for _, scale in later)  # the first run's noise scale
    assert len({c.seed for c, _ in later}) == 2  # fresh seeds per round
    assert len({r.seed for r in records}) == 30
    cell = [r for r in records if (r.position_set, r.layer) == ("demo0_output_last", 1)]
    assert len(cell) == 30 and len(records) == 10 * 2 * 6 + 20
    calls.clear()
    assert S.ModelSuite(tiny_lm, profile, "rigorous", store).tracing == records
    assert calls == []  # every round read back
    plain = S.ModelSuite(tiny_lm, replace(profile, cap_tracing=0), "rigorous", store)
    assert plain.tracing == records[: 10 * 2 * 6] and calls == []  # the same first unit
