"""The fine-tune backend registry: a job's stored spec, or a CLI/dialog choice, finds its backend object."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.finetune.backends import (
    ApiBackend,
    FineTuneContext,
    FineTuneError,
    backend_named,
    backend_names,
    backend_of,
)
from workbench.core.store import Store
from workbench.local.finetune.backend import LocalBackend

ROOT = Path(__file__).resolve().parents[2]


def test_core_alone_knows_the_api_backend_and_never_imports_local() -> None:
    probe = ("import sys; from workbench.core.finetune import backends; "
             "print(backends.backend_names(), any(m.startswith('workbench.local') for m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['api'] False"


def test_stored_jobs_and_choices_find_their_backends(tmp_path: Path) -> None:
    profiles = ProfileStore(tmp_path / "profiles.json")
    profiles.save({"base": EndpointProfile(name="base", base_url="http://127.0.0.1:9/v1", model="gpt-x",
                                           price_in_per_m=3.0)})  # fmt: skip
    store = Store(tmp_path / "w.sqlite")
    try:
        context = FineTuneContext(store, profiles)
        assert backend_names() == ["api", "local"]  # local registered itself when its module was imported
        api = backend_of({"id": "ftjob-1", "profile": "base", "spec": {"base_model": "gpt-x"}}, context)
        assert isinstance(api, ApiBackend) and api.base_profile({}) == "base"
        assert (api.paid, api.default_base_model, api.price_per_m) == (True, "gpt-x", 3.0)
        local = backend_of({"id": "local-ftjob-1", "profile": "local", "spec": {"backend": "local"}}, context)
        assert isinstance(local, LocalBackend) and local.base_profile({}) == "local" and not local.paid
        assert isinstance(backend_named("local", context), LocalBackend)
        with pytest.raises(FineTuneError, match=r"no fine-tuning backend named 'cloud' \(known: api, local\)"):
            backend_named("cloud", context)
        with pytest.raises(FineTuneError, match="needs --profile"):
            backend_named("api", context)
    finally:
        store.close()
