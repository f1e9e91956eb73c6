"""``python -m tinygrad_edu``: the same command line as ``tinygrad-edu``."""

import sys

from tinygrad_edu.cli import main

if __name__ == "__main__":
    sys.exit(main())
