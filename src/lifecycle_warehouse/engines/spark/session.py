"""Python models on dbt-spark's `session` method (the local `spark` target).

dbt-spark runs Python models only on Databricks (job or all-purpose clusters). With
`method: session` the SparkSession already lives in the dbt process, so a Python model
can simply run there: `install()` adds a `session` submission method that executes the
compiled model code (the model, dbt's ref/source helpers and its write-back) with that
session, and makes it the default when the profile uses the session method. Installed
by `lw spark-build`; `python -m lifecycle_warehouse.engines.spark.session <dbt args>` runs any
dbt command with it.
"""

from __future__ import annotations

from typing import Any


class SessionPythonJobHelper:
    """Executes a compiled dbt Python model with the dbt process's own SparkSession."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.model_name = parsed_model.get("alias") or parsed_model.get("name")

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        namespace = {"spark": spark, "__name__": f"dbt_python_model_{self.model_name}"}
        exec(compile(compiled_code, f"<dbt python model {self.model_name}>", "exec"),
             namespace)


def install() -> bool:
    """Registers the `session` submission method on dbt-spark; False if not installed."""
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:
        return False
    if getattr(SparkAdapter, "_lw_session_python", False):
        return True
    helpers = SparkAdapter.python_submission_helpers.fget
    default_method = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self):
        return {**helpers(self), "session": SessionPythonJobHelper}

    def default_python_submission_method(self):
        if getattr(self.config.credentials, "method", None) == "session":
            return "session"
        return default_method(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    SparkAdapter._lw_session_python = True
    return True


def main(argv: list[str] | None = None) -> int:
    """`python -m lifecycle_warehouse.engines.spark.session <dbt args>`: dbt with `session`
    installed."""
    import sys

    from dbt.cli.main import dbtRunner

    install()
    outcome = dbtRunner().invoke(list(sys.argv[1:] if argv is None else argv))
    return 0 if outcome.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
