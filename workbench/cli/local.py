"""`workbench local start|stop|status`, and the local model behind `workbench run` with no endpoint."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.cli.common import CliError
from workbench.local.models import DEFAULT_MODEL, MODELS, LocalModelError, get
from workbench.local.server import LocalServer, ServerSettings, healthy, read_state, start_detached, stop_detached

if TYPE_CHECKING:  # `workbench local start|stop|status` needs none of these; a run's local variants do
    from workbench.core.data.dataset import Dataset
    from workbench.core.endpoints.profiles import EndpointProfile
    from workbench.core.runs.runner import Variant


@contextlib.contextmanager
def local_variants_for_run(
    dataset: Dataset, store_path: Path, modes: list[str], model: str = DEFAULT_MODEL
) -> Iterator[list[Variant]]:
    """Use the server `workbench local start` left running, or run one for this command only."""
    from workbench.local.prompts import local_profile

    state = read_state()
    try:
        if state is not None and healthy(state.base_url):
            yield _build(dataset, store_path, modes, local_profile(state.base_url, get(state.model).alias))
            return
        with LocalServer(ServerSettings(model=model)) as server:
            server.watch()  # restart it if it dies during the run
            yield _build(dataset, store_path, modes, local_profile(server.base_url, server.model.alias))
    except LocalModelError as exc:
        raise CliError(str(exc)) from None


def _build(dataset: Dataset, store_path: Path, modes: list[str], profile: EndpointProfile) -> list[Variant]:
    from workbench.core.runs.runspec import LOCAL_PROFILE
    from workbench.core.runs.variant_builder import build_variants
    from workbench.core.store import Store
    from workbench.local.prompts import local_specs

    store = Store(store_path)
    try:
        return build_variants(local_specs(store, modes), dataset, store, {LOCAL_PROFILE: profile})
    finally:
        store.close()


def cmd_local(args: argparse.Namespace) -> int:
    try:
        if args.action == "start":
            state = start_detached(ServerSettings(model=args.model, threads=args.threads or 0))
            print(f"local model {state.model!r} serving at {state.base_url} (pid {state.pid}, log {state.log})")
        elif args.action == "stop":
            print("local model server stopped" if stop_detached() else "no local model server was running")
        else:
            state = read_state()
            if state is None:
                print("local model server: not running (workbench local start)")
                return 1
            status = "answering" if healthy(state.base_url) else "not answering"
            print(f"local model {state.model!r} at {state.base_url}: {status} (pid {state.pid}, log {state.log})")
            return 0 if status == "answering" else 1
    except LocalModelError as exc:
        raise CliError(str(exc)) from None
    return 0


def add_arguments(local: argparse.ArgumentParser) -> None:
    local.add_argument("action", choices=("start", "stop", "status"))
    local.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS))
    local.add_argument("--threads", type=int, help="CPU threads (default: cores - 1, at least 1)")
    local.set_defaults(func=cmd_local)
