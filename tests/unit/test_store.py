"""The results store: keys, round trips, corruption recovery, atomic writes, cross-process locks."""

from __future__ import annotations

import importlib.util
import json
import math
import multiprocessing
import os
import re
import threading
import time
import warnings
from pathlib import Path

import pytest

from icl_core import store as store_mod
from icl_core.cli import main
from icl_core.errors import ICLClaimsError, UnknownNameError
from icl_core.store import ResultsStore, code_version, is_current_version, result_key, results_store
from icl_core.versions import MODULES, RESULT_VERSIONS

CONFIG = {"task": "antonym", "layers": (0, 3, 5), "k": 4, "temp": 0.5, "seed": None, "bf": True}
PAYLOAD = [{"trial": 0, "ok": True, "p": 0.1 + 0.2}, {"trial": 1, "ok": False, "p": 1e-300}]


def _key(**over: object) -> str:
    parts: dict = {"model_hash": "abc123", "experiment": "patch_sweep", "config": CONFIG}
    parts["version"] = "0123456789abcdef"
    parts.update(over)
    return result_key(**parts)


@pytest.fixture
def rs(tmp_path: Path) -> ResultsStore:
    return ResultsStore(tmp_path / "results")


def _leftovers(rs: ResultsStore) -> list[str]:
    """Every file under the store root except lock files."""
    return sorted(
        p.name for p in rs.root.rglob("*") if p.is_file() and not p.name.endswith(".lock")
    )


# --------------------------------------------------------------------------- basics


def test_put_get_round_trip_and_stats(rs: ResultsStore) -> None:
    key = _key()
    assert rs.get(key) is None
    assert rs.stats.misses == 1 and rs.stats.hits == 0
    assert key not in rs
    rs.put(key, PAYLOAD, meta={"model": "tiny"})
    assert key in rs
    assert rs.get(key) == PAYLOAD
    assert rs.get(key) == PAYLOAD
    assert (rs.stats.hits, rs.stats.misses, rs.stats.recomputed_corrupt) == (2, 1, 0)
    doc = json.loads(rs.path_for(key).read_text())
    assert doc["format"] == 1 and doc["key"] == key and doc["meta"] == {"model": "tiny"}
    assert re.fullmatch(r"[0-9a-f]{64}", doc["sha256"])


def test_path_fan_out_and_bad_keys(rs: ResultsStore) -> None:
    key = _key()
    assert rs.path_for(key) == rs.root / key[:2] / f"{key}.json"
    for bad in ["", "ab", "../etc/passwd", "ABCDEF", "zz" * 10]:
        with pytest.raises(ICLClaimsError, match="invalid result key"):
            rs.path_for(bad)
    assert 123 not in rs


def test_default_root_follows_cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICL_CLAIMS_CACHE", str(tmp_path / "cache"))
    assert ResultsStore().root == tmp_path / "cache" / "results"


def test_floats_round_trip_exactly_and_tuples_become_lists(rs: ResultsStore) -> None:
    floats = [0.1 + 0.2, 1e-300, 5e-324, -0.0, 1.7976931348623157e308, math.pi, float("inf")]
    payload = {"f": floats, "nan": float("nan"), "t": (1, (2, "x")), "s": "é→ü", "none": None}
    key = _key()
    got = rs.get_or_compute(key, lambda: payload)
    for fresh in (got, rs.get(key)):
        assert fresh["f"] == floats
        assert math.copysign(1.0, fresh["f"][3]) == -1.0
        assert math.isnan(fresh["nan"])
        assert fresh["t"] == [1, [2, "x"]]  # tuples come back as lists
        assert fresh["s"] == "é→ü" and fresh["none"] is None


def test_unserialisable_payload_is_a_type_error_and_stores_nothing(rs: ResultsStore) -> None:
    key = _key()
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        rs.put(key, {"x": object()})
    with pytest.raises(TypeError, match="meta"):
        rs.put(key, [1], meta={"x": object()})
    assert rs.get(key) is None
    assert not rs.root.exists() or _leftovers(rs) == []


# --------------------------------------------------------------------------- keys


def test_key_is_hex_and_stable_under_dict_order() -> None:
    key = _key()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert _key(config=dict(reversed(list(CONFIG.items())))) == key
    assert _key(config={**CONFIG, "layers": [0, 3, 5]}) == key  # tuple == list


@pytest.mark.parametrize(
    "change",
    [
        {"model_hash": "abc124"},
        {"experiment": "patch_sweep2"},
        {"version": "0123456789abcdee"},
        {"config": {**CONFIG, "k": 5}},
        {"config": {**CONFIG, "temp": 0.5000000000000001}},
        {"config": {**CONFIG, "layers": (0, 3, 6)}},
        {"config": {**CONFIG, "seed": 0}},
        {"config": {**CONFIG, "bf": 1}},
        {"config": {**CONFIG, "extra": None}},
    ],
    ids=lambda c: next(iter(c)) if "config" not in c else "config",
)
def test_key_changes_with_every_part(change: dict) -> None:
    assert _key(**change) != _key()


def test_key_defaults_to_code_version() -> None:
    key = result_key("abc123", "patch_sweep", CONFIG)
    assert key == _key(version=code_version())


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"layers": {1, 2}}, "layers"),
        ({"ok": 1, "fn": print}, "fn"),
        ({"nested": [1, (2, object())]}, "nested"),
        ({"b": b"bytes"}, "'b'"),
        ({3: "int key"}, "3"),
    ],
)
def test_unsupported_config_value_names_the_key(config: dict, name: str) -> None:
    with pytest.raises(TypeError, match=re.escape(name)):
        result_key("abc123", "exp", config, version="v")


def test_bad_key_parts_are_type_errors() -> None:
    with pytest.raises(TypeError, match="model_hash"):
        result_key("", "exp", {}, version="v")
    with pytest.raises(TypeError, match="config must be a dict"):
        result_key("h", "exp", [("a", 1)], version="v")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- corruption


def _truncate(path: Path, rs: ResultsStore, key: str) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_payload_byte(path: Path, rs: ResultsStore, key: str) -> None:
    text = path.read_text()
    i = text.index('"payload"')
    j = text.index('"trial": 1', i) + len('"trial": ')
    path.write_text(text[:j] + "7" + text[j + 1 :])  # still valid JSON, wrong checksum


def _invalid_json(path: Path, rs: ResultsStore, key: str) -> None:
    path.write_text("{not json at all")


def _binary_garbage(path: Path, rs: ResultsStore, key: str) -> None:
    path.write_bytes(b"\xff\xfe\x00garbage")


def _other_key(path: Path, rs: ResultsStore, key: str) -> None:
    other = _key(experiment="something_else")
    rs.put(other, PAYLOAD)
    path.write_bytes(rs.path_for(other).read_bytes())


def _wrong_format(path: Path, rs: ResultsStore, key: str) -> None:
    doc = json.loads(path.read_text())
    doc["format"] = 2
    path.write_text(json.dumps(doc))


def _not_an_object(path: Path, rs: ResultsStore, key: str) -> None:
    path.write_text("[1, 2, 3]")


def _missing_checksum(path: Path, rs: ResultsStore, key: str) -> None:
    doc = json.loads(path.read_text())
    del doc["sha256"]
    path.write_text(json.dumps(doc))


@pytest.mark.filterwarnings("ignore:.*keyed the old way:UserWarning")  # _other_key's entry
@pytest.mark.parametrize(
    "corrupt",
    [
        _truncate,
        _flip_payload_byte,
        _invalid_json,
        _binary_garbage,
        _other_key,
        _wrong_format,
        _not_an_object,
        _missing_checksum,
    ],
)
def test_corrupt_entry_is_warned_removed_and_recomputed(rs: ResultsStore, corrupt) -> None:
    key = _key()
    rs.put(key, PAYLOAD)
    path = rs.path_for(key)
    corrupt(path, rs, key)

    with pytest.warns(RuntimeWarning, match=re.escape(path.name)):
        assert rs.get(key) is None
    assert not path.exists()
    assert rs.stats.recomputed_corrupt == 1 and rs.stats.misses == 1

    calls = []
    got = rs.get_or_compute(key, lambda: calls.append(1) or PAYLOAD)
    assert got == PAYLOAD and calls == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rs.get(key) == PAYLOAD  # the recomputed entry is good


def test_get_or_compute_recomputes_a_corrupt_entry_directly(rs: ResultsStore) -> None:
    key = _key()
    rs.put(key, PAYLOAD)
    _flip_payload_byte(rs.path_for(key), rs, key)
    with pytest.warns(RuntimeWarning, match="checksum"):
        got = rs.get_or_compute(key, lambda: PAYLOAD)
    assert got == PAYLOAD
    assert (rs.stats.hits, rs.stats.misses, rs.stats.recomputed_corrupt) == (0, 1, 1)
    assert rs.get(key) == PAYLOAD


# --------------------------------------------------------------------------- atomicity


@pytest.mark.parametrize("victim", ["replace", "fsync"])
def test_failed_write_leaves_no_entry_and_no_temp_file(
    rs: ResultsStore, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    key = _key()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(f"simulated crash in os.{victim}")

    monkeypatch.setattr(results_store.os, victim, boom)
    with pytest.raises(OSError, match="simulated crash"):
        rs.put(key, PAYLOAD)
    with pytest.raises(OSError, match="simulated crash"):
        rs.get_or_compute(key, lambda: PAYLOAD)
    monkeypatch.undo()
    assert rs.get(key) is None
    assert _leftovers(rs) == []


def test_failed_overwrite_keeps_the_previous_entry(
    rs: ResultsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _key()
    rs.put(key, PAYLOAD)

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(results_store.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        rs.put(key, ["new"])
    monkeypatch.undo()
    assert rs.get(key) == PAYLOAD
    assert _leftovers(rs) == [f"{key}.json"]


def test_interrupted_compute_stores_nothing_and_releases_the_lock(rs: ResultsStore) -> None:
    key = _key()

    def interrupted() -> object:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rs.get_or_compute(key, interrupted)
    assert rs.get(key) is None
    assert rs.get_or_compute(key, lambda: PAYLOAD) == PAYLOAD  # lock free again: resumes


def test_finished_units_survive_an_interrupted_run(rs: ResultsStore) -> None:
    keys = [_key(config={**CONFIG, "pair": i}) for i in range(4)]
    computed: list[int] = []
    first_run = [True]

    def unit(i: int) -> object:
        if i == 2 and first_run[0]:
            first_run[0] = False
            raise KeyboardInterrupt  # the first run dies on unit 2
        computed.append(i)
        return {"unit": i}

    with pytest.raises(KeyboardInterrupt):
        for i, k in enumerate(keys):
            rs.get_or_compute(k, lambda i=i: unit(i))
    for i, k in enumerate(keys):  # the rerun only computes what is missing
        assert rs.get_or_compute(k, lambda i=i: unit(i)) == {"unit": i}
    assert computed == [0, 1, 2, 3]


def test_reentrant_same_key_is_an_error(rs: ResultsStore) -> None:
    key = _key()
    with pytest.raises(ICLClaimsError, match="re-entered"):
        rs.get_or_compute(key, lambda: rs.get_or_compute(key, lambda: 1))
    twin = ResultsStore(rs.root)  # a second store object on the same root: same lock
    with pytest.raises(ICLClaimsError, match="re-entered"):
        rs.get_or_compute(key, lambda: twin.get_or_compute(key, lambda: 1))
    other = _key(experiment="inner")  # different keys nest: they never block each other
    assert rs.get_or_compute(key, lambda: rs.get_or_compute(other, lambda: 1)) == 1


# --------------------------------------------------------------------------- concurrency


def _slow_compute(counter: Path) -> list:
    time.sleep(1.0)
    with open(counter, "a") as f:
        f.write(f"{os.getpid()}\n")
    return [{"pid": os.getpid(), "x": 0.1 + 0.2}]


def _worker(root: str, key: str, counter: str, out: str, barrier) -> None:
    rs = ResultsStore(Path(root))
    barrier.wait(timeout=30)
    got = rs.get_or_compute(key, lambda: _slow_compute(Path(counter)))
    Path(out).write_text(json.dumps(got))


def test_two_processes_compute_a_key_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    root, counter, key = tmp_path / "results", tmp_path / "counter.txt", _key()
    barrier = ctx.Barrier(2)
    outs = [tmp_path / f"out{i}.json" for i in range(2)]
    procs = [
        ctx.Process(target=_worker, args=(str(root), key, str(counter), str(o), barrier))
        for o in outs
    ]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(counter.read_text().splitlines()) == 1  # exactly one computation
    first, second = (json.loads(o.read_text()) for o in outs)
    assert first == second and first[0]["x"] == 0.1 + 0.2
    assert time.monotonic() - t0 < 15


def test_threads_compute_a_key_once(rs: ResultsStore) -> None:
    key, other = _key(), _key(experiment="other")
    calls: list[str] = []
    results: dict[str, object] = {}

    def slow(tag: str) -> object:
        calls.append(tag)
        time.sleep(0.3)
        return [tag]

    def run(name: str, k: str) -> None:
        results[name] = rs.get_or_compute(k, lambda: slow(k))

    threads = [
        threading.Thread(target=run, args=("a", key)),
        threading.Thread(target=run, args=("b", key)),
        threading.Thread(target=run, args=("c", other)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(calls) == sorted([key, other])
    assert results["a"] == results["b"] == [key] and results["c"] == [other]


# --------------------------------------------------------------------------- versions


def test_code_version_names_every_module_it_is_given() -> None:
    assert code_version("patching", "tracing") == code_version("tracing", "patching")
    assert code_version("patching").startswith(code_version() + ";")
    assert set(MODULES) == set(RESULT_VERSIONS)
    for module in MODULES.values():  # each names an experiment module
        assert importlib.util.find_spec(module) is not None
    with pytest.raises(UnknownNameError, match="'patchin'.*paper_patching, paper_tracing"):
        code_version("patchin")


def test_every_stored_experiment_module_has_a_result_version() -> None:
    """Each `code=(...)` an experiment is stored under names modules of RESULT_VERSIONS (else
    storing it raises UnknownNameError at run time)."""
    root = Path(store_mod.__file__).parents[1]
    named = {
        name
        for folder in (root / "experiments", root / "papers" / "cheng2026" / "protocol")
        for path in folder.glob("*.py")
        for group in re.findall(r"code\s*=\s*\(([^)]*)\)", path.read_text(encoding="utf-8"))
        for name in re.findall(r"[\"']([a-z_]+)[\"']", group)
    }
    assert named and named <= set(RESULT_VERSIONS), named - set(RESULT_VERSIONS)


@pytest.mark.parametrize(
    ("version", "current"),
    [
        (code_version(), True),
        (code_version("paper_tracing", "patching"), True),
        ("engine=0", False),
        (code_version("patching").replace("patching=", "patching=9"), False),
        (f"{code_version()};gone=1", False),
        ("0123456789abcdef", False),  # a code hash of the old keys
        (None, False),
    ],
)
def test_is_current_version(version: object, current: bool) -> None:
    assert is_current_version(version) is current


# --------------------------------------------------------------------------- entries on disk

ENV = {"dtype": "float32", "device": "cpu"}


def _fill(rs: ResultsStore) -> dict[str, str]:
    """One entry of each status; status -> key."""
    keys = {s: _key(experiment=s) for s in ("current", "stale_version", "old_key", "unreadable")}
    meta = {"model": "tiny", "environment": ENV, "versions": code_version("patching")}
    rs.put(keys["current"], PAYLOAD, meta=meta)
    rs.put(keys["stale_version"], PAYLOAD, meta={**meta, "versions": "engine=0;patching=1"})
    rs.put(keys["old_key"], PAYLOAD, meta={"model": "tiny"})
    path = rs.path_for(keys["unreadable"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    return keys


def test_entries_report_each_status(rs: ResultsStore) -> None:
    keys = _fill(rs)
    rs.put(_key(experiment="no meta"), PAYLOAD)  # put without meta: keyed the old way too
    (rs.root / "ab").mkdir(exist_ok=True)
    (rs.root / "ab" / ".abc.1.ff.tmp").write_text("")  # temporary files are not entries
    found = {e.path.name.removesuffix(".json"): e for e in rs.entries()}
    assert {k: found[k].status for k in keys.values()} == {v: k for k, v in keys.items()}
    assert found[_key(experiment="no meta")].status == "old_key"
    assert found[keys["current"]].meta["environment"] == ENV
    assert found[keys["current"]].size == rs.path_for(keys["current"]).stat().st_size


def test_an_entry_with_a_long_meta_is_read_whole(rs: ResultsStore) -> None:
    meta = {"model": "m" * 10_000, "environment": ENV, "versions": code_version()}
    rs.put(_key(), PAYLOAD, meta=meta)
    (entry,) = rs.entries()
    assert entry.status == "current" and entry.meta == meta


def test_discard_spares_a_replaced_entry(rs: ResultsStore) -> None:
    key = _key()
    rs.put(key, PAYLOAD)
    (entry,) = rs.entries()
    rs.put(key, ["recomputed"])  # a concurrent writer replaced the file since the scan
    assert not rs.discard(entry) and rs.get(key) == ["recomputed"]
    (entry,) = rs.entries()
    assert rs.discard(entry) and not rs.discard(entry)
    assert rs.get(key) is None


def test_old_entries_are_ignored_with_one_warning(tmp_path: Path) -> None:
    rs = ResultsStore(tmp_path / "results")
    old = _key(experiment="old")
    rs.put(old, PAYLOAD, meta={"model": "tiny"})
    with pytest.warns(UserWarning, match=r"1 entries keyed the old way .* prune --yes"):
        rs.get_or_compute(_key(), lambda: PAYLOAD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process and root
        ResultsStore(rs.root).get_or_compute(_key(experiment="x"), lambda: PAYLOAD)
    assert rs.get(old) == PAYLOAD  # ignored, not deleted


def _cli(capsys: pytest.CaptureFixture, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_store_info_groups_units(rs: ResultsStore, capsys: pytest.CaptureFixture) -> None:
    _fill(rs)
    rs.put(
        _key(config={"other": 1}),
        PAYLOAD,
        meta={
            "model": "tiny",
            "environment": ENV,
            "versions": code_version("patching"),
            "compute_seconds": 90.0,
        },
    )
    doc = json.loads(_cli(capsys, "store", "info", "--json", "--root", str(rs.root)))
    groups = {g["status"]: g for g in doc["groups"]}
    assert [g["status"] for g in doc["groups"]] == list(groups) == [
        "current", "stale_version", "old_key", "unreadable"]  # fmt: skip
    assert groups["current"] | {"bytes": 0} == {
        "status": "current", "model": "tiny", "dtype": "float32", "device": "cpu",
        "versions": code_version("patching"), "units": 2, "bytes": 0, "timed_units": 1,
        "compute_seconds": 90.0}  # fmt: skip
    text = _cli(capsys, "store", "info", "--root", str(rs.root))
    assert "5 units" in text and "ignored (keyed the old way)" in text
    assert "1.5 min  (1 untimed)" in text  # an untimed unit is named, never counted as 0 s


def test_store_prune_is_a_dry_run_unless_told(
    rs: ResultsStore, capsys: pytest.CaptureFixture
) -> None:
    keys = _fill(rs)
    text = _cli(capsys, "store", "prune", "--root", str(rs.root))
    assert "would remove 3 units" in text and "--yes" in text
    assert len(list(rs.entries())) == 4
    text = _cli(capsys, "store", "prune", "--yes", "--root", str(rs.root))
    assert "removed 3 units" in text
    assert [e.path.name for e in rs.entries()] == [f"{keys['current']}.json"]
    assert rs.get(keys["current"]) == PAYLOAD


def test_a_bundle_carries_current_units_to_another_store(
    rs: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Export writes the current entries only (equal contents, equal bytes); import adds the
    valid ones absent from the target, counts those present, and never replaces an entry."""
    from icl_core.store.bundle import export_bundle, import_bundle

    keys = _fill(rs)
    other = {"model": "other", "environment": ENV, "versions": code_version("patching")}
    rs.put(_key(experiment="other model"), ["o"], meta=other)
    bundle = tmp_path / "units.tar.gz"
    assert export_bundle(rs, bundle) == 2
    first = bundle.read_bytes()
    assert export_bundle(rs, bundle) == 2 and bundle.read_bytes() == first
    target = ResultsStore(tmp_path / "elsewhere")
    target.put(_key(experiment="other model"), ["kept"], meta=other)
    assert import_bundle(target, bundle) == {"added": 1, "present": 1, "rejected": 0}
    assert target.get(keys["current"]) == PAYLOAD
    assert target.get(_key(experiment="other model")) == ["kept"]  # never replaced
    assert target.get(keys["stale_version"]) is None  # not exported
    assert import_bundle(target, bundle) == {"added": 0, "present": 2, "rejected": 0}
    assert export_bundle(rs, bundle, models=["other"]) == 1
    text = _cli(capsys, "store", "export", str(bundle), "--models", "tiny", "--root", str(rs.root))
    assert "wrote 1 current units" in text
    fresh = ResultsStore(tmp_path / "fresh")
    text = _cli(capsys, "store", "import", str(bundle), "--root", str(fresh.root))
    assert "1 added, 0 present, 0 rejected" in text and fresh.get(keys["current"]) == PAYLOAD


def test_a_bundle_member_that_is_not_a_valid_entry_is_rejected(
    rs: ResultsStore, tmp_path: Path
) -> None:
    """A member whose checksum, key or name is wrong is counted as rejected and not stored; a
    file that is no bundle, or a truncated one, raises ICLClaimsError naming it."""
    import io
    import tarfile

    from icl_core.store.bundle import export_bundle, import_bundle

    good, bad = _key(experiment="good"), _key(experiment="bad")
    meta = {"model": "tiny", "environment": ENV, "versions": code_version("patching")}
    rs.put(good, PAYLOAD, meta=meta)
    tampered = rs.path_for(good).read_text().replace("0.30000000000000004", "0.3")
    bundle = tmp_path / "b.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for name, text in ((f"{bad[:2]}/{bad}.json", tampered),  # checksum and key wrong
                           (f"{good[:2]}/{good}.json", tampered),  # checksum wrong
                           ("notes.txt", "hello")):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    target = ResultsStore(tmp_path / "t")
    assert import_bundle(target, bundle) == {"added": 0, "present": 0, "rejected": 3}
    assert list(target.entries()) == []
    (tmp_path / "junk.tar.gz").write_text("not a bundle")
    with pytest.raises(ICLClaimsError, match="junk.tar.gz is not a store bundle"):
        import_bundle(target, tmp_path / "junk.tar.gz")
    export_bundle(rs, bundle)
    (tmp_path / "cut.tar.gz").write_bytes(bundle.read_bytes()[:60])
    with pytest.raises(ICLClaimsError, match="cut.tar.gz is (truncated|not a store bundle)"):
        import_bundle(target, tmp_path / "cut.tar.gz")


def test_read_keys_name_the_units_a_result_rests_on_and_their_compute_time(
    rs: ResultsStore,
) -> None:
    """`read_keys` gathers every key answered (read or computed), once, in first-read order;
    not a miss, nor a compute that raised. `evidence_rows` sums the compute time each unit
    recorded, per (model, experiment); a `put` unit counts as untimed, not as 0 s."""
    from icl_core.store.evidence import evidence_rows, evidence_totals, recorded_seconds

    meta = {"model": "tiny", "experiment": "sweep", "environment": ENV}
    first, second, put, absent = (_key(experiment=e) for e in ("a", "b", "put", "absent"))
    rs.get_or_compute(first, lambda: time.sleep(0.05) or [1], meta=meta)
    with pytest.raises(RuntimeError):
        rs.get_or_compute(second, lambda: (_ for _ in ()).throw(RuntimeError("no")), meta=meta)
    rs.put(put, [3], meta={**meta, "experiment": "probes"})
    assert rs.get(absent) is None and rs.get(put) == [3]
    rs.get_or_compute(second, lambda: [2], meta=meta)
    rs.get_or_compute(first, lambda: pytest.fail("stored: read, not computed"), meta=meta)
    assert list(rs.read_keys) == [first, put, second]
    rows = evidence_rows(rs, rs.read_keys)
    assert [(r["model"], r["experiment"], r["units"], r["timed_units"]) for r in rows] == [
        ("tiny", "probes", 1, 0),
        ("tiny", "sweep", 2, 2),
    ]
    assert rows[0]["compute_seconds"] == 0 and rows[1]["compute_seconds"] >= 0.05
    assert evidence_totals(rows) == {"units": 3, "timed_units": 2,
                                     "compute_seconds": rows[1]["compute_seconds"]}  # fmt: skip
    assert ResultsStore(rs.root).read_keys == {}  # each object its own
    assert recorded_seconds({"compute_seconds": 0}) == 0.0  # timed at 0 s: still timed
    assert recorded_seconds({"compute_seconds": True}) is None  # a bool is no duration
    assert recorded_seconds(None) is None and recorded_seconds({"compute_seconds": "9"}) is None


def test_export_of_named_units_only(
    rs: ResultsStore, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`store export --units FILE` writes only the listed current units; a listed key without a
    current entry, a line that is no key (by its line number) or a file of no key is an error
    naming it, and nothing is written; a key listed twice counts once."""
    keys = _fill(rs)
    meta = {"model": "tiny", "environment": ENV, "versions": code_version("patching")}
    extra = _key(experiment="unlisted")
    rs.put(extra, PAYLOAD, meta=meta)
    listed = tmp_path / "units.txt"
    listed.write_text(f"{keys['current']}\n\n")
    bundle = tmp_path / "b.tar.gz"
    text = _cli(capsys, "store", "export", str(bundle), "--units", str(listed),
                "--root", str(rs.root))  # fmt: skip
    assert "wrote 1 current units" in text
    fresh = ResultsStore(tmp_path / "fresh")
    from icl_core.store.bundle import import_bundle

    assert import_bundle(fresh, bundle)["added"] == 1 and fresh.get(extra) is None
    cases = (([keys["current"], keys["stale_version"], keys["current"]], "1 of the 2 units named"),
             ([keys["current"], "", "not-a-key"], "line 3: 'not-a-key' is not a unit key"),
             (["", "  "], "lists no unit key"))  # fmt: skip
    for lines, problem in cases:
        listed.write_text("\n".join(lines))
        out = tmp_path / "never.tar.gz"
        assert main(["store", "export", str(out), "--units", str(listed),
                     "--root", str(rs.root)]) == 2  # fmt: skip
        assert re.search(problem, capsys.readouterr().err) and not out.exists()
