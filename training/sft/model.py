"""Loading the base model for training: checkpoint directory, GGUF file (as its plain
checkpoint, ``inference.backends.checkpoints``) or hub id, in full precision, bf16 or 4-bit
(QLoRA)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from inference.backends.checkpoints import ModelNotFound, ModelSource, loadable
from inference.backends.local import resolve_model_source
from training.sft.config import SFTRunConfig

log = logging.getLogger(__name__)


def use_bf16(config: SFTRunConfig) -> bool:
    import torch

    if config.bf16 == "auto":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return config.bf16 == "true"


def load_base(config: SFTRunConfig, cache_dir: Path | None = None) -> tuple[Any, Any, ModelSource]:
    """The trainable model and its tokenizer (with a pad token), and where they came from. A
    GGUF file is trained as its plain checkpoint, kept in ``cache_dir`` (the one serving uses,
    so the converted base of an adapter stays loadable) or, without one, made for this load."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_source(config.model, cache_dir)
    kwargs: dict[str, Any] = {}
    if config.attn_implementation:
        kwargs["attn_implementation"] = config.attn_implementation
    if config.method == "qlora":
        kwargs["quantization_config"] = _four_bit_config()
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    dtype = torch.bfloat16 if use_bf16(config) else torch.float32
    with loadable(source, cache_dir) as plain:
        try:
            tokenizer = AutoTokenizer.from_pretrained(plain.location)
            model: Any = AutoModelForCausalLM.from_pretrained(plain.location, dtype=dtype, **kwargs)
        except OSError as exc:
            raise ModelNotFound(f"cannot load model {source.describe()}: {exc}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.use_cache = False
    return model, tokenizer, source


def _four_bit_config() -> Any:
    import torch
    from transformers import BitsAndBytesConfig

    if not torch.cuda.is_available():
        raise ModelNotFound("method qlora needs a CUDA GPU (4-bit weights via bitsandbytes)")
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def lora_config(config: SFTRunConfig) -> Any:
    from peft import LoraConfig

    targets: Any = config.lora_target_modules
    if targets == ["all-linear"]:
        targets = "all-linear"
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )
