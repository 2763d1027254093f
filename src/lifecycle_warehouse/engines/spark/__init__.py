"""Apache Spark (dbt-spark): build (build and compare marts with DuckDB) and session (dbt
with the session connection).
"""
