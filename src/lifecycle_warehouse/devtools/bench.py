"""`lw bench`: the performance benchmark (issue "Performance"), a run a person starts.

Per scale (events, e.g. 1M, 10M, 100M), on one machine, in one run:

1. data: `lw generate --events N --seed 42` (reused when bench/data/<scale>-data
   already holds it), split by `_loaded_at` into the history (everything loaded before
   the last hour before the last day of the generated period, plus the CRM snapshot),
   that hour, and one new day (the rows loaded from that day on;
   lifecycle_warehouse.devtools.landing_batches);
2. floor: one DuckDB query that reads every landing row of the history once (all six
   sources, in their own formats) and groups it by user identifier;
3. full: `lw build --full-refresh` (seed, staging, gate, identity + intermediate, gate,
   marts, gate, publish) over the history, wall time and peak RSS of the process;
4. micro-batch: the hour's files land next to the history, then `lw build` (what a
   run every hour costs: checks, staging, identity, sessions, person-days, triggers
   and stages, gates, publish);
5. incremental: the new day's files land next to them, then `lw build`;
6. RFM + value metrics: the execution time of the warehouse's own models
   (int_person_purchase_days, int_person_value_metrics, fct_rfm: `dbt run` on the
   built file, node times from run_results.json) against the pandas + lifetimes way on
   the same orders (summary_data_from_transaction_data + pandas qcut scoring).

Results go to bench/results.md (table + machine) and bench/results.png (time vs scale).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from lifecycle_warehouse.devtools.landing_batches import split_landing
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / "bench"
SEED = 42
# the floor: every landing row read once, grouped by the row's user identifier
_FLOOR_SOURCES = {
    "web_events": ("read_parquet('{d}/web_events/*.parquet', union_by_name = true)",
                   "coalesce(user_id, cookie_id)"),
    "app_events": ("read_parquet('{d}/app_events/*.parquet', union_by_name = true)",
                   "coalesce(user_id, device_id)"),
    # the columns the warehouse's source declares (docs/landing_contract.md)
    "messaging_webhooks": ("read_json('{d}/messaging_webhooks/*.jsonl', "
                           "format = 'newline_delimited', columns = {{webhook_id: 'varchar', "
                           "message_id: 'varchar', channel: 'varchar', event: 'varchar', "
                           "recipient: 'varchar', campaign_id: 'varchar', "
                           "occurred_at: 'varchar', _loaded_at: 'varchar'}})", "recipient"),
    "store_pos": ("read_csv('{d}/store_pos/*.csv', header = true, all_varchar = true, "
                  "union_by_name = true)", "coalesce(loyalty_card, phone)"),
    "online_orders": ("read_csv('{d}/online_orders/*.csv', header = true, all_varchar = true, "
                      "union_by_name = true)", "coalesce(user_id, customer_email)"),
    "crm_customers": ("read_csv('{d}/crm_customers/*.csv', header = true, all_varchar = true, "
                      "union_by_name = true)", "customer_id"),
}
VALUE_MODELS = ("int_person_purchase_days", "int_person_value_metrics", "fct_rfm")


@dataclass
class ScaleResult:
    scale: str
    events: int
    landing_rows: int
    persons: int
    floor_s: float
    full_s: float
    full_peak_rss_gb: float
    incremental_s: float
    incremental_peak_rss_gb: float
    increment_rows: int
    value_rfm_s: float
    pandas_s: float
    orders: int
    profile: str = ""
    value_rfm_sql_s: float = 0.0  # the same models' SQL alone, without dbt's materialization
    # activation (issue 17): the audience change table of the incremental day's publish
    # and a file export (CSV + JSON lines) of every audience's members
    changes_s: float = 0.0
    change_rows: int = 0
    export_s: float = 0.0
    exported_rows: int = 0
    # issue 16: one hour of loading landed, then `lw build` (before the new day)
    micro_batch_s: float = 0.0
    micro_batch_rows: int = 0

    @property
    def sql_speedup(self) -> float:
        return self.pandas_s / self.value_rfm_sql_s if self.value_rfm_sql_s else 0.0

    @property
    def ratio_to_floor(self) -> float:
        return self.full_s / self.floor_s

    @property
    def incremental_share(self) -> float:
        return self.incremental_s / self.full_s

    @property
    def speedup(self) -> float:
        return self.pandas_s / self.value_rfm_s

    @property
    def activation_share(self) -> float:
        """Change table + file export of every audience, as a share of the full build."""
        return (self.changes_s + self.export_s) / self.full_s if self.full_s else 0.0


def parse_scale(text: str) -> int:
    """'1M' -> 1_000_000, '500k' -> 500_000, '2500000' -> 2_500_000."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    try:
        return int(float(number) * factor)
    except ValueError:
        raise ValueError(f"bad scale {text!r}: use e.g. 1M, 10M, 100M or 500k") from None


def _run(cmd: list[str], log: Path, env: dict[str, str]) -> tuple[float, float]:
    """Runs cmd with output to log; returns (wall seconds, peak RSS in GB of the process
    tree's largest process). Raises with the log's tail when cmd fails."""
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-30:])
        raise RuntimeError(f"`{' '.join(cmd)}` failed (log: {log}):\n{tail}")
    return seconds, usage.ru_maxrss / 1024 / 1024  # ru_maxrss: kB on Linux


def _lw() -> str:
    return str(Path(sys.executable).with_name("lw"))


# the layout of prepared data: 2 = history, last hour, new day
DATA_LAYOUT = 2


def prepare_data(events: int, root: Path, env: dict[str, str]) -> tuple[Path, Path, Path]:
    """history/, hour/ and new_day/ landing directories for `events`, generated once."""
    history, hour, new_day = root / "history", root / "hour", root / "new_day"
    done = root / "prepared.json"
    if done.exists():
        prepared = json.loads(done.read_text())
        if prepared.get("events") == events and prepared.get("layout") == DATA_LAYOUT:
            return history, hour, new_day
    shutil.rmtree(root, ignore_errors=True)
    generated = root / "generated"
    _run([_lw(), "generate", "--out", str(generated), "--events", str(events),
          "--seed", str(SEED), "--no-progress"], root.parent / f"{root.name}-generate.log", env)
    # the new day: the last day of the generated period (its events, and the late rows
    # of earlier days loaded on or after it)
    args = json.loads((generated / "manifest.json").read_text())["args"]
    cut = datetime.fromisoformat(args["start_date"]) + timedelta(days=args["days"] - 1)
    # the micro-batch: the hour loaded just before the new day
    batches = split_landing(generated, root / "split", [cut - timedelta(hours=1), cut])
    batches[0].rename(history)
    batches[1].rename(hour)
    batches[2].rename(new_day)
    # The CRM file is a snapshot export loaded after the generated period: it belongs to
    # the history (a daily run gets a new snapshot, not a first one).
    for path in (new_day / "crm_customers").iterdir():
        path.rename(history / "crm_customers" / path.name)
    shutil.rmtree(generated)
    shutil.rmtree(root / "split")
    done.write_text(json.dumps({"events": events, "seed": SEED, "new_day": f"{cut:%Y-%m-%d}",
                                "layout": DATA_LAYOUT}))
    return history, hour, new_day


def floor_query(landing: Path) -> tuple[float, int]:
    """Seconds of one query reading every landing row once, grouped by user identifier."""
    parts = [f"select {key} as user_key from {relation.format(d=landing)}"
             for source, (relation, key) in _FLOOR_SOURCES.items()
             if any((landing / source).glob("*.*"))]
    sql = ("select count(*) as users, sum(rows_read) as rows_read from ("
           "select user_key, count(*) as rows_read from ("
           + " union all ".join(parts) + ") group by user_key)")
    with duckdb.connect() as con:
        con.execute("set threads = 2")
        started = time.perf_counter()
        _users, rows = con.sql(sql).fetchall()[0]
        return time.perf_counter() - started, int(rows)


def _count_rows(landing: Path) -> int:
    return floor_query(landing)[1]


def value_models_seconds(env: dict[str, str], log: Path) -> float:
    """Execution seconds of the warehouse's purchase-day, value-metric and RFM models."""
    target = Path(env["DBT_TARGET_PATH"])
    cmd = [str(Path(sys.executable).with_name("dbt")), "run", "--select", *VALUE_MODELS,
           "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT / "profiles")]
    _run(cmd, log, env)
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sum(result["execution_time"] for result in results)


def value_models_sql_seconds(database: Path, target: Path) -> float:
    """Seconds of the same models' compiled SQL alone, in dependency order, each into a
    temporary table on a read-only connection: the computation without dbt's per-node
    cost (create, rename, drop backup, commit of the build file)."""
    compiled = {path.stem: path for path in (target / "compiled").rglob("*.sql")}
    missing = [model for model in VALUE_MODELS if model not in compiled]
    if missing:
        raise RuntimeError(f"no compiled SQL for {missing} under {target}/compiled: "
                           "run the RFM step's `dbt run` first")
    with duckdb.connect(str(database), read_only=True) as con:
        con.execute("set threads = 2")
        started = time.perf_counter()
        for model in VALUE_MODELS:
            con.execute(f"create temp table {model} as {compiled[model].read_text()}")
        return time.perf_counter() - started


def pandas_peer(database: Path) -> tuple[float, int]:
    """Seconds of the pandas + lifetimes way on the warehouse's orders (net revenue per
    order, the orders int_person_purchase_days is built from): lifetimes'
    summary_data_from_transaction_data (frequency, recency, T, monetary_value, freq='D')
    plus R / F / M quintile scores with pandas qcut and the segment code. Reading the
    orders from DuckDB is not counted."""
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    with duckdb.connect(str(database), read_only=True) as con:
        orders = con.sql("select person_id, order_date, net_revenue from "
                         "intermediate.int_orders where person_id is not null").df()
        as_of = con.sql("select as_of_date from intermediate.int_as_of_date").fetchall()[0][0]
    started = time.perf_counter()
    summary = summary_data_from_transaction_data(
        orders, "person_id", "order_date", monetary_value_col="net_revenue",
        observation_period_end=pd.Timestamp(as_of), freq="D")
    recency_days = summary["T"] - summary["recency"]
    scores = pd.DataFrame({
        "r": pd.qcut(recency_days.rank(method="first"), 5, labels=[5, 4, 3, 2, 1]),
        "f": pd.qcut(summary["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]),
        "m": pd.qcut(summary["monetary_value"].rank(method="first"), 5,
                     labels=[1, 2, 3, 4, 5]),
    }, index=summary.index)
    scores["rfm_code"] = (scores["r"].astype(str) + scores["f"].astype(str)
                          + scores["m"].astype(str))
    return time.perf_counter() - started, len(orders)


_NODE_LINE = re.compile(
    r"\d+ of \d+ (?P<status>OK created sql \w+ model|OK loaded seed file|PASS|WARN \d*|"
    r"FAIL \d*) (?P<name>[\w.:]+) .*? in (?P<seconds>[\d.]+)s\]")


def node_seconds(dbt_log: Path) -> list[tuple[float, str, str]]:
    """(seconds, model|test|seed, name) of every node dbt finished, from its log."""
    nodes = []
    for line in dbt_log.read_text(errors="replace").splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        match = _NODE_LINE.search(line)
        if match:
            status = match["status"]
            kind = "model" if "model" in status else "seed" if "seed" in status else "test"
            nodes.append((float(match["seconds"]), kind, match["name"]))
    return sorted(nodes, reverse=True)


def explain_analyze(database: Path, compiled_sql: str, temp_dir: Path) -> list[tuple[float, str]]:
    """(seconds, operator) of the most expensive operators when DuckDB runs the model's
    compiled SQL (as CREATE TEMP TABLE, so every column is computed) against the built
    file, attached read-only."""
    profile = temp_dir / "profile.json"
    temp_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"set temp_directory = '{temp_dir}'")
        con.execute("set threads = 2")
        con.execute(f"attach '{database}' as {database.stem} (read_only)")
        con.execute(f"use {database.stem}")
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{profile}'")
        con.execute(f"create temp table profiled as {compiled_sql}")
        con.execute("pragma disable_profiling")
    operators: list[tuple[float, str]] = []

    def walk(node: dict) -> None:  # DuckDB 2.0 JSON profile: operator tree
        name = node.get("type") or node.get("operator_type") or ""
        timing = float(node.get("timing", node.get("operator_timing")) or 0.0)
        if name:
            info = node.get("extra_info") or {}
            detail = info.get("Function") or info.get("Join Type") or info.get("Table") or ""
            rows = node.get("intermediate_rows", node.get("operator_cardinality"))
            operators.append((timing, " ".join(str(part) for part in (
                name, detail, f"({rows:,} rows out)" if rows else "") if part)))
        for child in node.get("children", []):
            walk(child)

    profiled = json.loads(profile.read_text())
    for root_operator in profiled.get("operator", profiled.get("children", [])):
        walk(root_operator)
    return sorted(operators, reverse=True)[:6]


def profile_build(root: Path, phase: str, top: int = 12, explain: int = 0) -> str:
    """Markdown: the slowest dbt nodes of a bench build, and (explain > 0) the DuckDB
    operator profile of its slowest models, from their compiled SQL."""
    nodes = node_seconds(root / "logs" / "dbt.log")
    total = {kind: sum(n[0] for n in nodes if n[1] == kind) for kind in ("model", "test", "seed")}
    lines = [f"#### {root.name} — {phase}", "",
             f"dbt node seconds (sum over 2 threads): models {total['model']:.1f}, tests "
             f"{total['test']:.1f} ({sum(1 for n in nodes if n[1] == 'test')} tests), seeds "
             f"{total['seed']:.1f}.", "", "| seconds | node |", "|---:|---|"]
    lines += [f"| {seconds:.2f} | {kind} `{name}` |" for seconds, kind, name in nodes[:top]]
    slowest_models = [n for n in nodes if n[1] == "model"][:explain]
    for seconds, _, name in slowest_models:
        model = name.split(".")[-1]
        compiled = next((root / "target" / "compiled").rglob(f"{model}.sql"), None)
        if compiled is None:
            continue
        try:
            operators = explain_analyze(root / "build.duckdb", compiled.read_text(),
                                        root / "tmp" / "profile")
        except duckdb.Error as error:  # e.g. a model that reads itself ({{ this }})
            lines += ["", f"`{name}`: not profiled ({str(error).splitlines()[0]})"]
            continue
        lines += ["", f"EXPLAIN ANALYZE `{name}` ({seconds:.1f} s in the build), top operators:",
                  ""]
        lines += [f"- {timing:.2f} s {operator}" for timing, operator in operators]
    return "\n".join(lines) + "\n"


def bench_scale(label: str, events: int, work: Path, env_base: dict[str, str]) -> ScaleResult:
    root = work / label
    shutil.rmtree(root, ignore_errors=True)  # a fresh warehouse (and gate history) per run
    root.mkdir(parents=True)
    env = scale_env(root, env_base)
    print(f"[{label}] data", flush=True)
    history, hour, new_day = prepare_data(events, work / f"{label}-data", env)
    landing = root / "landing"
    shutil.copytree(history, landing)

    print(f"[{label}] floor", flush=True)
    floor_s, landing_rows = floor_query(landing)
    print(f"[{label}] full build", flush=True)
    full_s, full_rss = _run([_lw(), "build", "--landing", str(landing), "--no-sample",
                             "--full-refresh"], root / "full.log", env)
    with duckdb.connect(str(root / "build.duckdb"), read_only=True) as con:
        persons = con.sql("select count(*) from identity.int_persons").fetchall()[0][0]
    profiles = [profile_build(root, "full build", explain=2 if events >= 10_000_000 else 0)]
    (root / "logs" / "dbt.log").rename(root / "logs" / "dbt-full.log")

    print(f"[{label}] micro-batch (one hour)", flush=True)
    micro_batch_rows = _count_rows(hour)
    shutil.copytree(hour, landing, dirs_exist_ok=True)
    micro_batch_s, _ = _run([_lw(), "build", "--landing", str(landing), "--no-sample"],
                            root / "micro_batch.log", env)
    profiles.append(profile_build(root, "micro-batch"))
    (root / "logs" / "dbt.log").rename(root / "logs" / "dbt-micro-batch.log")

    print(f"[{label}] incremental day", flush=True)
    increment_rows = _count_rows(new_day)
    shutil.copytree(new_day, landing, dirs_exist_ok=True)
    incremental_s, incremental_rss = _run([_lw(), "build", "--landing", str(landing),
                                           "--no-sample"], root / "incremental.log", env)
    profiles.append(profile_build(root, "incremental day"))
    (root / "profile.md").write_text("\n".join(profiles))

    print(f"[{label}] RFM + value metrics vs pandas", flush=True)
    value_s, value_sql_s, pandas_s, orders = rfm_vs_pandas(root, env)
    print(f"[{label}] audience changes + export of every audience", flush=True)
    changes_s, change_rows, export_s, exported_rows = activation_seconds(root)
    return ScaleResult(scale=label, events=events, landing_rows=landing_rows, persons=persons,
                       floor_s=floor_s, full_s=full_s, full_peak_rss_gb=full_rss,
                       incremental_s=incremental_s, incremental_peak_rss_gb=incremental_rss,
                       increment_rows=increment_rows, value_rfm_s=value_s, pandas_s=pandas_s,
                       orders=orders, profile=(root / "profile.md").read_text(),
                       value_rfm_sql_s=value_sql_s, changes_s=changes_s,
                       change_rows=change_rows, export_s=export_s, exported_rows=exported_rows,
                       micro_batch_s=micro_batch_s, micro_batch_rows=micro_batch_rows)


def activation_seconds(root: Path) -> tuple[float, int, float, int]:
    """(seconds, rows) of the audience change table and of a file export of every audience.

    The change table is recomputed, as publishing does, on a copy of the served file (the
    incremental day) against the version the full build published; the export writes
    every audience's members as CSV and JSON lines (`lw export`, a file destination of
    audiences "*"), the largest file export there is.
    """
    from lifecycle_warehouse.activation.audiences import write_audience_changes
    from lifecycle_warehouse.activation.export import ExportConfig, export_all
    from lifecycle_warehouse.pipeline.publish import list_versions

    serving = root / "serving.duckdb"
    served, previous = sorted(list_versions(serving), key=lambda v: v.build_id)[-2:][::-1]
    copy = root / "activation-copy.duckdb"
    shutil.copyfile(serving, copy)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{copy}' AS pub")
        as_of = con.execute("SELECT as_of_date FROM pub.meta.publish_info").fetchone()[0]
        started = time.perf_counter()
        change_rows = write_audience_changes(con, "pub", build_id=served.build_id,
                                             as_of_date=as_of, previous_serving=previous.path)
        changes_s = time.perf_counter() - started
    finally:
        con.close()
        copy.unlink(missing_ok=True)
    config = ExportConfig.model_validate({"destinations": [{
        "name": "bench_every_audience", "type": "file", "audiences": ["*"],
        "what": "members", "channel": "none", "dir": str(root / "exports"),
        "formats": ["csv", "jsonl"]}]})
    summary = export_all(serving, config, ledger_dir=root / "exports", progress=lambda _: None)
    if not summary.ok:
        raise RuntimeError(f"the benchmark's export failed: {summary.errors}")
    return changes_s, change_rows or 0, summary.seconds, summary.rows


def scale_env(root: Path, env_base: dict[str, str]) -> dict[str, str]:
    """The environment of one scale's own warehouse under root."""
    return {**env_base,
            "LW_DUCKDB_PATH": str(root / "build.duckdb"),
            "LW_SERVING_PATH": str(root / "serving.duckdb"),
            "LW_GX_DOCS_DIR": str(root / "gx_docs"),
            "LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs")}


def rfm_vs_pandas(root: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """(dbt node seconds, SQL-only seconds, pandas seconds, orders) on root's build."""
    value_s = value_models_seconds(env, root / "value_models.log")
    value_sql_s = value_models_sql_seconds(root / "build.duckdb", Path(env["DBT_TARGET_PATH"]))
    pandas_s, orders = pandas_peer(root / "build.duckdb")
    return value_s, value_sql_s, pandas_s, orders


def remeasure_rfm(work: Path, out: Path, command: str) -> list[ScaleResult]:
    """Measures the RFM step again on the builds a previous run kept under work/<scale>
    and rewrites the results (every other figure stays as measured by that run)."""
    previous = json.loads(out.with_suffix(".json").read_text())
    names = {f.name for f in fields(ScaleResult)}
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    results = []
    for saved in previous:
        result = ScaleResult(**{k: v for k, v in saved.items() if k in names})
        root = work / result.scale
        if not (root / "build.duckdb").is_file():
            raise RuntimeError(f"no kept build at {root}/build.duckdb: run `lw bench` first")
        print(f"[{result.scale}] RFM + value metrics vs pandas", flush=True)
        (result.value_rfm_s, result.value_rfm_sql_s, result.pandas_s,
         result.orders) = rfm_vs_pandas(root, scale_env(root, env))
        results.append(result)
    scales = ",".join(r.scale for r in results)
    write_results(results, out, f"lw bench --events {scales}`, the RFM step re-measured on its "
                  f"kept builds by `{command}")
    write_chart(results, out.with_suffix(".png"))
    return results


def machine() -> str:
    import psutil

    memory = psutil.virtual_memory().total / 1024 ** 3
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{memory:.0f} GB RAM, {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}, DuckDB {duckdb.__version__}")


def write_results(results: list[ScaleResult], out: Path, command: str) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Run: `{command}` on {datetime.now():%Y-%m-%d %H:%M}.",
        "Wall times from the run itself (seconds). *floor*: one DuckDB query reading every "
        "landing row once, grouped by user identifier; *full*: `lw build --full-refresh` "
        "(seeds, 3 gated layers with dbt tests and Great Expectations, publish); "
        "*micro-batch*: one hour of loading (the hour before the new day) landed, then "
        "`lw build` (triggers and stages published); "
        "*incremental*: one new load day landed, then `lw build`; *RFM+value*: dbt execution "
        "time of int_person_purchase_days + int_person_value_metrics + fct_rfm (`dbt run` on "
        "the built file, node times summed); *SQL*: the same three models' compiled SQL alone "
        "(temporary tables on a read-only connection, no dbt materialization); *pandas*: "
        "lifetimes `summary_data_from_transaction_data` + pandas qcut R/F/M scoring on the "
        "same orders; *changes*: the audience change table of the incremental day's publish "
        "(recomputed on a copy of the served file); *export*: `lw export` of every "
        "audience's members to CSV and JSON lines; *% of full*: both over the full build. "
        "Targets (issue 6): full ≤ 300 s and ≤ 8 GB at 100M, incremental ≤ 10 % "
        "of full, full ≤ 20× floor, RFM ≥ 20× faster than pandas; (issue 17) changes + "
        "export ≤ 10 % of the build at 10M; (issue 16) micro-batch ≤ 30 s at 100M, "
        "incremental day at 100M ÷ at 10M ≤ 2.",
        "",
        "| scale | landing rows | persons | floor s | full s | ratio to floor | peak RSS GB "
        "| hour rows | micro-batch s | new-day rows | incremental s | % of full | orders "
        "| RFM+value s | SQL s | pandas s "
        "| speed-up (dbt / SQL) | change rows | changes s | exported rows | export s "
        "| % of full |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        "---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.scale} | {r.landing_rows:,} | {r.persons:,} | {r.floor_s:.1f} | "
            f"{r.full_s:.1f} | {r.ratio_to_floor:.1f}× | {r.full_peak_rss_gb:.2f} | "
            f"{r.micro_batch_rows:,} | {r.micro_batch_s:.1f} | "
            f"{r.increment_rows:,} | {r.incremental_s:.1f} | {r.incremental_share:.0%} | "
            f"{r.orders:,} | {r.value_rfm_s:.2f} | {r.value_rfm_sql_s:.2f} | {r.pandas_s:.2f} | "
            f"{r.speedup:.1f}× / {r.sql_speedup:.1f}× | {r.change_rows:,} | {r.changes_s:.2f} | "
            f"{r.exported_rows:,} | {r.export_s:.2f} | {r.activation_share:.1%} |")
    lines += [""] + growth_lines(results)
    lines += ["", "![time vs scale](results.png)", "", "## Where the time goes", "",
              "Slowest dbt nodes per build (from dbt's log) and, at 10M and above, DuckDB's "
              "operator profile (EXPLAIN ANALYZE) of the two slowest models of the full "
              "build.", ""]
    for r in results:
        profile = out.parent / "data" / r.scale / "profile.md"
        if r.profile:
            lines.append(r.profile)
        elif profile.exists():
            lines.append(profile.read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    (out.with_suffix(".json")).write_text(json.dumps(
        [{**asdict(r), "ratio_to_floor": r.ratio_to_floor,
          "incremental_share": r.incremental_share, "speedup": r.speedup,
          "sql_speedup": r.sql_speedup, "activation_share": r.activation_share}
         for r in results],
        indent=1))


def growth_lines(results: list[ScaleResult]) -> list[str]:
    """Growth with history: the incremental day's time at each scale over the scale
    before it (issue 16's target: ≤ 2 from 10M to 100M, ten times the history)."""
    lines = []
    for smaller, larger in zip(results, results[1:], strict=False):
        if not (smaller.incremental_s and smaller.micro_batch_s):
            continue
        lines.append(
            f"Growth with history, {smaller.scale} → {larger.scale} "
            f"({larger.events / smaller.events:.0f}× the events): incremental day "
            f"{larger.incremental_s / smaller.incremental_s:.1f}×, micro-batch "
            f"{larger.micro_batch_s / smaller.micro_batch_s:.1f}×.")
    return lines


def write_chart(results: list[ScaleResult], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = [r.events for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for values, label, style in (
        ([r.full_s for r in results], "full gated build", "o-"),
        ([r.incremental_s for r in results], "incremental day", "s-"),
        ([r.micro_batch_s for r in results], "micro-batch (one hour)", "v-"),
        ([r.floor_s for r in results], "floor (read + group once)", "^--"),
        ([r.pandas_s for r in results], "pandas + lifetimes RFM", "x:"),
        ([r.value_rfm_s for r in results], "warehouse RFM + value models (dbt)", "d:"),
        ([r.value_rfm_sql_s for r in results], "warehouse RFM + value SQL alone", "+:"),
    ):
        ax.plot(events, values, style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("landing events")
    ax.set_ylabel("seconds")
    ax.set_title(f"Lifecycle Warehouse benchmark ({os.cpu_count()} cores)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)


def run_bench(scales: list[str], work: Path, out: Path, command: str) -> list[ScaleResult]:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    results = []
    for label in scales:
        result = bench_scale(label, parse_scale(label), work, env)
        print(f"[{label}] full {result.full_s:.1f} s ({result.ratio_to_floor:.1f}× floor "
              f"{result.floor_s:.1f} s), incremental {result.incremental_s:.1f} s "
              f"({result.incremental_share:.0%}), micro-batch "
              f"{result.micro_batch_s:.1f} s, RFM {result.speedup:.1f}× pandas", flush=True)
        results.append(result)
        write_results(results, out, command)
        write_chart(results, out.with_suffix(".png"))
    return results
