"""The desktop bundle's entry point: the app, the CLI, or (for the app itself) the local model server."""

from __future__ import annotations

import multiprocessing
import runpy
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # scoring workers start from this same executable
    if len(sys.argv) > 1 and sys.argv[1] == "--llama-server":
        from workbench.local.tied import tie_to_owner

        tie_to_owner()  # it ends with the app that started it
        sys.argv = ["llama_cpp.server", *sys.argv[2:]]
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
    else:
        from workbench.__main__ import main

        sys.exit(main())
