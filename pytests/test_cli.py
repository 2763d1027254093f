"""The `lw` command line itself: help, errors, closed pipes, warnings, `lw query`, the
build summary. Cheap: no dbt build (the build's progress lines and log file are checked
on the shared sample build in test_end_to_end.py)."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from lifecycle_warehouse.cli.app import SUBCOMMANDS, build_parser, main
from lifecycle_warehouse.pipeline.gated_build import BuildReport, format_gate_summary
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths

ENV = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
       "PYTHONPATH": str(PROJECT_ROOT / "src")}
LW = [sys.executable, "-m", "lifecycle_warehouse.cli"]


def lw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LW, *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=ENV, timeout=120)


def test_a_closed_stdout_ends_without_a_traceback(tmp_path):
    # the reader is gone before lw writes (as `lw versions | head` once head has its line)
    process = subprocess.Popen([*LW, "versions", "--serving", str(tmp_path / "s.duckdb")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                               cwd=PROJECT_ROOT)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell reports it
    assert stderr == ""


def test_lw_versions_piped_to_head():
    result = subprocess.run(f"{' '.join(LW)} versions | head -1", shell=True,
                            capture_output=True, text=True, cwd=PROJECT_ROOT, env=ENV,
                            timeout=120)
    assert result.stdout.startswith("No published versions of ")
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr


def test_generate_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # help text is wrapped
    # the defaults of the demo sample (README: seed 42, 365 days from 2025-01-01)
    assert "--seed SEED random seed: same arguments, byte-identical files (default: 42)" in out
    assert "(default: 365)" in out and "(default: 2025-01-01)" in out


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_with_a_default_shows_it():
    subparsers = _subparsers(build_parser())
    assert len(subparsers) == len(SUBCOMMANDS) == 12
    missing = []
    for name, parser in subparsers.items():
        text = " ".join(parser.format_help().split("options:", 1)[1].split())
        for action in parser._actions:
            if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
                continue
            invocation = parser._get_formatter()._format_action_invocation(action)
            after = text.split(f" {invocation} ", 1)[1]
            if "default" not in after.split(" --", 1)[0]:
                missing.append(f"lw {name} {invocation}")
    assert missing == []


def test_lw_publish_gives_every_option_lw_build_reads():
    """`lw publish` runs `lw build`'s handler: its namespace must hold every build option."""
    subparsers = _subparsers(build_parser())
    build_args = vars(subparsers["build"].parse_args([]))
    publish_args = vars(subparsers["publish"].parse_args([]))
    assert sorted(set(build_args) - set(publish_args)) == []
    # an audit tests whole tables, not only the last run's rows
    assert publish_args["whole_table_tests"] is True
    assert build_args["whole_table_tests"] is False


def test_an_unknown_option_prints_the_subcommands_usage():
    result = lw("build", "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: lw build ")
    assert result.stderr.rstrip().endswith("lw build: error: unrecognized arguments: --bogus")


def test_a_missing_option_prints_the_subcommands_usage():
    result = lw("generate")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: lw generate ")
    assert "the following arguments are required: --out" in result.stderr


def test_third_party_future_warnings_are_hidden_narrowly():
    pytest.importorskip("pyspark")
    # pyspark warns about pandas 3 on import (Great Expectations imports it at every gate)
    importing = "import pyspark.sql.connect.utils"
    loud = subprocess.run([sys.executable, "-c", importing], capture_output=True, text=True,
                          env=ENV, timeout=120)
    assert "FutureWarning: PySpark does not yet fully support pandas" in loud.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", "from lifecycle_warehouse.cli.app import "
         "quiet_third_party_warnings as q; q(); import warnings; "
         "warnings.warn('ours', FutureWarning); " + importing],
        capture_output=True, text=True, env=ENV, timeout=120)
    assert "PySpark" not in quiet.stderr
    assert "FutureWarning: ours" in quiet.stderr  # our own warnings still show


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    path = tmp_path / "serving" / "lifecycle.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_customer_lifecycle as select * from (values "
                    "('p1', 'active'), ('p2', 'active'), ('p3', 'churned')) "
                    "as t(person_id, lifecycle_stage)")
    return path


def test_lw_query_reads_the_serving_file(serving, capsys):
    assert main(["query", "--serving", str(serving),
                 "select lifecycle_stage, count(*) as persons from marts.fct_customer_lifecycle "
                 "group by all order by persons desc"]) == 0
    out = capsys.readouterr().out
    assert "active" in out and "churned" in out
    assert out.index("active") < out.index("churned")
    assert main(["query", "--serving", str(serving)]) == 0  # no SQL: the tables
    assert "fct_customer_lifecycle" in capsys.readouterr().out


def test_lw_query_never_writes(serving, capsys):
    assert main(["query", "--serving", str(serving),
                 "drop table marts.fct_customer_lifecycle"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lw query: ") and "read-only" in err
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.sql("select count(*) from marts.fct_customer_lifecycle").fetchall() == [(3,)]


def test_lw_query_without_a_serving_file_says_how_to_make_one(tmp_path, capsys):
    assert main(["query", "--serving", str(tmp_path / "none.duckdb"), "select 1"]) == 1
    assert "Fix: build and publish first (`lw build`)" in capsys.readouterr().err


def test_the_build_summary_queries_the_serving_file(tmp_path, serving):
    build = tmp_path / "build" / "lifecycle.duckdb"
    report = BuildReport(paths=Paths(tmp_path / "landing", build, tmp_path / "tmp"),
                         serving=serving, dbt_log=Path(f"{build}.dbt.log"))
    report.published = SimpleNamespace(serving_db=serving, build_id="b1", moved_wal=None)
    summary = format_gate_summary(report)
    assert "duckdb -readonly" not in summary and f"query it: {build}" not in summary
    assert f"Published {serving}" in summary
    assert f"dbt log: {build}.dbt.log" in summary
    # the suggested command works as printed, on the serving file
    line = next(line for line in summary.splitlines() if "query it" in line)
    command = shlex.split(line.split(": ", 1)[1])
    assert command[1:4] == ["query", "--serving", str(serving)]
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line.split("│")[1:3] for line in result.stdout.splitlines() if "│" in line]
    assert [[cell.strip() for cell in row] for row in rows[2:]] == [["active", "2"],
                                                                   ["churned", "1"]]
