"""The `lw` command line: `app` (parser and entry point) and one module per subcommand.

`main` is re-exported for installs whose `lw` script still names the entry point
`lifecycle_warehouse.cli:main` (editable installs made before the package moved to src/).
"""

from lifecycle_warehouse.cli.app import main

__all__ = ["main"]
