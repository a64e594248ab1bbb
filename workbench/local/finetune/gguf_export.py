"""Write trained weights as a GGUF file llama.cpp serves, with the source model's metadata.

The source GGUF (the model that was fine-tuned) gives the tensor list, the architecture
parameters and the tokenizer; the trained PyTorch state gives the values. Query and key
projections are permuted back to llama.cpp's rotary layout (transformers undoes that
permutation when it loads a GGUF). Norms stay F32; matrices are written as F16.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

SKIPPED_KEYS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count", "general.architecture",
                "general.file_type", "general.quantization_version"}  # fmt: skip
LAYER_NAMES = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
}  # fmt: skip
GLOBAL_NAMES = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                "output.weight": "lm_head.weight"}  # fmt: skip
F16 = 1  # llama_ftype MOSTLY_F16


def hf_name(gguf_name: str) -> str:
    """The transformers (Llama) parameter behind a GGUF tensor name."""
    if gguf_name in GLOBAL_NAMES:
        return GLOBAL_NAMES[gguf_name]
    match = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight", gguf_name)
    if not match or match.group(2) not in LAYER_NAMES:
        raise ValueError(f"no transformers parameter known for GGUF tensor {gguf_name!r}")
    return f"model.layers.{match.group(1)}.{LAYER_NAMES[match.group(2)]}.weight"


def permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """HF rotary layout -> llama.cpp's (the inverse of what transformers applies on load)."""
    rows = weights.shape[0]
    return weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def export_gguf(source: Path, state: Mapping[str, Any], out: Path, name: str | None = None) -> Path:
    """Write ``out`` from ``source``'s metadata and tensor layout with ``state``'s values (HF names)."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    arch = str(reader.fields["general.architecture"].contents())
    heads = int(reader.fields[f"{arch}.attention.head_count"].contents())
    kv_field = reader.fields.get(f"{arch}.attention.head_count_kv")
    kv_heads = int(kv_field.contents()) if kv_field is not None else heads
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    writer = gguf.GGUFWriter(str(tmp), arch)
    for key, field in reader.fields.items():
        if key in SKIPPED_KEYS:
            continue
        value = field.contents()
        if key == "general.name" and name:
            value = name
        main = field.types[0]
        sub = field.types[1] if main == gguf.GGUFValueType.ARRAY and len(field.types) > 1 else None
        writer.add_key_value(key, value, main, sub)
    writer.add_file_type(F16)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for tensor in reader.tensors:
        param = hf_name(tensor.name)
        if param not in state:
            if param == "lm_head.weight":
                continue  # tied to the embeddings
            raise KeyError(f"the trained model has no {param} (for {tensor.name})")
        values = state[param].detach().to("cpu").float().numpy()
        if ".attn_q." in tensor.name:
            values = permute(values, heads)
        elif ".attn_k." in tensor.name:
            values = permute(values, kv_heads)
        writer.add_tensor(tensor.name, values.astype(np.float32 if values.ndim == 1 else np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out
