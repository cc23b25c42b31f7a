"""``python -m archcost``."""

import sys

from archcost.cli import main

if __name__ == "__main__":
    sys.exit(main())
