"""Local fine-tuning for real: a few CPU steps, GGUF export, llama.cpp serving it, cancel and continue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from workbench.local.finetune.gguf_export import hf_name, permute
from workbench.local.finetune.train import encode, plain_answer

ROOT = Path(__file__).resolve().parents[2]


def reverse_permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """What transformers does when it loads a GGUF (written independently, from its description)."""
    dim = weights.shape[0] // heads // 2
    return weights.reshape(heads, dim, 2, *weights.shape[1:]).swapaxes(2, 1).reshape(weights.shape)


def test_rotary_permutation_is_undone_by_the_loader_and_names_map() -> None:
    w = np.arange(192 * 8, dtype=np.float32).reshape(192, 8)
    assert np.array_equal(reverse_permute(permute(w, 3), 3), w)
    assert not np.array_equal(permute(w, 3), w)
    assert hf_name("blk.7.attn_q.weight") == "model.layers.7.self_attn.q_proj.weight"
    assert hf_name("token_embd.weight") == "model.embed_tokens.weight"
    with pytest.raises(ValueError, match="no transformers parameter"):
        hf_name("blk.1.mystery.weight")


class FakeTokenizer:
    """Characters as tokens: enough to check what is masked."""

    eos_token = "</s>"

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [ord(c) for c in text]}

    def apply_chat_template(self, turns: list[dict[str, str]], tokenize: bool, add_generation_prompt: bool) -> str:
        return "".join(f"<{t['role']}>{t['content']}" for t in turns) + "<assistant>"


def test_only_the_answer_carries_loss_and_completion_prompts_continue_select() -> None:
    example = {"messages": [{"role": "user", "content": "schema\n-- Question: q?\nSELECT"},
                            {"role": "assistant", "content": "```sql\na FROM t\n```"}]}  # fmt: skip
    ids, labels = encode(example, FakeTokenizer(), 200)  # type: ignore[misc]
    answer = "".join(chr(i) for i, label in zip(ids, labels, strict=True) if label != -100)
    assert answer == " a FROM t;" and plain_answer("```sql\nSELECT 1;\n```") == "SELECT 1"
    chat = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "SELECT 1"}]}
    ids, labels = encode(chat, FakeTokenizer(), 200)  # type: ignore[misc]
    assert "".join(chr(i) for i, label in zip(ids, labels, strict=True) if label != -100) == "SELECT 1</s>"
    assert encode(chat, FakeTokenizer(), 5) is None  # an answer longer than the limit is left out


def workbench(*args: str, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


@pytest.fixture()
def home(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fmt: skip


def small_export(tmp_path: Path, env: dict[str, str]) -> Path:
    out = tmp_path / "train.jsonl"
    done = workbench("finetune", "export", "--template", "completion_few_shot", "--answer-style", "plain",
                     "--validation-fraction", "0", "--out", str(out), env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()[:12]  # a handful of examples
    out.write_text("\n".join(lines) + "\n")
    return out


def test_train_a_few_steps_export_serve_and_answer(tmp_path: Path, home: dict[str, str]) -> None:
    train = small_export(tmp_path, home)
    store = tmp_path / "w.sqlite"
    done = workbench("finetune", "start", "--backend", "local", "--train", str(train), "--steps", "2", "--wait",
                     "--store", str(store), env=home)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Step 2/2: training loss=" in done.stdout and "checked and registered as profile" in done.stdout
    profiles = json.loads((tmp_path / "config" / "workbench" / "profiles.json").read_text())
    (profile,) = profiles if isinstance(profiles, list) else profiles.values()
    assert profile["local_file"].endswith("model-f16.gguf") and Path(profile["local_file"]).stat().st_size > 2e8
    assert "fine-tuned from smollm2-135m-instruct on train.jsonl" in profile["description"]
    # the registered model is a variant like any other: a run serves it with llama.cpp and scores its answers
    run = workbench("run", "--variant", profile["name"], "--limit", "2", "--store", str(store), env=home)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "run completed: 2 scored, 0 failed" in run.stderr


def test_cancel_saves_a_checkpoint_and_continue_resumes_from_it(tmp_path: Path, home: dict[str, str]) -> None:
    train = small_export(tmp_path, home)
    store = tmp_path / "w.sqlite"
    started = workbench("finetune", "start", "--backend", "local", "--train", str(train), "--steps", "4",
                        "--store", str(store), env=home)  # fmt: skip
    assert started.returncode == 0, started.stderr
    job = started.stdout.split("started local job ")[1].split()[0]
    progress = next((tmp_path / "data" / "workbench" / "local-finetune").glob(f"{job}/progress.jsonl"))
    deadline = time.monotonic() + 300
    while '"step": 1,' not in (progress.read_text() if progress.exists() else "") and time.monotonic() < deadline:
        time.sleep(1)
    cancel = workbench("finetune", "cancel", job, "--store", str(store), env=home)
    assert "stopping" in cancel.stdout
    while '"cancelled"' not in progress.read_text() and time.monotonic() < deadline:
        time.sleep(1)
    assert (progress.parent / "checkpoint.pt").is_file()
    status = workbench("finetune", "status", job, "--watch", "--store", str(store), env=home)
    assert f"{job}: cancelled" in status.stdout or "cancelled" in status.stdout
    resumed = workbench("finetune", "start", "--backend", "local", "--continue", job, "--wait", "--store", str(store),
                        env=home)  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "resumed: step=" in resumed.stdout and "Step 4/4" in resumed.stdout
    assert "registered as profile" in resumed.stdout
