"""Issue 18, publishing: scenarios 4 (stray WAL), 7 (publish-time failures) and 18
(never-served versions, dashboard temporaries, a dashboard older than the marts).

Cheap by design: the build databases are test_publish.make_build (two small marts, no
dbt). Where the scenario is a CLI run, `lw build` runs in a subprocess with dbt and the
Great Expectations gates replaced by no-ops (FAKE_BUILD below): everything from the
command line to the preflight, the publish and the error message is the real code.
Failures are real where possible: a directory the process may not write (root without
CAP_DAC_OVERRIDE, via setpriv), a write refused by the kernel (RLIMIT_FSIZE), a lock or
a DuckDB file held by another process, a process killed with SIGKILL.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from landing_fixtures import write_landing
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.publish import (
    PublishError,
    check_serving_target,
    current_build_id,
    list_versions,
    publish,
    published_marker,
)
from lifecycle_warehouse.report.data import REPORT_NAME
from lifecycle_warehouse.report.render import dashboard_build_id, dashboard_status
from test_publish import make_build, query

LW = [sys.executable, "-m", "lifecycle_warehouse.cli"]

# `lw build` with dbt and the GX gates as no-ops (each dbt call prints "fake dbt <verb>"
# and whether it runs on the build's one parse to stderr, so a test sees whether the
# build started). Extra setup code: argv[1].
FAKE_BUILD = textwrap.dedent("""
    import sys
    from collections import Counter
    from types import SimpleNamespace

    import lifecycle_warehouse.pipeline.gated_build as gated_build
    import lifecycle_warehouse.pipeline.gates.gx as gates
    from lifecycle_warehouse.pipeline.runner import StepResult

    PARSED = object()  # the one "manifest" of the build: each dbt call says if it got it

    def fake_dbt(args, paths, target=None, **options):  # options: log_file, label, ...
        got = "on the build's parse" if options.get("manifest") is PARSED else "parsing"
        print("fake dbt", args[0], got, file=sys.stderr, flush=True)
        return StepResult(" ".join(args), 0.0, Counter(success=1))

    def fake_parse(args, paths, target=None, **options):
        print("fake dbt parse", file=sys.stderr, flush=True)
        return PARSED

    gated_build.run_dbt = fake_dbt
    gated_build.parse_project = fake_parse
    gates.run_gx_gate = lambda *a, **k: SimpleNamespace(
        success=True, checks=[], failures=[], seconds=0.0, docs_index=None)
    gates.volume_snapshot = lambda *a, **k: {}
    exec(sys.argv[1])
    from lifecycle_warehouse.cli.app import main
    sys.exit(main(sys.argv[2:]))
""")

# A BI client connected read-write: creates a table (so DuckDB writes a WAL), then waits.
WRITER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("create table marts.bi_scratch as select 42 as answer")
    print("ready", flush=True)
    sys.stdin.readline()
""")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
            **extra}


def landing(root: Path) -> Path:
    """Valid landing files, one row per source: `lw build` checks them before it starts
    (the fake build reads nothing more)."""
    folder = root / "landing"
    if not folder.is_dir():
        write_landing(folder, web=[{}], app=[{}], messaging=[{}], pos=[{}], orders=[{}],
                      crm=[{}])
    return folder


def fake_build(root: Path, build_db: Path, serving: Path, *, setup: str = "",
               prefix: tuple[str, ...] = (), **extra_env: str) -> subprocess.CompletedProcess:
    command = [*prefix, sys.executable, "-c", FAKE_BUILD, setup, "build", "--no-sample",
               "--landing", str(landing(root)), "--database", str(build_db),
               "--serving", str(serving)]
    return subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=env(LW_GX_DOCS_DIR=str(root / "gx_docs"), **extra_env),
                          stdin=subprocess.DEVNULL, timeout=300)


def lw(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LW, *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=env(**extra_env), stdin=subprocess.DEVNULL, timeout=300)


def error_lines(stderr: str) -> list[str]:
    """stderr without log records and fake-dbt lines: what the user is told."""
    return [line for line in stderr.splitlines() if line.strip() and not re.match(
        r"(DEBUG|INFO|WARNING) |fake dbt ", line)]


def assert_one_line_failure(result: subprocess.CompletedProcess, prefix: str,
                            *fragments: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith(prefix), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


class Writer:
    """A read-write DuckDB client of `path` in another process."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.communicate("\n", timeout=20)


def read_only_reader(path: Path) -> subprocess.CompletedProcess:
    """A BI reader connecting read-only in a fresh process, the way a dashboard does."""
    return subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1], "
         "read_only=True); print(con.execute('select build_id from meta.publish_info')"
         ".fetchone()[0], con.execute('select count(*) from marts.dim_customers')"
         ".fetchone()[0])", str(path)],
        capture_output=True, text=True, timeout=60)


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A serving file that serves build b1 (dim_customers: 20 persons + version 1 = 21)."""
    serving = tmp_path / "serving" / "lifecycle.duckdb"
    publish(make_build(tmp_path / "b1.duckdb", version=1), serving, build_id="b1")
    return serving


def leftovers(serving: Path) -> list[str]:
    return sorted(p.name for p in [*serving.parent.glob(".*.tmp*"),
                                   *(serving.parent / "versions").glob(".*")])


# ---------------------------------------------------------------------------------------
# 4. a BI client that opened the serving file read-write


def test_scenario_04_wal_of_a_killed_read_write_client_is_moved_aside(
    tmp_path: Path, served: Path
):
    writer = Writer(served)
    writer.kill()  # killed: its WAL (the table it created) stays next to the served file
    wal = served.with_name("lifecycle.duckdb.wal")
    assert wal.is_file()
    wal_bytes = wal.read_bytes()

    result = publish(make_build(tmp_path / "b2.duckdb", version=2), served, build_id="b2")

    assert not wal.exists()
    assert result.moved_wal is not None and result.moved_wal.parent == served.parent / "stale_wal"
    assert result.moved_wal.read_bytes() == wal_bytes  # kept, not deleted
    reader = read_only_reader(served)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["b2", "22"]  # 20 persons + version 2
    # the client's table was a write to the served file, never part of the marts
    assert query(served, "select count(*) from duckdb_tables() where table_name = "
                         "'bi_scratch'") == [(0,)]


def test_scenario_04_mismatched_wal_left_by_an_earlier_publish_is_cleared(
    tmp_path: Path, served: Path
):
    # the state the issue found: a client's WAL of build b1 next to a later file b2
    writer = Writer(served)
    writer.kill()
    wal = served.with_name("lifecycle.duckdb.wal")
    stale = tmp_path / "stale.wal"
    shutil.move(wal, stale)
    publish(make_build(tmp_path / "b2.duckdb", version=2), served, build_id="b2")
    shutil.copyfile(stale, wal)
    broken = read_only_reader(served)
    assert broken.returncode == 1 and "WAL does not match database file" in broken.stderr

    # the next publish-like command (lw rollback, a CLI run) clears it
    result = lw("rollback", "--serving", str(served))
    assert result.returncode == 0, result.stderr
    assert "Serving build b1" in result.stdout
    moved = re.search(r"its WAL was moved to (\S+) ", result.stdout)
    assert moved, result.stdout
    assert Path(moved.group(1)).read_bytes() == stale.read_bytes()
    assert not wal.exists()
    reader = read_only_reader(served)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["b1", "21"]


def test_scenario_04_client_holding_the_file_read_write_blocks_the_publish(
    tmp_path: Path, served: Path
):
    before = sha256(served)
    versions_before = [v.build_id for v in list_versions(served)]
    writer = Writer(served)
    try:
        pid = str(writer.process.pid)
        # the API refuses...
        with pytest.raises(PublishError, match=rf"open read-write by another process "
                           rf"\(PID {pid},"):
            publish(make_build(tmp_path / "b2.duckdb", version=2), served, build_id="b2")
        # ...and `lw build` refuses before it builds anything
        result = fake_build(tmp_path, make_build(tmp_path / "b3.duckdb", version=3), served)
        assert_one_line_failure(result, "lw build failed: ", str(served),
                                f"open read-write by another process (PID {pid},",
                                "did not connect read-only", "serving file is unchanged")
        assert "fake dbt" not in result.stderr
        assert sha256(served) == before
    finally:
        writer.close()  # a clean close checkpoints its change into the served file
    assert [v.build_id for v in list_versions(served)] == versions_before
    assert leftovers(served) == []


# ---------------------------------------------------------------------------------------
# 7. publish-time failures: one line, exit 1, serving file unchanged


needs_setpriv = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="root ignores a read-only mode without setpriv (util-linux) to drop DAC override")


@needs_setpriv
def test_scenario_07_read_only_serving_directory_is_refused_before_building(
    tmp_path: Path, served: Path
):
    before = sha256(served)
    # root writes anywhere: drop CAP_DAC_OVERRIDE so the mode 0555 really applies
    prefix = (("setpriv", "--bounding-set=-dac_override,-dac_read_search",
               "--inh-caps=-dac_override,-dac_read_search") if os.geteuid() == 0 else ())
    served.parent.chmod(0o555)
    try:
        result = fake_build(tmp_path, make_build(tmp_path / "b2.duckdb", version=2), served,
                            prefix=prefix)
    finally:
        served.parent.chmod(0o755)
    assert_one_line_failure(result, f"lw build failed: Cannot write in {served.parent} "
                            "(Permission denied): make it writable",
                            "or point --serving / LW_SERVING_PATH elsewhere")
    assert "fake dbt" not in result.stderr  # refused before any model ran
    assert sha256(served) == before
    assert current_build_id(served) == "b1"


def test_scenario_07_serving_path_under_a_file_is_refused_before_building(tmp_path: Path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the serving directory should be")
    serving = blocker / "serving" / "lifecycle.duckdb"
    result = fake_build(tmp_path, make_build(tmp_path / "b1.duckdb"), serving)
    assert_one_line_failure(result, "lw build failed: ", f"{blocker} is a file, not a directory")
    assert "fake dbt" not in result.stderr
    assert blocker.read_text() == "a file where the serving directory should be"


def test_scenario_07_too_little_free_space_is_refused_before_building(
    tmp_path: Path, served: Path
):
    before = sha256(served)
    size = served.stat().st_size
    # the disk as the build sees it: 100 kB free (the publish needs 2 copies + 1 MiB)
    setup = textwrap.dedent("""
        import shutil
        real = shutil.disk_usage
        shutil.disk_usage = lambda path: real(path)._replace(free=100_000)
    """)
    result = fake_build(tmp_path, make_build(tmp_path / "b2.duckdb", version=2), served,
                        setup=setup)
    needed = (2 * size + 2**20) / 1e6
    assert_one_line_failure(result, "lw build failed: Not enough free space in ",
                            str(served.parent), "0.1 MB free", f"about {needed:,.1f} MB needed",
                            "point --serving")
    assert "fake dbt" not in result.stderr
    assert sha256(served) == before


def test_one_parse_serves_the_seeds_and_every_layer(tmp_path: Path, served: Path):
    # the build parses the project once and runs each dbt command on that manifest
    # (DECISIONLOG "One parse per build; failing rows stored only for failing tests")
    build_db = make_build(tmp_path / "b2.duckdb", version=2)
    with duckdb.connect(str(build_db)) as con:  # an earlier build's failing rows
        con.execute("create schema if not exists test_failures")
        con.execute("create table test_failures.not_null_x as select 1 as x")
    result = fake_build(tmp_path, build_db, served)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [line for line in result.stderr.splitlines() if line.startswith("fake dbt")]
    assert calls == ["fake dbt parse", "fake dbt seed on the build's parse",
                     *["fake dbt build on the build's parse"] * 3], calls
    # test_failures holds this build's failing rows only: the old table is gone
    with duckdb.connect(str(build_db), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() "
                           "where schema_name = 'test_failures'").fetchone()[0] == 0


def test_scenario_07_write_refused_while_publishing_fails_cleanly(tmp_path: Path, served: Path):
    before = sha256(served)
    files_before = sorted(p.name for p in served.parent.iterdir())
    # the kernel refuses writes beyond 200 kB per file (EFBIG, like a full disk): the
    # preflight passes, the build runs, the export of the new file fails
    setup = textwrap.dedent("""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    """)
    result = fake_build(tmp_path, make_build(tmp_path / "b2.duckdb", version=2), served,
                        setup=setup)
    line = assert_one_line_failure(result, "lw build failed: ", str(served),
                                   "File too large", "the serving file is unchanged")
    assert "fake dbt build" in result.stderr  # it failed at the publish, after the layers
    assert sha256(served) == before
    assert sorted(p.name for p in served.parent.iterdir()) == files_before, line
    assert leftovers(served) == []
    assert [v.build_id for v in list_versions(served)] == ["b1"]


def test_scenario_07_disk_full_copying_the_version_is_one_line(
    tmp_path: Path, served: Path, monkeypatch: pytest.MonkeyPatch
):
    import errno

    from lifecycle_warehouse.pipeline import publish as publish_module

    before = sha256(served)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[1]))

    monkeypatch.setattr(publish_module.shutil, "copyfile", full)
    with pytest.raises(PublishError) as raised:
        publish(make_build(tmp_path / "b2.duckdb", version=2), served, build_id="b2")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("No room to write ") and "No space left on device" in message
    assert "serving file is unchanged" in message
    assert sha256(served) == before and leftovers(served) == []


HOLD_LOCK = textwrap.dedent("""
    import sys
    from pathlib import Path
    from lifecycle_warehouse.pipeline.publish import _exclusive
    with _exclusive(Path(sys.argv[1]).resolve(), "lw rollback"):
        print("locked", flush=True)
        sys.stdin.readline()
""")


class LockHolder:
    """Another process inside the publish lock, as `lw rollback` is while it copies."""

    def __init__(self, serving: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(serving)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, cwd=PROJECT_ROOT)
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.process.communicate("\n", timeout=20)


def test_scenario_07_publish_lock_held_by_rollback_is_reported(tmp_path: Path, served: Path):
    before = sha256(served)
    holder = LockHolder(served)
    try:
        pid = holder.process.pid
        result = fake_build(tmp_path, make_build(tmp_path / "b2.duckdb", version=2), served,
                            LW_PUBLISH_LOCK_TIMEOUT="1")
        assert_one_line_failure(result, "lw build failed: ",
                                f"lw rollback (PID {pid}, since ", "holds the publish lock",
                                "waited 1 s", "LW_PUBLISH_LOCK_TIMEOUT")
        rollback = lw("rollback", "--serving", str(served), LW_PUBLISH_LOCK_TIMEOUT="0.5")
        assert_one_line_failure(rollback, "lw rollback failed: ",
                                f"lw rollback (PID {pid}, since ", "waited 0.5 s")
        assert sha256(served) == before
    finally:
        holder.release()
    assert leftovers(served) == []


def test_scenario_07_publish_waits_for_a_rollback_to_finish(tmp_path: Path, served: Path):
    holder = LockHolder(served)
    build = make_build(tmp_path / "b2.duckdb", version=2)
    # release the lock one second into the publish's wait
    releaser = subprocess.Popen(
        [sys.executable, "-c", "import os, sys, time; time.sleep(1); "
         "os.write(int(sys.argv[1]), b'\\n')", str(holder.process.stdin.fileno())],
        pass_fds=(holder.process.stdin.fileno(),))
    try:
        result = publish(build, served, build_id="b2")
    finally:
        releaser.wait(timeout=20)
        holder.process.wait(timeout=20)
    assert result.build_id == "b2" and result.seconds >= 0.9  # it waited, then published
    assert current_build_id(served) == "b2"


def test_scenario_07_preflight_passes_for_a_fine_target(tmp_path: Path):
    serving = tmp_path / "new" / "serving" / "lifecycle.duckdb"
    check_serving_target(serving)  # creates the directory, leaves nothing else behind
    assert serving.parent.is_dir() and list(serving.parent.iterdir()) == []


# ---------------------------------------------------------------------------------------
# 18. versions that were never served; dashboard temporaries; a dashboard older than marts

KILL_AT_RENAME = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, "pytests")
    from lifecycle_warehouse.pipeline import publish as p
    build, serving, build_id, kill_at = sys.argv[1:5]
    real = os.replace
    def replace(src, dst):
        if Path(dst).name == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)
    p.os.replace = replace
    p.publish(Path(build), Path(serving), build_id=build_id)
""")


def kill_publish_at(tmp_path: Path, serving: Path, build_id: str, version: int,
                    kill_at: str) -> None:
    build = make_build(tmp_path / f"{build_id}.duckdb", version=version)
    result = subprocess.run([sys.executable, "-c", KILL_AT_RENAME, str(build), str(serving),
                             build_id, kill_at], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr


def versions_listed(serving: Path) -> list[str]:
    result = lw("versions", "--serving", str(serving))
    assert result.returncode == 0, result.stderr
    return re.findall(r"^([* ]) (?!build id)(\S+) ", result.stdout, re.M)


def test_scenario_18_killed_before_the_rename_lists_no_unserved_version(
    tmp_path: Path, served: Path
):
    before = sha256(served)
    kill_publish_at(tmp_path, served, "b2", 2, kill_at="lifecycle.duckdb")
    assert sha256(served) == before
    assert versions_listed(served) == [("*", "b1")]  # b2 was never served: not listed
    publish(make_build(tmp_path / "b3.duckdb", version=3), served, build_id="b3")
    assert versions_listed(served) == [("*", "b3"), (" ", "b1")]
    assert leftovers(served) == []


def test_scenario_18_killed_after_the_rename_keeps_the_served_version(
    tmp_path: Path, served: Path
):
    kill_publish_at(tmp_path, served, "b2", 2, kill_at="lifecycle-b2.duckdb")
    assert current_build_id(served) == "b2"  # served, its version not yet renamed
    assert versions_listed(served) == [(" ", "b1")]
    publish(make_build(tmp_path / "b3.duckdb", version=3), served, build_id="b3")
    # the next publish completed b2's version: every served build can be rolled back to
    assert versions_listed(served) == [("*", "b3"), (" ", "b2"), (" ", "b1")]
    assert query(served.parent / "versions" / "lifecycle-b2.duckdb",
                 "select count(*) from marts.dim_customers") == [(22,)]
    assert leftovers(served) == []


# the report of a make_build file: its meta, every section empty (render_report is real)
FAKE_REPORT_DATA = textwrap.dedent("""
    from lifecycle_warehouse.report import data as report
    from lifecycle_warehouse.pipeline.publish import _read_publish_info

    def data(serving):
        meta = _read_publish_info(serving)
        def absent(table):
            return {"table": f"marts.{table}", "status": "absent", "missing": []}

        audiences = absent("fct_audience_membership")
        audiences["changes"] = absent("fct_audience_changes")
        return {"meta": {k: str(v) for k, v in meta.items()},
                "totals": {"persons": 0, "prospects": 0, "ever_active": 0, "buyers": 0,
                           "net_revenue": 0},
                "stage_definitions": [], "stages": [], "stage_history": [],
                "transitions": [], "rfm_grid": [], "rfm_scores": {"r": [], "f": []},
                "rfm_segments": [], "growth": [],
                "drilldown": {"rfm_segment": [], "lifecycle_stage": []},
                "audiences": audiences,
                "campaign_outcomes": absent("fct_campaign_outcomes"),
                "retention": absent("fct_cohort_retention")}

    report.load_report_data = data
""")


def lw_report(serving: Path, setup: str = "") -> subprocess.CompletedProcess:
    code = ("import sys\nexec(sys.argv[1])\nfrom lifecycle_warehouse.cli import main\n"
            "sys.exit(main(sys.argv[2:]))")
    return subprocess.run([sys.executable, "-c", code, FAKE_REPORT_DATA + setup, "report",
                           "--serving", str(serving)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env(), timeout=120)


def test_scenario_18_failed_dashboard_write_leaves_no_temporary(tmp_path: Path, served: Path):
    page = served.parent / REPORT_NAME
    first = lw_report(served)
    assert first.returncode == 0, first.stderr
    page_before = sha256(page)
    publish(make_build(tmp_path / "b2.duckdb", version=2), served, build_id="b2")
    # the page (4.9 MB with plotly.js inlined) cannot be written past 1 MB: a full disk
    limit = textwrap.dedent("""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
    """)
    result = lw_report(served, limit)
    assert_one_line_failure(result, "lw report failed: cannot write ", "File too large",
                            f"{page} is unchanged")
    assert sha256(page) == page_before
    assert sorted(p.name for p in served.parent.glob(f".{REPORT_NAME}*")) == []


def run_stale_check(page: Path) -> str | None:
    """The page's own check, run by node with the marker next to it: the banner or None."""
    text = page.read_text(encoding="utf-8")
    marker = re.search(r'<script src="([^"]+)"></script>\n<script>(\(function.*?)</script>',
                       text, re.S)
    assert marker, "the page loads the published marker and checks it"
    src, check = marker.groups()
    marker_file = page.parent / src
    script = textwrap.dedent("""
        const fs = require("fs");
        const box = {hidden: true, textContent: ""};
        global.window = {};
        global.document = {getElementById: (id) => id === "lw-stale" ? box : null};
        if (fs.existsSync(process.argv[1])) { eval(fs.readFileSync(process.argv[1], "utf8")); }
        eval(process.argv[2]);  // node -e: argv[1] is the first argument
        console.log(JSON.stringify(box.hidden ? null : box.textContent));
    """)
    result = subprocess.run(["node", "-e", script, str(marker_file), check],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the page's check")
def test_scenario_18_dashboard_older_than_the_marts_says_so(tmp_path: Path, served: Path):
    page = served.parent / REPORT_NAME
    assert lw_report(served).returncode == 0
    assert dashboard_build_id(page) == "b1"
    assert dashboard_status(served) is None
    assert run_stale_check(page) is None  # up to date: no banner
    assert 'id="lw-stale" class="stale" hidden' in page.read_text(encoding="utf-8")

    # a publish whose dashboard was not written (disk full, a failing report)
    publish(make_build(tmp_path / "b2.duckdb", version=2), served, build_id="b2")
    marker = json.loads(published_marker(served).read_text().split("= ", 1)[1].rstrip(";\n"))
    assert marker["build_id"] == "b2" and marker["as_of_date"] == "2025-12-31"
    banner = run_stale_check(page)
    assert banner is not None
    assert banner.startswith("Out of date: this dashboard shows build b1 (as of 2025-12-31), "
                             "but the serving file now holds build b2 (as of 2025-12-31, "
                             "published ")
    assert banner.endswith("Refresh it with: lw report")
    assert dashboard_status(served) == (
        f"the dashboard {page} shows build b1, but {served} serves build b2: refresh it "
        "with `lw report`")
    versions = lw("versions", "--serving", str(served))
    assert versions.returncode == 0
    assert f"warning: the dashboard {page} shows build b1, but" in versions.stdout

    # `lw report` brings it up to date; a rollback makes it out of date again
    assert lw_report(served).returncode == 0
    assert run_stale_check(page) is None and dashboard_status(served) is None
    rollback = lw("rollback", "--serving", str(served))
    assert rollback.returncode == 0, rollback.stderr
    assert "warning: the dashboard" in rollback.stdout and "serves build b1" in rollback.stdout
    assert run_stale_check(page).startswith("Out of date: this dashboard shows build b2")
