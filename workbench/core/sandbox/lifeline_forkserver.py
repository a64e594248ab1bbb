"""Imported by the multiprocessing forkserver at its start (``set_forkserver_preload``): it ends with its parent.

The forkserver is started by the process that first needs a worker; it is tied to that
process here so that it cannot outlive it, SIGKILL included. Imported anywhere else, it
does nothing.
"""

from __future__ import annotations

import os
import sys

from workbench.core.sandbox.lifeline import exit_with

if "multiprocessing.forkserver" in " ".join(getattr(sys, "orig_argv", [])):
    exit_with(os.getppid())
