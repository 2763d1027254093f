"""`python -m lifecycle_warehouse.cli …` is `lw …`."""

import sys

from lifecycle_warehouse.cli.app import main

sys.exit(main())
