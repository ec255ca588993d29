"""``python -m sim``: the command line."""

import sys

from sim.cli.main import main

sys.exit(main())
