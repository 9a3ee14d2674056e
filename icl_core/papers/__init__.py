"""The papers whose claims the suite checks, one package each (`icl_core.papers.<key>`): its
claims, their measurement design and rules, profiles, the paper's own protocol and data, the
recorded expectations and the report's figures. Everything outside `icl_core.papers` is
machinery any paper uses (engine, kernels, prompts, tasks, models, store, statistics, the
experiment kinds, report rendering); `tests/unit/test_layers.py` lists the few core modules that
still name a paper, each with its reason."""
