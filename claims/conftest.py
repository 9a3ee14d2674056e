"""Claim-test wiring: one ModelSuite per (model, protocol, profile), shared by every claim;
expected refutations from expectations.json become strict xfails (per model; for C4, per family)."""

from __future__ import annotations

import pytest

from icl_core.papers.cheng2026 import expectations
from icl_core.papers.cheng2026.profiles import get_profile
from icl_core.papers.cheng2026.suite import ModelSuite
from icl_core.progress import print_progress
from icl_core.store import ResultsStore

EXPECTATIONS = expectations()
_SUITES: dict[tuple[str, str, str], ModelSuite] = {}


_CONFIG: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG[:] = [config]


def _progress(message: str) -> None:
    """Progress of long experiments, shown live (outside pytest's output capture)."""
    capman = _CONFIG[0].pluginmanager.getplugin("capturemanager") if _CONFIG else None
    if capman is None:
        print_progress(message)
        return
    with capman.global_and_fixture_disabled():
        print_progress(message)


@pytest.fixture(scope="session")
def store() -> ResultsStore:
    return ResultsStore()


@pytest.fixture(scope="session")
def suite(lm, protocol, pytestconfig, store) -> ModelSuite:
    """All experiments of the model under the profile and protocol (computed lazily, once)."""
    return suite_for(lm, protocol, get_profile(pytestconfig.getoption("--profile")), store)


def suite_for(lm, protocol: str, profile, store: ResultsStore) -> ModelSuite:
    """The session's one ModelSuite of (model, protocol, profile), made on first use (then,
    under the rigorous protocol, warning once if the model answers no clean prompt)."""
    key = (lm.info.name, protocol, profile.name)
    if key not in _SUITES:
        _SUITES[key] = suite = ModelSuite(lm, profile, protocol, store, _progress)
        # once per model, before the claims run (rigorous: its matrix needs competence anyway)
        warning = suite.incompetence_warning() if protocol == "rigorous" else None
        if warning:
            _progress(warning)
    return _SUITES[key]


def expected_refutation(claim: str, model: str, protocol: str, profile: str,
                        pair: str | None = None) -> str | None:  # fmt: skip
    """The recorded reason (with the measured figures) if `claim` (on one sweep `pair`, key
    `<claim>[<pair>]`) is known to be refuted."""
    name = f"{claim}[{pair}]" if pair else claim
    return EXPECTATIONS.get(model, {}).get(f"{name}:{protocol}:{profile}")


def family_expected_refutation(models: list[str], protocol: str, profile: str) -> str | None:
    """C4 is refuted for a family iff every model of it refutes C2 or C3, so it is expected
    refuted iff each of the family's models records a C4 refutation (reasons joined)."""
    reasons = [expected_refutation("C4", m, protocol, profile) for m in models]
    return "; ".join(reasons) if models and all(reasons) else None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from fixtures.options import selected_families

    profile = config.getoption("--profile")
    for item in items:
        marker = item.get_closest_marker("claim")
        params = getattr(getattr(item, "callspec", None), "params", {})
        protocol = params.get("protocol", "rigorous")
        if marker is None:
            continue
        if "family" in params:
            models = selected_families(config)[params["family"]]
            reason = family_expected_refutation(models, protocol, profile)
            item.add_marker(pytest.mark.xdist_group(f"model-{models[0]}-{protocol}"))
        elif "model_name" in params:
            pair = params.get("sweep_pair")
            reason = expected_refutation(marker.args[0], params["model_name"], protocol, profile,
                                         pair and f"{pair[0]}->{pair[1]}")  # fmt: skip
        else:
            continue
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
