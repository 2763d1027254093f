"""The project on engines other than DuckDB."""
