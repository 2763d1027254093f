"""The Dagster code location: `dagster dev -m lifecycle_warehouse.orchestration.definitions`.

Importing it parses the dbt project when its manifest is stale (see
`lifecycle_warehouse.orchestration.assets`); needs `pip install -e '.[orchestration]'`.
"""

from lifecycle_warehouse.orchestration.assets import build_definitions

defs = build_definitions()
