"""``python -m experiments``: see experiments/cli/entry.py."""
import os
import sys

from experiments.cli.entry import main

try:
    code = main()
except BrokenPipeError:  # output piped into a reader that closed early (e.g. `| head`): not an error
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
sys.exit(code)
