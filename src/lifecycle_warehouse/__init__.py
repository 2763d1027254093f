"""Lifecycle Warehouse tooling: the `lw` CLI and the Python the dbt project runs.

Where things are: docs/python_package.md (one line per subpackage and module).
"""

__version__ = '0.1.0'
