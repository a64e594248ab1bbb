"""llama.cpp servers for the locally fine-tuned models a run uses (one server per model file)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from workbench.core.endpoints.profiles import EndpointProfile
from workbench.local.server import LocalServer, ServerSettings


def start_for(profile: EndpointProfile) -> tuple[LocalServer, EndpointProfile]:
    """Start a server for ``profile.local_file``; returns it and the profile pointing at it."""
    assert profile.local_file is not None
    server = LocalServer(ServerSettings(file=profile.local_file, alias=profile.model))
    server.start()
    server.watch()
    return server, replace(profile, base_url=server.base_url)


@contextlib.contextmanager
def served(profiles: dict[str, EndpointProfile], names: set[str]) -> Iterator[dict[str, EndpointProfile]]:
    """``profiles`` with every named local-file profile served for the duration."""
    servers: list[LocalServer] = []
    out = dict(profiles)
    try:
        for name in sorted(names):
            profile = profiles.get(name)
            if profile is not None and profile.local_file:
                server, out[name] = start_for(profile)
                servers.append(server)
        yield out
    finally:
        for server in servers:
            server.stop()
