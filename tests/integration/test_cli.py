"""The command line: models list/fetch errors and inspect-prompt JSON."""

import csv
import json
import subprocess
import sys

import pytest

from fixtures.models import saved_tiny
from icl_core.cli import main


def test_models_list_json(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {r["name"] for r in rows}
    assert {"smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"} <= names
    for r in rows:
        assert {"name", "family", "n_layers", "available", "path"} <= set(r)


def test_a_reader_closing_the_pipe_early_ends_the_command_quietly():
    """`icl-claims models list | head -1`: no traceback, status 141 (128 + SIGPIPE)."""
    code = "import sys; from icl_core.cli import main; sys.exit(main(['models', 'list']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["models", "fetch", "gpt-5"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'gpt-5'" in err and "smollm2-135m" in err


def test_unknown_task_is_a_clear_error(tmp_path, capsys):
    saved_tiny(tmp_path)
    assert main(["inspect-prompt", "--model", str(tmp_path), "--task", "upper"]) == 2
    assert "uppercase" in capsys.readouterr().err


@pytest.mark.zoo
def test_inspect_prompt_json_paper_protocol(capsys):
    argv = ["inspect-prompt", "--model", "qwen2.5-coder-0.5b", "--task", "uppercase",
            "--source-task", "repeat_word", "--protocol", "paper", "--json"]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    target, source = out["prompts"]
    for prompt in (target, source):
        assert {"text", "tokens", "position_sets", "paper_positions"} <= set(prompt)
        tok0 = prompt["tokens"][0]
        assert {"index", "token_id", "text", "role", "start", "end"} <= set(tok0)
        assert set(prompt["paper_positions"]) >= {"all_demo", "input_only", "output_only",
                                                  "last_demo"}  # fmt: skip
        roles = {t["index"]: t["role"] for t in prompt["tokens"]}
        assert all(roles[i].endswith(".output") for i in prompt["position_sets"]["output_only"])
        lines = prompt["position_sets"]["output_lines"]
        assert any(roles[i].endswith(".output_label") for i in lines)
    assert target["paper_misplaced"] > 0  # Qwen merges "\n\n": the paper's count drifts


@pytest.mark.slow
def test_report_command_writes_a_report_from_the_store(tmp_path, monkeypatch, capsys):
    """`icl-claims report` on a local model folder: the report folder with its verdicts and
    the stored units it rests on (units.txt; their compute time in the summary); a second call
    reads everything from the store, the same units."""
    saved_tiny(tmp_path / "m")
    monkeypatch.setenv("ICL_CLAIMS_CACHE", str(tmp_path / "cache"))
    argv = ["report", "--models", str(tmp_path / "m"), "--profile", "ci", "--out",
            str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "report written to" in out.out
    assert "multi_sweep [1/1] uppercase -> repeat_word" in out.err  # progress per unit
    verdicts = json.loads((tmp_path / "out" / "verdicts.json").read_text())
    assert {v["claim"] for v in verdicts["verdicts"]} >= {"C1", "C2", "C3", "C9", "C10"}
    assert main([*argv[:-1], str(tmp_path / "again")]) == 0
    again = (tmp_path / "again" / "verdicts.json").read_text()
    assert again == (tmp_path / "out" / "verdicts.json").read_text()
    units = (tmp_path / "out" / "units.txt").read_text().split()
    assert units and units == (tmp_path / "again" / "units.txt").read_text().split()
    evidence = json.loads((tmp_path / "out" / "environment.json").read_text())["evidence"]
    assert evidence["units"] == evidence["timed_units"] == len(units)  # all computed here
    assert evidence["compute_seconds"] > 0 and len(set(units)) == len(units)
    table = list(csv.DictReader((tmp_path / "out" / "tables" / "evidence.csv").open()))
    assert sum(int(row["units"]) for row in table) == len(units)  # the same units, once
    assert f"Evidence: {len(units)} stored units" in (tmp_path / "out" / "report.md").read_text()
    bundle = tmp_path / "evidence.tar.gz"
    assert (
        main(["store", "export", str(bundle), "--units", str(tmp_path / "out" / "units.txt")]) == 0
    )
    assert f"wrote {len(units)} current units" in capsys.readouterr().out


def test_bad_protocol_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--protocol", "paper+demos=random"])
    assert exc.value.code == 2 and "paper+demos=sampled" in capsys.readouterr().err
