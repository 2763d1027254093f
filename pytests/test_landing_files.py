"""File-level incremental landing: each landing file is read once, on the build after it
lands (macro lw_landing_file_batch; DECISIONLOG "Each landing file is read once").

A tiny hand-made landing (one file per source), the seeds and three file-incremental
models (base_crm__customers, base_messaging__webhooks, base_landing__unreadable_lines)
run with dbt: a new file adds its rows and nothing else is read again (a file read twice
would double its rows in an append-only table); a file that changed or went after it was
read fails the run, naming the file and the way out, and leaves the tables as they were;
--full-refresh reads every file as it is now. The preflight (landing_check) skips files
an earlier build read unchanged and checks a changed one again. Expected counts are
written by hand from the rows below.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from landing_fixtures import write_landing
from lifecycle_warehouse.pipeline.landing_check import (
    check_landing_files,
    file_signature,
    files_already_read,
)
from lifecycle_warehouse.pipeline.project import Paths
from lifecycle_warehouse.pipeline.runner import BuildError, run_dbt

MODELS = ["run", "--select", "base_crm__customers base_messaging__webhooks "
          "base_landing__unreadable_lines"]


def _crm_line(number: int) -> str:
    return (f"U{number:08d},a{number}@b.co,,Ann,US,2025-01-01,Y,,N,,false,,"
            "2025-06-01T00:00:00Z,2025-06-30T23:00:00Z\n")


def _per_file(database: Path, table: str) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(con.execute(
            f"select _lw_file, count(*) from staging.{table} group by all").fetchall())


def _run(paths: Paths, *extra: str) -> None:
    run_dbt([*MODELS, *extra], paths)


@pytest.fixture
def landing(tmp_path):
    """A built tiny landing: crm part-00000.csv (2 customers), messaging part-00000.jsonl
    (3 webhooks, one of them a line that is no JSON object)."""
    landing = write_landing(
        tmp_path / "landing", web=[{"cookie_id": "ck_" + "1" * 16}],
        app=[{"device_id": "dv_" + "1" * 16}],
        messaging=[{"webhook_id": "wh_1", "recipient": "a@b.co"},
                   {"webhook_id": "wh_2", "recipient": "c@d.co"}],
        pos=[{}], orders=[{}], crm=[{"customer_id": "U00000001", "email": "a1@b.co"},
                                     {"customer_id": "U00000002", "email": "a2@b.co"}])
    with (landing / "messaging_webhooks" / "part-00000.jsonl").open("a") as handle:
        handle.write("not a json object\n")
    paths = Paths(landing_dir=landing, database=tmp_path / "build" / "lw.duckdb",
                  temp_dir=tmp_path / "tmp")
    paths.database.parent.mkdir(parents=True)
    run_dbt(["seed"], paths)
    _run(paths)
    return paths


def test_each_file_is_read_once_and_a_new_file_adds_only_its_rows(landing):
    crm = landing.landing_dir / "crm_customers"
    # files are recorded by their path relative to the landing directory
    first = "crm_customers/part-00000.csv"
    assert _per_file(landing.database, "base_crm__customers") == {first: 2}
    messaging = "messaging_webhooks/part-00000.jsonl"
    assert _per_file(landing.database, "base_messaging__webhooks") == {messaging: 2}
    # the unreadable line, and one record row per text file read
    assert _per_file(landing.database, "base_landing__unreadable_lines") == {
        messaging: 2, first: 1, "store_pos/part-00000.csv": 1, "online_orders/part-00000.csv": 1}

    header = (crm / "part-00000.csv").read_text().splitlines()[0]
    (crm / "part-00001.csv").write_text(header + "\n" + _crm_line(3) + _crm_line(4) + _crm_line(5))
    _run(landing)
    _run(landing)  # nothing new: nothing read
    second = "crm_customers/part-00001.csv"
    assert _per_file(landing.database, "base_crm__customers") == {first: 2, second: 3}
    assert _per_file(landing.database, "base_messaging__webhooks") == {messaging: 2}
    with duckdb.connect(str(landing.database), read_only=True) as con:
        recorded = con.execute(
            "select _lw_file_size, _lw_file_modified_at "
            "from staging.base_landing__unreadable_lines "
            "where _lw_file = ? and reject_reason is null", [second]).fetchall()
        kept = con.execute("select count(*), count(raw_record) from staging.base_crm__customers "
                           ).fetchone()
    assert recorded == [file_signature(landing.landing_dir / second)]
    assert kept == (5, 0)  # raw records are kept for rejected rows only


@pytest.mark.parametrize("change", ["appended", "gone"])
def test_a_file_that_changed_after_it_was_read_fails_the_run(landing, change):
    crm = landing.landing_dir / "crm_customers" / "part-00000.csv"
    if change == "appended":
        with crm.open("a") as handle:
            handle.write(_crm_line(9))
        os.utime(crm, (crm.stat().st_atime, crm.stat().st_mtime + 5))
    else:
        shutil.move(crm, crm.with_suffix(".csv.bak"))
        (crm.parent / "part-00002.csv").write_text(
            crm.with_suffix(".csv.bak").read_text().splitlines()[0] + "\n" + _crm_line(7))
    before = _per_file(landing.database, "base_crm__customers")
    with pytest.raises(BuildError) as failed:
        _run(landing)
    message = str(failed.value)
    assert f"{crm} {'changed after it was read' if change == 'appended' else 'is gone'}" in message
    assert "landing file(s) of source 'crm' differ from what this build read" in message
    assert "lw build --full-refresh" in message
    assert _per_file(landing.database, "base_crm__customers") == before

    _run(landing, "--full-refresh")
    expected = ({"crm_customers/part-00000.csv": 3} if change == "appended"
                else {"crm_customers/part-00002.csv": 1})
    assert _per_file(landing.database, "base_crm__customers") == expected


def test_the_preflight_checks_only_files_not_read_unchanged(landing):
    already = files_already_read(landing.database)
    crm = landing.landing_dir / "crm_customers" / "part-00000.csv"
    assert already["crm_customers/part-00000.csv"] == file_signature(crm)
    # the four text files, recorded by base_landing__unreadable_lines (the fixture does not
    # run base_web__events / base_app__events, which record the parquet files)
    assert sorted(already) == [
        "crm_customers/part-00000.csv", "messaging_webhooks/part-00000.jsonl",
        "online_orders/part-00000.csv", "store_pos/part-00000.csv"]
    # a defect the preflight refuses (no header), with the signature of the file read:
    # skipped; once the signature differs (the file changed), checked and refused
    header_less = crm.read_text().splitlines()[1] + "\n"
    stat = crm.stat()
    crm.write_text(header_less)
    os.utime(crm, (stat.st_atime, stat.st_mtime))
    signature = file_signature(crm)
    check_landing_files(landing.landing_dir, None,
                        {**already, "crm_customers/part-00000.csv": signature})
    with pytest.raises(BuildError, match="its first line is not the crm header"):
        check_landing_files(landing.landing_dir, None, already)
    assert files_already_read(landing.database.parent / "absent.duckdb") == {}
