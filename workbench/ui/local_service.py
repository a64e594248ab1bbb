"""The embedded local model as the GUI sees it: started on demand, off the event loop."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Signal

from workbench.core.profiles import EndpointProfile
from workbench.local.models import LocalModelError
from workbench.local.prompts import local_profile
from workbench.local.server import LocalServer, ServerSettings, server_available


class LocalModelService(QObject):
    status_changed = Signal(str)

    def __init__(self, settings: ServerSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or ServerSettings()
        self.server: LocalServer | None = None
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

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
            self._set("stopped")
