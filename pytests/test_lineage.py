"""Lineage is visible in the model files: no macro hides a parent.

`dbt parse` (into a private target path; the demo, and the examples/my_shop declaration,
which enables the declared base models) gives each model's parents as dbt resolved them
(manifest depends_on); every one of them must be written in the model's own file:
`ref('x')` (dbt.ref("x") in a Python model), `source('a', 'b')`, or
`lw_landing_rows('a', 'b')`, the generic reader of one landing source (its job is reading
the source with the landing contract's dialect, so the source it reads is its argument).
A ref written in a file but absent from the manifest is fine: it sits in a branch of a
source that this build does not enable.

Excepted, by name: the landing audit models, which loop over every enabled landing source
(lw_landing_tables()) and so cannot name them (DECISIONLOG "Lineage in model files").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle_warehouse.pipeline.project import PROFILES_DIR, PROJECT_ROOT
from lifecycle_warehouse.pipeline.sources import preflight

DBT = Path(sys.executable).parent / "dbt"
LOOPS_OVER_EVERY_LANDING_SOURCE = {"stg_landing__row_counts", "stg_landing__quarantined_rows"}

_REF = re.compile(r"""\bref\(\s*['"]([^'"]+)['"]\s*\)""")
_SOURCE = re.compile(
    r"""\b(?:source|lw_landing_rows)\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]""")


def written_parents(text: str) -> tuple[set[str], set[str]]:
    """The refs and sources ('a.b') written in a model file."""
    return set(_REF.findall(text)), {f"{a}.{b}" for a, b in _SOURCE.findall(text)}


def hidden_parents(node: dict, text: str) -> list[str]:
    """Parents in the manifest that the model's file does not name."""
    refs, sources = written_parents(text)
    hidden = []
    for parent in node["depends_on"]["nodes"]:
        kind, *_, name = parent.split(".")
        if kind in ("model", "seed", "snapshot") and name not in refs:
            hidden.append(parent)
        elif kind == "source" and ".".join(parent.split(".")[-2:]) not in sources:
            hidden.append(parent)
    return hidden


@pytest.fixture(scope="module", params=["demo", "examples/my_shop/sources.yml"])
def manifest(request, tmp_path_factory) -> dict:
    """The demo build's manifest, and a declared build's (my_shop: declared event,
    transaction and profile sources, an e164 phone type), whose base models are enabled."""
    target = tmp_path_factory.mktemp("lineage_target")
    declared = []
    if request.param != "demo":
        declared = ["--vars", json.dumps(preflight(PROJECT_ROOT / request.param))]
    result = subprocess.run(
        [str(DBT), "parse", "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROFILES_DIR),
         "--target-path", str(target), "--log-path", str(target), "--no-partial-parse", *declared],
        capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
             "DO_NOT_TRACK": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((target / "manifest.json").read_text())


def test_every_parent_of_a_model_is_named_in_its_file(manifest):
    hidden, checked = {}, 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["package_name"] != "lifecycle_warehouse":
            continue
        if node["name"] in LOOPS_OVER_EVERY_LANDING_SOURCE:
            continue
        checked += 1
        text = (PROJECT_ROOT / node["original_file_path"]).read_text(encoding="utf-8")
        if missing := hidden_parents(node, text):
            hidden[node["name"]] = missing
    assert not hidden, (
        "parents that a macro brings in and the model file does not name (pass the relation "
        f"to the macro from an import CTE of the model instead): {hidden}")
    assert checked > 50  # the enabled models of the build


def test_the_lifecycle_models_name_all_their_parents(manifest):
    """The models whose macros used to ref() their inputs: the manifest's parents are the
    import CTEs written at the top of each file."""
    expected = {
        "int_person_activity_metrics": {"int_lifecycle_snapshot_dates", "int_persons",
                                        "int_person_days", "int_lifecycle_thresholds"},
        "int_person_value_metrics": {"int_lifecycle_snapshot_dates", "int_orders", "int_persons",
                                     "int_person_purchase_days"},
        "int_person_snapshot_metrics": {"int_lifecycle_snapshot_dates", "int_persons",
                                        "int_person_days", "int_lifecycle_thresholds",
                                        "int_orders", "int_person_purchase_days"},
        "int_lifecycle_stages": {"int_person_snapshot_metrics", "int_lifecycle_thresholds",
                                 "int_person_contactability", "int_person_referrals"},
    }
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name, parents in expected.items():
        assert {p.split(".")[-1] for p in nodes[name]["depends_on"]["nodes"]} == parents, name
        text = (PROJECT_ROOT / nodes[name]["original_file_path"]).read_text(encoding="utf-8")
        assert written_parents(text)[0] == parents, name


def test_the_check_finds_a_parent_a_macro_hides():
    node = {"depends_on": {"nodes": ["model.lifecycle_warehouse.int_persons",
                                     "model.lifecycle_warehouse.int_person_days",
                                     "source.lifecycle_warehouse.crm.customers"]}}
    text = "with persons as (select * from {{ ref('int_persons') }}) {{ my_macro() }}"
    assert hidden_parents(node, text) == ["model.lifecycle_warehouse.int_person_days",
                                          "source.lifecycle_warehouse.crm.customers"]
    assert hidden_parents(node, text + " {{ ref('int_person_days') }} "
                                       "{{ lw_landing_rows('crm', 'customers') }}") == []
