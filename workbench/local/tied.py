"""``python -m workbench.local.tied MODULE ARGS…``: run a module that ends when its owner process ends.

The owner's pid comes in ``WORKBENCH_EXIT_WITH``. The llama.cpp server runs this way, so
it cannot outlive the ``workbench`` process that started it, SIGKILL included, whichever
thread started it (a parent-death signal would follow the thread, not the process).
"""

from __future__ import annotations

import os
import runpy
import sys

from workbench.core.sandbox.lifeline import exit_with

OWNER_VARIABLE = "WORKBENCH_EXIT_WITH"


def tie_to_owner() -> None:
    owner = os.environ.pop(OWNER_VARIABLE, "")
    if owner.isdigit():
        exit_with(int(owner))


def main() -> None:
    tie_to_owner()
    module, args = sys.argv[1], sys.argv[2:]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
