"""The model card written next to an exported model: what it is, what it learnt from, under
which licences, how to serve it, and what it must not be used for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Licences of the datasets the loaders know (../shared/data/README.md and the releases).
DATA_LICENCES: dict[str, tuple[str, str]] = {
    "esconv": ("ESConv (Liu et al. 2021)", "CC BY-NC 4.0: non-commercial research only"),
    "smilechat": ("SMILECHAT (MeChat/SMILE, Qiu et al. 2023)", "CC0 1.0"),
    "cpsycound": ("CPsyCounD (CPsyCoun, Zhang et al. 2024)", "CC BY 4.0: attribution required"),
    "emollm": ("EmoLLM datasets/data.json", "MIT"),
    "counsel_chat": (
        "Counsel Chat (Bertagnolli 2020)",
        'MIT: attribution "Copyright (c) 2020 nbertagnolli"',
    ),
    "soulchat": ("SoulChatCorpus (Chen et al. 2023)", "see the corpus release's licence"),
    "messages": ("your own messages JSONL", "your data's licence"),
}


def data_lines(record: dict[str, Any]) -> list[str]:
    sources: dict[str, int] = (record.get("data") or {}).get("sources") or {}
    if not sources:
        return ["- (unknown: no run record was found next to the weights)"]
    lines = []
    for source, count in sorted(sources.items()):
        name, licence = DATA_LICENCES.get(source, (source, "unknown licence: check it"))
        lines.append(f"- {name}: {count} dialogues. Licence: {licence}.")
    return lines


def gguf_lines(record: dict[str, Any]) -> list[str]:
    """Where a base converted from a GGUF file came from (the file, its sha256)."""
    recorded = record.get("base_model") or {}
    if not recorded.get("gguf_file"):
        return []
    gguf = f"{recorded.get('location')}/{recorded['gguf_file']}"
    digest = f" (sha256 {recorded['sha256']})" if recorded.get("sha256") else ""
    return [f"- Converted from the GGUF file `{gguf}`{digest}, dequantised to float32."]


def write_model_card(out: Path, record: dict[str, Any], *, mode: str, base: str) -> Path:
    result = record.get("result") or {}
    style = record.get("style", "chat_template")
    serve = (
        f"SOULCHAT_MODEL__PATH={out}"
        if mode == "merge"
        else f"SOULCHAT_MODEL__PATH=<base> SOULCHAT_MODEL__ADAPTER={out}"
    )
    restricted = "esconv" in ((record.get("data") or {}).get("sources") or {})
    lines = [
        "---",
        "tags: [soulchat, emotional-support, counseling, sft]",
        f"license: {'cc-by-nc-4.0' if restricted else 'other'}",
        "---",
        f"# SoulChat fine-tune ({mode})",
        "",
        "An emotional-support model fine-tuned with SoulChat on multi-turn counseling dialogues, "
        "so that it listens, asks and reflects before it advises.",
        "",
        "## Training",
        f"- Base model: `{base}`",
        *gguf_lines(record),
        f"- Method: {record.get('method', 'unknown')}; prompt style: `{style}` "
        "(serve with the same style: SOULCHAT_CONTEXT__PROMPT_STYLE).",
        f"- Steps: {result.get('steps', '?')}; training loss "
        f"{_number(result.get('train_loss'))}; validation loss "
        f"{_number(result.get('eval_loss'))}.",
        "",
        "## Data and licences",
        *data_lines(record),
        "",
        "The weights inherit the most restrictive of these licences and the base model's.",
        "",
        "## Serving",
        f"- SoulChat: `{serve} soulchat chat`",
        "- TGI / vLLM: point them at this directory"
        + (" (merged safetensors)." if mode == "merge" else " via LORA_ADAPTERS with the base."),
        "",
        "## Limits",
        "This is not a therapist, a diagnosis or an emergency service. It was trained on "
        "counseling-style dialogues, some machine-generated, and can be wrong or inappropriate. "
        "Serve it behind SoulChat's safety screen and crisis escalation, never alone.",
        "",
    ]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "n/a"
