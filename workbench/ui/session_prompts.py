"""The session's prompt versions: the bundled templates seeded into the store, the default variants, and
saving a new version (the variants on its parent move to it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from workbench.core.prompts.context import TEMPLATES_DIR, load_template
from workbench.core.prompts.templates import PromptTemplate, bundled_templates
from workbench.core.runs.runspec import LOCAL_PROFILE, VariantSpec
from workbench.core.store import Store


class PromptVersions:
    """Mixed into ``AppSession`` (which gives the store, the specs and the signals named here)."""

    store: Store
    specs: list[VariantSpec]
    message: Any
    templates_changed: Any
    set_specs: Callable[[list[VariantSpec]], None]

    def ensure_bundled_templates(self) -> None:
        for name, template in bundled_templates(TEMPLATES_DIR).items():
            if not self.store.prompt_versions(name):
                self.store.save_prompt_version(name, template.text)

    def default_specs(self) -> list[VariantSpec]:
        """Out of the box: the local model, zero-shot and with retrieved examples."""
        version = self.latest_version("completion_few_shot")
        return [
            VariantSpec("local-zero", LOCAL_PROFILE, version, "none", 0, mode="completion"),
            VariantSpec("local-bm25", LOCAL_PROFILE, version, "bm25", 3, mode="completion"),
        ]

    def latest_version(self, name: str) -> int:
        versions = self.store.prompt_versions(name)
        if not versions:
            return self.store.save_prompt_version(name, load_template(name).text)
        return versions[-1].id

    def save_template(self, name: str, body: str, parent_id: int | None) -> int:
        """A new prompt version (the same id when nothing changed); variants on the parent move to it."""
        PromptTemplate.parse(name, body)  # raises TemplateProblem: a broken template is never saved
        version = self.store.save_prompt_version(name, body, parent_id)
        if version != parent_id:
            moved = [s for s in self.specs if s.template_version == parent_id]
            label = self.store.version_label(version)
            if moved:
                self.set_specs([replace(s, template_version=version) if s in moved else s for s in self.specs])
                self.message.emit(f"saved {name} {label}; {', '.join(s.name for s in moved)} now use it")
            else:
                self.message.emit(f"saved {name} {label}")
            self.templates_changed.emit()
        return version
