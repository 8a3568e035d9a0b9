"""`python -m research`: the `flowbt` command line."""

import sys

from research.cli import main

sys.exit(main())
