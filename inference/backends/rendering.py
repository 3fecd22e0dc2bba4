"""A prompt as the model's own Hugging Face tokenizer renders and counts it: the one rendering
both in-process engines share (transformers and llama.cpp), and the one training uses."""

from __future__ import annotations

from typing import Any

from inference.prompt import Prompt


def render_text(tokenizer: Any, prompt: Prompt) -> str:
    if prompt.style == "transcript":
        return prompt.text
    return str(
        tokenizer.apply_chat_template(prompt.messages, tokenize=False, add_generation_prompt=True)
    )


def encode(tokenizer: Any, text: str) -> list[int]:
    # The rendered template already holds its special tokens as text.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def control_markers(tokenizer: Any) -> list[str]:
    return [str(token) for token in tokenizer.all_special_tokens]
