"""The source layer's boundary: identity, intermediate models and marts read sources only
through the canonical contract (models/staging/contract/), with one body per model.

A static read of the model files (no dbt run): a model downstream of staging that refers
to a source's own staging or base model, reads a source directly, or branches on which
data set is built would make the project depend on data shaped like one source again.
"""

from __future__ import annotations

import re

import yaml

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

MODELS = PROJECT_ROOT / "models"
DOWNSTREAM = ("intermediate", "marts", "semantic")  # intermediate/ holds identity/
CONTRACT = {"stg_contract__events", "stg_contract__orders", "stg_contract__identifier_observations",
            "stg_contract__identifier_links", "stg_contract__customer_profiles"}
REF = re.compile(r"""ref\(\s*['"]([a-z0-9_]+)['"]\s*\)""")


def _downstream_sql():
    for folder in DOWNSTREAM:
        yield from sorted((MODELS / folder).rglob("*.sql"))
        yield from sorted((MODELS / folder).rglob("*.py"))


def test_downstream_models_read_only_the_contract():
    offenders = {}
    for path in _downstream_sql():
        text = path.read_text()
        staged = {name for name in REF.findall(text)
                  if name.startswith(("stg_", "base_")) and name not in CONTRACT}
        if staged or "source(" in text:
            offenders[str(path.relative_to(PROJECT_ROOT))] = sorted(staged) or ["source()"]
    assert offenders == {}


def test_no_model_branches_on_a_data_set():
    branching = [str(path.relative_to(PROJECT_ROOT)) for path in MODELS.rglob("*.sql")
                 if "var('dataset')" in path.read_text() or 'var("dataset")' in path.read_text()]
    assert branching == []
    assert "dataset" not in yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]


def test_the_contract_views_are_enforced_and_documented():
    spec = yaml.safe_load((MODELS / "staging" / "contract" / "_contract__models.yml").read_text())
    documented = {model["name"]: model for model in spec["models"]}
    assert set(documented) == CONTRACT
    for name, model in documented.items():
        assert (MODELS / "staging" / "contract" / f"{name}.sql").is_file(), name
        assert model["description"].strip(), name
        assert all(column.get("data_type") for column in model["columns"]), name
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    contract = project["models"]["lifecycle_warehouse"]["staging"]["contract"]
    assert contract["+contract"] == {"enforced": True}
