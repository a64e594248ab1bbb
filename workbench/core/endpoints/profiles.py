"""Endpoint profiles: where to send requests, how fast, and at what price.

A profile names its API key by reference (an environment variable, or a keyring entry
under the service ``workbench``), never by value (``connection.resolve_api_key`` finds it).
Profiles persist as JSON in the user's config folder.

A profile's model belongs to a family that decides which parameters it accepts
(``accepted_params``): "reasoning" models (o1, o3, o4, gpt-5…) take ``max_completion_tokens``
instead of ``max_tokens`` and no sampling parameters; "chat" models take them as given. The
family comes from the model name unless the profile's ``family`` says otherwise.

``reuses_prompt_prefix`` says the server keeps the previous request's prompt evaluated and only
evaluates a new one from the first token where they differ (llama.cpp's server, one slot): a
run then asks its items in shared-prefix order (``runs/ask_order.py``).

``batch_queue_tokens`` is how many tokens the organisation may have enqueued in unfinished
batches (the Batch API refuses more with ``token_limit_exceeded``); batch runs stay within it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from workbench.core.data.inputs import InputError, expect, expect_range, read_json, type_name

KEYRING_SERVICE = "workbench"
NO_KEY = "no-key-needed"
FAMILIES = ("chat", "reasoning")
BATCH_QUEUE_TOKENS = 2_000_000  # OpenAI's tier-1 batch queue limit for gpt-4o-mini; other models and tiers differ
_REASONING_MODEL = re.compile(r"^(o1|o3|o4|gpt-5)(?![0-9a-z])")  # o1, o3-mini, o4-mini-2025-04-16, gpt-5.1, …
_SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty")  # refused by reasoning models


class ProfileError(InputError):
    """A profile is malformed, unknown, or its key cannot be found."""


@dataclass
class EndpointProfile:
    name: str
    base_url: str
    model: str
    api_key_env: str | None = None  # environment variable holding the key
    api_key_keyring: bool = False  # or: a keyring entry (service "workbench", user = profile name)
    params: dict[str, Any] = field(default_factory=lambda: {"temperature": 0.0, "max_tokens": 512})
    concurrency: int = 8
    rpm: int | None = None
    tpm: int | None = None
    timeout_s: float = 60.0
    max_attempts: int = 6
    price_in_per_m: float = 0.0  # dollars per million prompt tokens
    price_out_per_m: float = 0.0
    api_version: str | None = None  # Azure-style endpoints: sent as ?api-version=..., key in an api-key header
    api_key_from: str | None = None  # keyring entry of another profile (a fine-tuned model uses its base's key)
    description: str = ""  # e.g. "fine-tuned from gpt-4o-mini (job ftjob-…)"
    local_file: str | None = None  # a GGUF of ours (a locally fine-tuned model), served on demand by llama.cpp
    identity: str | None = None  # stable name of the endpoint for the cache when its URL is not (the local server)
    family: str | None = None  # "chat" or "reasoning" (which parameters the model takes); None: from its name
    batch_queue_tokens: int = BATCH_QUEUE_TOKENS  # the organisation's enqueued-token budget for Batch API runs
    # the server evaluates a prompt only from where it differs from the previous one (llama.cpp, one slot):
    # a run asks items whose prompts share a prefix one after another (runs/ask_order.py)
    reuses_prompt_prefix: bool = False

    @property
    def endpoint_id(self) -> str:
        """What identifies the endpoint in request hashes and variants: the URL, unless an identity is set."""
        return self.identity or self.base_url.rstrip("/")

    @property
    def model_family(self) -> str:
        """The profile's ``family``, else "reasoning" for o1/o3/o4/gpt-5 models (fine-tuned ones too), else "chat"."""
        if self.family:
            return self.family
        name = self.model.removeprefix("ft:").rsplit("/", 1)[-1].lower()
        return "reasoning" if _REASONING_MODEL.match(name) else "chat"

    def accepted_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` as the model's family takes them: for a chat model, unchanged (the same dict's items)."""
        if self.model_family != "reasoning":
            return params
        taken = {k: v for k, v in params.items() if k not in _SAMPLING and k != "max_tokens"}
        if "max_tokens" in params and "max_completion_tokens" not in params:
            taken["max_completion_tokens"] = params["max_tokens"]
        return taken

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in_per_m + completion_tokens * self.price_out_per_m) / 1_000_000

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str = "profile") -> EndpointProfile:
        if not isinstance(data, dict):
            raise ProfileError(f"{where}: expected an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ProfileError(f"{where}: unknown field(s) {', '.join(map(repr, sorted(unknown)))}")
        for key in ("name", "base_url", "model"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ProfileError(f"{where}: field {key!r} is required")
        for key, value in data.items():
            _check_field(key, value, f"{where}: {key}")
        if data.get("family") is not None and data["family"] not in FAMILIES:
            raise ProfileError(f"{where}: family: expected one of {', '.join(FAMILIES)}, got {data['family']!r}")
        return cls(**data)


def check_base_url(url: str, where: str) -> None:
    """An http(s) URL with a host that the HTTP client accepts, or ProfileError saying why not."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ProfileError(f"{where}: expected an http(s) URL, got {url!r} ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ProfileError(f"{where}: expected an http(s) URL with a host, got {url!r}")


# field -> (JSON kind, may be null, lowest allowed, must be above); name, base_url, model are checked first
_FIELDS: dict[str, tuple[str, bool, float | None, float | None]] = {
    "name": ("string", False, None, None),
    "base_url": ("string", False, None, None),
    "model": ("string", False, None, None),
    "api_key_env": ("string", True, None, None),
    "api_key_keyring": ("boolean", False, None, None),
    "params": ("object", False, None, None),
    "concurrency": ("integer", False, 1, None),
    "rpm": ("integer", True, None, 0),
    "tpm": ("integer", True, None, 0),
    "timeout_s": ("number", False, None, 0),
    "max_attempts": ("integer", False, 1, None),
    "price_in_per_m": ("number", False, 0, None),
    "price_out_per_m": ("number", False, 0, None),
    "api_version": ("string", True, None, None),
    "api_key_from": ("string", True, None, None),
    "description": ("string", False, None, None),
    "local_file": ("string", True, None, None),
    "identity": ("string", True, None, None),
    "family": ("string", True, None, None),
    "batch_queue_tokens": ("integer", False, 1, None),
    "reuses_prompt_prefix": ("boolean", False, None, None),
}


def _check_field(key: str, value: Any, where: str) -> None:
    kind, nullable, minimum, above = _FIELDS[key]
    if value is None and nullable:
        return
    expect(value, kind, where, ProfileError)
    if kind in ("integer", "number"):
        expect_range(value, where, ProfileError, minimum=minimum, above=above)


def store_api_key(profile_name: str, key: str) -> None:
    """Put a key in the OS keyring; raises ProfileError (without the key) if there is none."""
    import keyring  # ~0.2 s to import: only when a key is stored
    import keyring.errors

    try:
        keyring.set_password(KEYRING_SERVICE, profile_name, key)
    except keyring.errors.KeyringError as exc:
        raise ProfileError(
            f"cannot store the key for {profile_name!r}: no usable OS keyring ({type(exc).__name__})"
        ) from None


def default_profiles_path() -> Path:
    return Path(user_config_dir("workbench")) / "profiles.json"


class ProfileStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_profiles_path()

    def load(self) -> dict[str, EndpointProfile]:
        if not self.path.exists():
            return {}
        data = read_json(self.path, ProfileError)
        if not isinstance(data, list):
            raise ProfileError(f"{self.path}: expected a JSON list of profiles, got {type_name(data)}")
        profiles = [EndpointProfile.from_json(p, f"{self.path}: [{k}]") for k, p in enumerate(data)]
        for k, profile in enumerate(profiles):
            check_base_url(profile.base_url, f"{self.path}: [{k}]: base_url")
        return {p.name: p for p in profiles}

    def save(self, profiles: dict[str, EndpointProfile]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([p.to_json() for p in profiles.values()], indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def get(self, name: str) -> EndpointProfile:
        profiles = self.load()
        if name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ProfileError(f"no endpoint profile named {name!r} (known: {known}; file {self.path})")
        return profiles[name]
