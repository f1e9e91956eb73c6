"""``python -m tinygrad_edu.exercises._runner ID PATH OUT``: check a file in a process of its own."""

import sys

from tinygrad_edu.exercises._kit import run_file

if __name__ == "__main__":
    run_file(sys.argv[1], sys.argv[2], sys.argv[3])
