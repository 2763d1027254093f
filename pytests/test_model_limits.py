"""Every model within the limits of model_limits.yml (dbt-project-evaluator's): at most
200 lines and 7 direct parents, named with its folder's prefix, marts grouped in theme
folders with one YAML each.

Parse only (no build, about 30 s): `dbt parse` into a temporary target path, with every
source kind on, the six demo sources and the transaction, event and profile sources of
examples/my_shop, so each model has the most parents any build can give it. A model over
a limit is split (one model per source or per rule, then a union) or, with the reason,
listed under exceptions in model_limits.yml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.sources import DEMO_SOURCES, preflight

LIMITS = yaml.safe_load((PROJECT_ROOT / "model_limits.yml").read_text())
EXCEPTIONS = {(entry["model"], entry["rule"]): entry for entry in LIMITS["exceptions"]}
EVERY_SOURCE_KIND = PROJECT_ROOT / "examples" / "my_shop" / "sources.yml"
MARTS = PROJECT_ROOT / "models" / "marts"
PARENT_TYPES = ("model", "source", "seed", "snapshot")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, dict]:
    """name → {path, lines, parents} of every model of the parse with every source kind."""
    root = tmp_path_factory.mktemp("model_limits")
    dbt_vars = {**preflight(EVERY_SOURCE_KIND), "demo_sources": list(DEMO_SOURCES)}
    env = {key: value for key, value in os.environ.items()
           if key not in {"DBT_TARGET_PATH", "DBT_PROJECT_DIR", "DBT_PROFILES_DIR"}}
    env.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
                "DBT_LOG_PATH": str(root / "logs")})
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--no-partial-parse",
         "--target-path", str(root / "target"), "--profiles-dir",
         str(PROJECT_ROOT / "profiles"), "--vars", json.dumps(dbt_vars)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    return {
        node["name"]: {
            "path": node["original_file_path"],
            "lines": len(node["raw_code"].splitlines()),
            "parents": sorted(uid for uid in node["depends_on"]["nodes"]
                              if uid.split(".")[0] in PARENT_TYPES),
        }
        for node in manifest["nodes"].values() if node["resource_type"] == "model"
    }


def _allowed(name: str, rule: str) -> int:
    entry = EXCEPTIONS.get((name, rule))
    return entry[rule] if entry else LIMITS[rule]


def test_every_source_kind_is_parsed(models):
    # the parse really has every source on (else the parent counts below prove little)
    assert {"stg_contract__web_events", "stg_contract__crm_events",
            "stg_contract__transactions_events", "stg_contract__declared_events",
            "stg_contract__declared_profile_events"} <= set(models)


def test_no_model_is_longer_than_the_limit(models):
    too_long = {name: f"{model['path']}: {model['lines']} lines"
                for name, model in sorted(models.items())
                if model["lines"] > _allowed(name, "max_lines")}
    assert too_long == {}, (
        f"models over {LIMITS['max_lines']} lines: {too_long}. Fix: split the model (one "
        "model per source or per rule, then a union), or list it with the reason under "
        "exceptions in model_limits.yml")


def test_no_model_has_more_parents_than_the_limit(models):
    too_many = {name: f"{model['path']}: {len(model['parents'])} parents "
                      f"({', '.join(model['parents'])})"
                for name, model in sorted(models.items())
                if len(model["parents"]) > _allowed(name, "max_parents")}
    assert too_many == {}, (
        f"models with more than {LIMITS['max_parents']} direct parents (refs and sources): "
        f"{too_many}. Fix: move a part that reads some of them into its own model, or list "
        "the model with the reason under exceptions in model_limits.yml")


def test_every_exception_is_needed_and_explained(models):
    stale = []
    for (name, rule), entry in sorted(EXCEPTIONS.items()):
        assert rule in {"max_lines", "max_parents"}, f"model_limits.yml: unknown rule {rule!r}"
        assert str(entry.get("reason", "")).strip(), f"model_limits.yml: {name} has no reason"
        if name not in models:
            stale.append(f"{name}: no such model")
            continue
        measured = (models[name]["lines"] if rule == "max_lines"
                    else len(models[name]["parents"]))
        if measured <= LIMITS[rule]:
            stale.append(f"{name}: {rule} {measured} is within the limit {LIMITS[rule]}")
    assert stale == [], (
        f"model_limits.yml lists exceptions that are no longer needed: {stale}. "
        "Fix: remove them from the exceptions")


def test_every_model_is_named_with_its_folder_prefix(models):
    prefixes = LIMITS["folder_prefixes"]
    misplaced = {}
    for name, model in sorted(models.items()):
        folder = next((folder for folder in prefixes
                       if model["path"].startswith(folder + "/")), None)
        if folder is None:
            misplaced[name] = f"{model['path']}: in no layer folder of model_limits.yml"
        elif not name.startswith(tuple(prefixes[folder])):
            allowed = ", ".join(prefixes[folder])
            misplaced[name] = f"{model['path']}: {folder}/ holds {allowed} models"
    assert misplaced == {}, (
        f"models whose name does not match their folder: {misplaced}. Fix: `git mv` the "
        "file to the folder of its prefix (models/staging: stg_/base_, models/intermediate: "
        "int_, models/marts/<theme>: fct_/dim_/agg_), or rename the model")


def test_marts_are_grouped_in_theme_folders_with_one_yaml_each(models):
    loose = sorted(path.name for path in MARTS.iterdir() if path.is_file())
    assert loose == [], (
        f"files directly in models/marts/: {loose}. Fix: `git mv` each into its theme "
        "folder models/marts/<theme>/")
    problems = {}
    for theme in sorted(path for path in MARTS.iterdir() if path.is_dir()):
        yamls = sorted(path.name for path in theme.glob("*.yml"))
        if yamls != [f"_marts__{theme.name}.yml"]:
            problems[theme.name] = f"YAML files {yamls}, expected [_marts__{theme.name}.yml]"
        elif not any(model["path"].startswith(f"models/marts/{theme.name}/")
                     for model in models.values()):
            problems[theme.name] = "holds no model"
    assert problems == {}, (
        f"marts theme folders not holding exactly one YAML (and their marts): {problems}. "
        "Fix: document the theme's marts in one models/marts/<theme>/_marts__<theme>.yml")
