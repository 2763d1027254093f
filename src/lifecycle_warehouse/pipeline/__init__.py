"""The build pipeline: paths (project), the dbt runner, the gated build, its gates, locks,
landing checks, sources files and the publish of the serving file.
"""
