"""Settings: endpoint profiles (keys to the OS keyring, never to a file), test connection, local model."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.endpoints.probe import probe_endpoint
from workbench.core.endpoints.profiles import EndpointProfile, ProfileError, store_api_key
from workbench.core.runs.runspec import LOCAL_PROFILE
from workbench.ui.session import AppSession

LOCAL_ENTRY = f"{LOCAL_PROFILE} (built-in)"  # the embedded model: listed, never edited or saved


class SettingsDialog(QDialog):
    def __init__(self, session: AppSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(760, 480)
        self.session = session
        self.profiles: dict[str, EndpointProfile] = {n: EndpointProfile.from_json(p.to_json())
                                                     for n, p in session.profiles.items()}  # fmt: skip
        self.current: str | None = None
        self._test_task: asyncio.Task[None] | None = None

        self.list = QListWidget()
        self.list.addItems(sorted(self.profiles))
        self.list.addItem(LOCAL_ENTRY)
        local_item = self.list.item(self.list.count() - 1)
        local_item.setToolTip("The embedded llama.cpp model: started on demand, nothing to configure")
        font = local_item.font()
        font.setItalic(True)
        local_item.setFont(font)
        add, self.remove_button = QPushButton("Add"), QPushButton("Remove")
        remove = self.remove_button
        left = QVBoxLayout()
        left.addWidget(QLabel("Endpoint profiles"))
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)

        self.name, self.base_url, self.model, self.key_env = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.base_url.setPlaceholderText("https://api.openai.com/v1 or http://127.0.0.1:8080/v1")
        self.key_env.setPlaceholderText("e.g. OPENAI_API_KEY (read from the environment)")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste a key to store it in the OS keyring")
        self.use_keyring = QCheckBox("key is in the OS keyring")
        self.concurrency, self.rpm = QSpinBox(), QSpinBox()
        self.concurrency.setRange(1, 512)
        self.rpm.setRange(0, 1_000_000)
        self.rpm.setSpecialValueText("no limit")
        self.price_in, self.price_out = QDoubleSpinBox(), QDoubleSpinBox()
        for box in (self.price_in, self.price_out):
            box.setRange(0, 1000)
            box.setDecimals(3)
            box.setSuffix(" $/M tokens")
        form = QFormLayout()
        for label, widget in (("Name", self.name), ("Base URL", self.base_url), ("Model", self.model),
                              ("Key variable", self.key_env), ("API key", self.key), ("", self.use_keyring),
                              ("Concurrency", self.concurrency), ("Requests/min", self.rpm),
                              ("Price in", self.price_in), ("Price out", self.price_out)):  # fmt: skip
            form.addRow(label, widget)
        self.test_button = QPushButton("Test connection")
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.key_message = QLabel()
        self.key_message.setWordWrap(True)
        self.key_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        profile_box = QGroupBox("Profile")
        profile_layout = QVBoxLayout(profile_box)
        profile_layout.addLayout(form)
        profile_layout.addWidget(self.key_message)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        profile_layout.addLayout(test_row)

        local_box = QGroupBox("Embedded local model (no key needed)")
        self.local_status = QLabel(session.local.status)
        self.local_status.setWordWrap(True)
        start, stop = QPushButton("Start"), QPushButton("Stop")
        local_layout = QHBoxLayout(local_box)
        local_layout.addWidget(self.local_status, 1)
        local_layout.addWidget(start)
        local_layout.addWidget(stop)

        right = QVBoxLayout()
        right.addWidget(profile_box)
        right.addWidget(local_box)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 2)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)

        add.clicked.connect(self.add_profile)
        remove.clicked.connect(self.remove_profile)
        self.list.currentTextChanged.connect(self.show_profile)
        self.test_button.clicked.connect(self.test_connection)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        start.clicked.connect(lambda: asyncio.ensure_future(self._start_local()))
        stop.clicked.connect(session.local.stop)
        session.local.status_changed.connect(self.local_status.setText)
        self._set_form_enabled(False)
        if self.list.count():
            self.list.setCurrentRow(0)

    # --- the form -----------------------------------------------------------------------
    def _set_form_enabled(self, enabled: bool) -> None:
        for w in (self.name, self.base_url, self.model, self.key_env, self.key, self.use_keyring, self.concurrency,
                  self.rpm, self.price_in, self.price_out, self.test_button):  # fmt: skip
            w.setEnabled(enabled)

    def show_profile(self, name: str) -> None:
        self.commit_form()
        self.current = name if name in self.profiles else None
        self._set_form_enabled(self.current is not None)
        self.remove_button.setEnabled(self.current is not None)
        if name == LOCAL_ENTRY:
            self._show_local()
        if self.current is None:
            return
        p = self.profiles[name]
        self.name.setText(p.name)
        self.base_url.setText(p.base_url)
        self.model.setText(p.model)
        self.key_env.setText(p.api_key_env or "")
        self.key.clear()
        self.use_keyring.setChecked(p.api_key_keyring)
        self.concurrency.setValue(p.concurrency)
        self.rpm.setValue(p.rpm or 0)
        self.price_in.setValue(p.price_in_per_m)
        self.price_out.setValue(p.price_out_per_m)
        self.key_message.clear()
        self.test_result.clear()

    def _show_local(self) -> None:
        """The built-in profile, read-only: what it is and where it runs (when started)."""
        self.name.setText(LOCAL_PROFILE)
        self.base_url.setText(self.session.local.status)
        self.model.setText("the embedded model (SmolLM2 by default)")
        for field in (self.key_env, self.key):
            field.clear()
        self.use_keyring.setChecked(False)
        self.key_message.setText("Built in: started on demand with the first run that needs it; no key. "
                                 "Start or stop it below.")  # fmt: skip
        self.key_message.setStyleSheet("")
        self.test_result.clear()

    def commit_form(self) -> str | None:
        """Copy the form into the edited profile; a typed key goes to the keyring at once."""
        if self.current is None or self.current not in self.profiles:
            return None
        old = self.profiles.pop(self.current)
        name = self.name.text().strip() or old.name
        p = EndpointProfile.from_json(old.to_json() | {"name": name})
        p.base_url, p.model = self.base_url.text().strip(), self.model.text().strip()
        p.api_key_env = self.key_env.text().strip() or None
        p.api_key_keyring = self.use_keyring.isChecked()
        p.concurrency, p.rpm = self.concurrency.value(), self.rpm.value() or None
        p.price_in_per_m, p.price_out_per_m = self.price_in.value(), self.price_out.value()
        key = self.key.text()
        self.key.clear()  # the key lives in the keyring or nowhere; never in this dialog's state
        if key:
            try:
                store_api_key(name, key)
                p.api_key_keyring = True
                self.use_keyring.setChecked(True)
                self.key_message.setText("✓ key stored in the OS keyring")
                self.key_message.setStyleSheet("color: #2d7d2d")
            except ProfileError as exc:
                variable = p.api_key_env or "OPENAI_API_KEY"
                p.api_key_env = variable
                self.key_env.setText(variable)
                self.key_message.setText(
                    f"{exc}. The key was not saved anywhere. Set the environment variable {variable} "
                    "before starting workbench instead."
                )
                self.key_message.setStyleSheet("color: #9b1c1c")
        self.profiles[name] = p
        if name != self.current:  # a rename: the list entry follows, wherever the selection is now
            for item in self.list.findItems(self.current, Qt.MatchFlag.MatchExactly):
                item.setText(name)
            self.current = name
        return name

    def add_profile(self) -> None:
        self.commit_form()
        name = "new-endpoint"
        while name in self.profiles:
            name += "-2"
        self.profiles[name] = EndpointProfile(name=name, base_url="https://api.openai.com/v1", model="gpt-4o-mini",
                                              api_key_env="OPENAI_API_KEY")  # fmt: skip
        self.list.insertItem(self.list.count() - 1, name)  # above the built-in entry, which stays last
        self.list.setCurrentRow(self.list.count() - 2)

    def remove_profile(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        name = self.list.item(row).text()
        if name not in self.profiles:  # the built-in local entry
            return
        self.current = None
        self.profiles.pop(name, None)
        self.list.takeItem(row)

    def problems(self) -> list[str]:
        out = []
        for name, p in self.profiles.items():
            if not p.base_url.startswith(("http://", "https://")):
                out.append(f"{name}: the base URL must start with http:// or https://")
            if not p.model:
                out.append(f"{name}: a model name is needed")
        return out

    def save(self) -> None:
        self.commit_form()
        problems = self.problems()
        if problems:
            self.key_message.setText("\n".join(problems))
            self.key_message.setStyleSheet("color: #9b1c1c")
            return
        self.session.save_profiles(self.profiles)
        self.accept()

    # --- actions ------------------------------------------------------------------------
    def test_connection(self) -> None:
        name = self.commit_form()
        if name is None:
            return
        self.test_result.setText("testing …")
        self._test_task = asyncio.ensure_future(self._test(self.profiles[name]))

    async def _test(self, profile: EndpointProfile) -> None:
        report = await probe_endpoint(profile)
        self.test_result.setText(report.text)
        self.test_result.setStyleSheet(f"color: {'#2d7d2d' if report.ok else '#9b1c1c'}")

    async def _start_local(self) -> None:
        try:
            await self.session.local.ensure()
        except Exception as exc:
            self.local_status.setText(f"could not start: {exc}")
