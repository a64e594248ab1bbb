"""The training process: ``python -m workbench.local.finetune.train CONFIG.json``.

Runs apart from the app (never in the GUI's process). Loads the embedded model from its
GGUF with transformers (dequantized to fp32), trains on a chat-format JSONL export (full
fine-tuning or LoRA), checkpoints every few steps (a restarted process continues from the
last checkpoint), stops cleanly on SIGTERM (after saving a checkpoint), and writes the
result as an F16 GGUF. Progress is one JSON object per line on stdout:
``{"event": "step", "step", "total", "loss", "elapsed_s", "eta_s", "rss_mb"}`` and
``loaded``, ``checkpoint``, ``exported``, ``done``, ``cancelled``, ``error``.
"""

from __future__ import annotations

import json
import math
import random
import resource
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FENCE = "```"


@dataclass
class TrainConfig:
    source: str  # the base model's GGUF
    train: str  # chat-format JSONL (the same export as the API backend)
    out_dir: str
    method: str = "full"  # "full" or "lora"
    epochs: int = 3
    learning_rate: float = 0.0  # 0: 1e-4 for full, 1e-3 for LoRA
    batch_size: int = 8  # examples per optimizer step
    micro_batch: int = 2  # examples per forward pass; halved (down to 1) when memory passes max_rss_mb
    max_rss_mb: int = 4000
    max_len: int = 768
    seed: int = 0
    checkpoint_every: int = 8
    threads: int = 0  # 0: all cores
    max_steps: int = 0  # 0: epochs decide (tests use a few steps)
    lora_rank: int = 16
    freeze_embeddings: bool = True  # the 49k x 576 token table (tied to the output layer): less memory, same results
    name: str = "fine-tuned"

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        return cls(**json.loads(path.read_text()))


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, kB on Linux


def current_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return rss_mb()
    return pages * resource.getpagesize() / 1024 / 1024


def plain_answer(text: str) -> str:
    text = text.strip()
    if text.startswith(FENCE):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit(FENCE, 1)[0]
    return text.strip().rstrip(";").strip()


def encode(example: dict[str, Any], tokenizer: Any, max_len: int) -> tuple[list[int], list[int]] | None:
    """(input ids, labels): the loss is on the answer only. Completion prompts ending in SELECT continue it."""
    messages = example["messages"]
    *prompt_turns, answer = messages
    if (
        len(prompt_turns) == 1
        and prompt_turns[0]["role"] == "user"
        and prompt_turns[0]["content"].rstrip().endswith("SELECT")
    ):
        prompt = prompt_turns[0]["content"]
        target = " " + plain_answer(answer["content"]) + ";"
    else:
        prompt = tokenizer.apply_chat_template(prompt_turns, tokenize=False, add_generation_prompt=True)
        target = answer["content"] + (tokenizer.eos_token or "")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    if len(target_ids) >= max_len:
        return None
    prompt_ids = prompt_ids[-(max_len - len(target_ids)) :]
    return prompt_ids + target_ids, [-100] * len(prompt_ids) + target_ids


def batches(data: list[tuple[list[int], list[int]]], size: int, pad: int) -> Any:
    import torch

    for start in range(0, len(data), size):
        chunk = data[start : start + size]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (x, y) in enumerate(chunk):
            ids[row, : len(x)] = torch.tensor(x)
            labels[row, : len(y)] = torch.tensor(y)
            mask[row, : len(x)] = 1
        yield ids, labels, mask


def load_model(config: TrainConfig) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = Path(config.source)
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype="float32")
    # the weights are plain fp32 now; forget that they came from a quantized file
    model.config.quantization_config = None
    if hasattr(model, "hf_quantizer"):
        model.hf_quantizer = None
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        lora = LoraConfig(r=config.lora_rank, lora_alpha=2 * config.lora_rank, target_modules=targets,
                          lora_dropout=0.0, task_type="CAUSAL_LM")  # fmt: skip
        model = get_peft_model(model, lora)
    return model, tokenizer


def answer_loss(model: Any, ids: Any, labels: Any, mask: Any) -> tuple[Any, int]:
    """Cross-entropy on the answer tokens only, projecting just those positions onto the vocabulary.

    The output layer (49k words) is a fifth of the model's work per token and most of its
    activation memory; the prompt's positions carry no loss, so they are never projected.
    """
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = base.model(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != -100
    logits = base.lm_head(hidden[:, :-1][keep])
    loss = torch.nn.functional.cross_entropy(logits.float(), targets[keep])
    return loss, int(keep.sum())


class Stop:
    requested = False


def train(config: TrainConfig) -> int:
    import torch

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    signal.signal(signal.SIGTERM, lambda *_: setattr(Stop, "requested", True))
    started = time.monotonic()
    model, tokenizer = load_model(config)
    import gc

    gc.collect()  # the dequantization's temporaries
    emit("loaded", seconds=round(time.monotonic() - started, 1), parameters=sum(p.numel() for p in model.parameters()),
         trainable=sum(p.numel() for p in model.parameters() if p.requires_grad))  # fmt: skip
    rows = [json.loads(line) for line in Path(config.train).read_text(encoding="utf-8-sig").split("\n") if line.strip()]
    data = [e for e in (encode(r, tokenizer, config.max_len) for r in rows) if e is not None]
    if not data:
        emit("error", message="no usable training examples")
        return 2
    per_epoch = math.ceil(len(data) / config.batch_size)
    total = config.max_steps or per_epoch * config.epochs
    lr = config.learning_rate or (1e-3 if config.method == "lora" else 1e-4)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0, foreach=False)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 1 - s / max(1, total))
    )
    step = 0
    checkpoint = out / "checkpoint.pt"
    if checkpoint.is_file():  # a previous process got this far: continue from there
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = int(state["step"])
        emit("resumed", step=step)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    accumulate = max(1, config.batch_size // config.micro_batch)
    model.train()
    resumed_at, resumed_time = step, time.monotonic()

    def save() -> None:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                 "schedule": schedule.state_dict()}  # fmt: skip
        torch.save(state, out / "checkpoint.tmp")
        (out / "checkpoint.tmp").replace(checkpoint)
        emit("checkpoint", step=step)

    while step < total:
        epoch_rng = random.Random(config.seed * 1000 + step // per_epoch)
        order = list(range(len(data)))
        epoch_rng.shuffle(order)
        start = (step % per_epoch) * config.batch_size
        chosen = [data[i] for i in order[start : start + config.batch_size]]  # never empty: start < len(data)
        optimizer.zero_grad()
        loss_sum, tokens = 0.0, 0
        for ids, labels, mask in batches(chosen, config.micro_batch, pad):
            loss, counted = answer_loss(model, ids, labels, mask)
            (loss / accumulate).backward()
            loss_sum += float(loss) * counted
            tokens += counted
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        elapsed = time.monotonic() - resumed_time
        eta = elapsed / (step - resumed_at) * (total - step)
        emit("step", step=step, total=total, loss=round(loss_sum / max(1, tokens), 4), elapsed_s=round(elapsed, 1),
             eta_s=round(eta, 1), rss_mb=round(current_rss_mb()), peak_rss_mb=round(rss_mb()))  # fmt: skip
        if current_rss_mb() > 0.9 * config.max_rss_mb and config.micro_batch > 1:
            config.micro_batch //= 2  # smaller forward passes, same optimizer steps
            accumulate = max(1, config.batch_size // config.micro_batch)
            emit("memory", rss_mb=round(current_rss_mb()), micro_batch=config.micro_batch)
        if Stop.requested:
            save()
            emit("cancelled", step=step)
            return 3
        if step % config.checkpoint_every == 0 and step < total:
            save()
    if config.method == "lora":
        model = model.merge_and_unload()
    from workbench.local.finetune.gguf_export import export_gguf

    path = export_gguf(Path(config.source), model.state_dict(), out / "model-f16.gguf", name=config.name)
    emit("exported", path=str(path), megabytes=round(path.stat().st_size / 1e6, 1))
    checkpoint.unlink(missing_ok=True)
    emit("done", steps=step, seconds=round(time.monotonic() - started, 1), peak_rss_mb=round(rss_mb()))
    return 0


def main() -> int:
    config = TrainConfig.load(Path(sys.argv[1]))
    try:
        return train(config)
    except Exception as exc:
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["TrainConfig", "encode", "train"]
