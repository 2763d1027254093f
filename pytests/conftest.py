"""Shared pytest fixtures: run the dbt project on hand-made or generated landing data."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.cli.build import SAMPLE
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths
from lifecycle_warehouse.pipeline.runner import run_dbt

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# ------------------------------------------------------------------ parallel runs (xdist)
# `make test` runs pytest on 2 workers (pyproject addopts: -n 2 --dist loadscope). Each
# worker gets its own dbt target/ and logs/ (two dbt runs writing one partial_parse.msgpack
# or one dbt.log race); subprocesses inherit them. Tests that set their own keep theirs.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER:
    os.environ["DBT_TARGET_PATH"] = str(PROJECT_ROOT / "target" / f"pytest-{WORKER}")
    os.environ["DBT_LOG_PATH"] = str(PROJECT_ROOT / "logs" / f"pytest-{WORKER}")
    # pyspark.sql.connect (great_expectations imports it) takes a __main__ with neither
    # __spec__ nor __file__ for a doctest run and calls sys.exit(0), which failed every
    # in-process GX gate on a worker: an xdist worker's __main__ is execnet's `python -c`
    # bootstrap. Naming a file for it is all the check needs (multiprocessing's fork, the
    # Linux default, never reads it).
    _main = sys.modules["__main__"]
    if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
        _main.__file__ = __file__

# Every module's tests run on one worker (its module-scoped builds are made once), except
# these: their expensive fixtures are shared between workers through shared_dir(), so
# each of their tests is scheduled on its own, on whichever worker is free.
SPREAD_MODULES = {"test_reliability"}
# The longest modules go first (longest-processing-time-first: the short ones fill the
# gaps at the end; seconds in DECISIONLOG "Test parallelism"). The Spark comparison (a
# JVM, ~7 min) starts at once on one worker while the other works through the
# reliability scenarios. The rest keep their collection order.
FIRST_MODULES = ["test_spark", "test_reliability", "test_incremental", "test_adapters",
                 "test_orchestration", "test_audiences_sample", "test_bench",
                 "test_docs_semantic"]


@pytest.fixture(scope="session", autouse=True)
def _worker_scratch_dirs(tmp_path_factory):
    """Under xdist: builds that name no GX docs or DuckDB temp dir get one per worker (the
    defaults, data/gx_docs and data/tmp, would be shared by two concurrent builds)."""
    if WORKER:
        scratch = tmp_path_factory.mktemp("worker_defaults")
        os.environ.setdefault("LW_GX_DOCS_DIR", str(scratch / "gx_docs"))
        os.environ.setdefault("LW_DUCKDB_TEMP_DIR", str(scratch / "tmp"))


def pytest_collection_modifyitems(config, items):
    rank = {name: number for number, name in enumerate(FIRST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: keeps order


@pytest.hookimpl(tryfirst=True)  # before xdist's own (the --dist mode's scheduler)
def pytest_xdist_make_scheduler(config, log):
    """Units of work: a module, or one test of SPREAD_MODULES; handed out in the order
    above (--no-loadscope-reorder). Not --dist loadgroup: pytest-xdist 3.8 groups by
    rewriting item._nodeid, which pytest 9 no longer reads, so its groups are ignored."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return nodeid if Path(module).stem in SPREAD_MODULES else module

    return ModuleScheduling(config, log)


@contextlib.contextmanager
def _exclusive(lock: Path):
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits while another worker holds it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_dir(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """A directory `make(directory)` fills once per test run, for every xdist worker.

    Without xdist: a fresh temporary directory. With it: one directory of the whole run
    (beside the workers' own base temp dirs); the first worker to ask makes it under a file
    lock, the others wait and reuse it (the pytest-xdist docs' pattern). Readers only read
    it; a test that changes a build copies its files first. When `make` fails, the other
    workers fail at once with the same error instead of building again.
    """
    if not WORKER:
        directory = tmp_path_factory.mktemp(name)
        make(directory)
        return directory
    root = tmp_path_factory.getbasetemp().parent
    directory, done, failed = root / name, root / f"{name}.done", root / f"{name}.failed"
    with _exclusive(root / f"{name}.lock"):
        if failed.exists():
            pytest.fail(f"shared build {name} failed on another worker:\n{failed.read_text()}")
        if not done.exists():
            if directory.exists():
                shutil.rmtree(directory)
            directory.mkdir()
            try:
                make(directory)
            except BaseException as error:
                failed.write_text(str(error)[-6000:] or repr(error))
                raise
            done.touch()
    return directory


class Warehouse:
    """A dbt build of the project into a temporary DuckDB file."""

    def __init__(self, root: Path, landing_dir: Path) -> None:
        self.paths = Paths(
            landing_dir=landing_dir, database=root / "warehouse.duckdb", temp_dir=root / "tmp"
        )

    def dbt(self, *args: str):
        return run_dbt(list(args), self.paths)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.paths.database), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.query(sql, params)[0][0]


@pytest.fixture(scope="session")
def make_warehouse(tmp_path_factory):
    def _make(name: str, landing_dir: Path) -> Warehouse:
        return Warehouse(tmp_path_factory.mktemp(name), landing_dir)

    return _make


def run_lw(*args: str, env: dict | None = None, timeout: int = 900
           ) -> subprocess.CompletedProcess:
    """`lw ARGS` in a subprocess from the project root, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", *args], capture_output=True,
        text=True, cwd=PROJECT_ROOT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})},
        timeout=timeout,
    )


def _build_sample(root: Path) -> None:
    landing, database = root / "landing", root / "warehouse.duckdb"
    serving = root / "serving" / "lifecycle.duckdb"
    # The default sample of `make build` (SAMPLE), so its realism is what is tested.
    generated = run_lw("generate", "--out", str(landing), "--seed", str(SAMPLE["seed"]),
                       "--persons", str(SAMPLE["persons"]), "--days", str(SAMPLE["days"]),
                       "--start-date", SAMPLE["start_date"], "--no-progress")
    assert generated.returncode == 0, generated.stderr
    result = run_lw("build", "--landing", str(landing), "--database", str(database),
                    "--serving", str(serving),
                    env={"LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
                         "LW_GX_DOCS_DIR": str(root / "gx_docs")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (root / "build.stdout").write_text(result.stdout)
    (root / "build.stderr").write_text(result.stderr)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """The small sample (pytests/small_sample.py: 2,000 persons, 120 days) generated,
    built and published once per test run, shared by the xdist workers: a Deployment
    (landing, build database, serving file). Read it only; copy it to change it."""
    from small_sample import Deployment, build_small_sample

    root = shared_dir(tmp_path_factory, "small_sample", build_small_sample)
    return Deployment(root / "baseline", root / "landing")


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """`lw generate` (the default sample of `make build`) → `lw build` → publish, once per
    test run (shared by the xdist workers). Read it only: a test that changes the build
    or the serving file works on a copy (shutil.copyfile of a DuckDB file is cheap)."""
    root = shared_dir(tmp_path_factory, "sample_build", _build_sample)
    landing = root / "landing"
    manifest = json.loads((landing / "manifest.json").read_text())
    return {"manifest": manifest, "stdout": (root / "build.stdout").read_text(),
            "stderr": (root / "build.stderr").read_text(),
            "database": root / "warehouse.duckdb", "landing": landing,
            "serving": root / "serving" / "lifecycle.duckdb"}
