"""The embedded local model as the GUI sees it: started on demand, off the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from workbench.core.endpoints.profiles import EndpointProfile
from workbench.local.models import LocalModelError
from workbench.local.prompts import local_profile
from workbench.local.server import LocalServer, ServerSettings, server_available
from workbench.local.serving import start_for


class LocalModelService(QObject):
    status_changed = Signal(str)

    def __init__(self, settings: ServerSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or ServerSettings()
        self.server: LocalServer | None = None
        self.file_servers: dict[str, LocalServer] = {}  # fine-tuned models' GGUF path -> server
        self._starting: asyncio.Task[EndpointProfile] | None = None
        self.status = "not started (starts with the first run that needs it)"
        if not server_available():
            self.status = "not installed (install workbench with its 'local' extra)"

    def _set(self, status: str) -> None:
        self.status = status
        self.status_changed.emit(status)

    @property
    def profile(self) -> EndpointProfile | None:
        if self.server is None or not self.server.alive():
            return None
        return local_profile(self.server.base_url, self.server.model.alias)

    async def ensure(self) -> EndpointProfile:
        """The running server's profile; starts it (in a thread) when needed. Raises LocalModelError."""
        profile = self.profile
        if profile is not None:
            return profile
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._start())
        return await asyncio.shield(self._starting)

    async def _start(self) -> EndpointProfile:
        server = self.server or LocalServer(self.settings)
        self._set(f"starting {server.model.alias} …")
        try:
            await asyncio.to_thread(server.start)
        except LocalModelError as exc:
            self._set(f"failed to start: {exc}")
            raise
        self.server = server
        server.watch()
        self._set(f"{server.model.alias} running at {server.base_url} ({server.threads} thread(s))")
        return local_profile(server.base_url, server.model.alias)

    async def ensure_file(self, profile: EndpointProfile) -> EndpointProfile:
        """A server for a locally fine-tuned model's GGUF (started in a thread, kept until stop)."""
        assert profile.local_file is not None
        server = self.file_servers.get(profile.local_file)
        if server is None or not server.alive():
            self._set(f"starting {profile.model} …")
            server, _ = await asyncio.to_thread(start_for, profile)
            self.file_servers[profile.local_file] = server
            self._set(f"{profile.model} running at {server.base_url}")
        return replace(profile, base_url=server.base_url)

    def stop(self) -> None:
        for server in self.file_servers.values():
            server.stop()
        self.file_servers.clear()
        if self.server is not None:
            self.server.stop()
            self.server = None
            self._set("stopped")
