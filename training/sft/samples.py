"""Dialogues into training samples: token ids and labels with loss on assistant tokens only.

Every assistant turn of a dialogue is a target, in one sequence per dialogue (or per chunk of a
dialogue too long for ``max_length``). The mask is built from character spans, not from a
template's ``{% generation %}`` markers, so it works with any tokenizer that returns offsets:

* ``chat_template``: the system prompt and turns through the model's own chat template, exactly
  as the serving path renders them. An assistant turn's span runs from the end of the prompt
  with the generation header to the end of that turn, so its end marker (``<|im_end|>``) is
  trained and the model learns to stop.
* ``transcript``: the original method's ``用户：…\\n心理咨询师：…`` text. A counselor turn's span
  includes the newline and the next user label, which is where serving stops; the last turn ends
  with the tokenizer's end-of-sequence token.

Context tokens (system prompt, user turns, headers) get label -100.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from inference.prompt import (
    TRANSCRIPT_LABELS,
    Style,
    Turn,
    neutralise_control_markers,
    render_transcript,
    system_prompt_for,
)
from training.data.schema import Dialogue

IGNORE = -100


class TemplateError(ValueError):
    """The chat template does not render a conversation as a prefix of its continuation."""


@dataclass
class Sample:
    dialogue_id: str
    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def dialogue_turns(dialogue: Dialogue) -> list[Turn]:
    """The dialogue as prompt turns, from the first user turn to the last assistant turn;
    control markers typed in the data are removed as they are from live messages."""
    turns = [Turn(m.role, neutralise_control_markers(m.content)) for m in dialogue.messages]
    while turns and turns[0].role != "user":
        turns.pop(0)
    while turns and turns[-1].role != "assistant":
        turns.pop()  # a closing user turn has nothing after it to learn
    return turns


def render_with_spans(
    turns: Sequence[Turn], tokenizer: Any, style: Style, language: str, *, system: bool = True
) -> tuple[str, list[tuple[int, int]]]:
    """The whole text and the character spans that are trained."""
    if style == "transcript":
        return _transcript_spans(turns, tokenizer, language)
    return _chat_template_spans(turns, tokenizer, language, system=system)


def _chat_template_spans(
    turns: Sequence[Turn], tokenizer: Any, language: str, *, system: bool
) -> tuple[str, list[tuple[int, int]]]:
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system_prompt_for(language)})
    spans: list[tuple[int, int]] = []
    text = _apply(tokenizer, messages, generation_prompt=False) if messages else ""
    for turn in turns:
        if turn.role == "assistant":
            prompt = _apply(tokenizer, messages, generation_prompt=True)
            _check_prefix(text, prompt)
            start = len(prompt)
        messages.append({"role": turn.role, "content": turn.text})
        rendered = _apply(tokenizer, messages, generation_prompt=False)
        _check_prefix(text, rendered)
        if turn.role == "assistant":
            spans.append((start, len(rendered)))
        text = rendered
    return text, spans


def _apply(tokenizer: Any, messages: list[dict[str, str]], *, generation_prompt: bool) -> str:
    return str(
        tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt
        )
    )


def _check_prefix(before: str, after: str) -> None:
    if not after.startswith(before):
        raise TemplateError(
            "the chat template rewrites earlier turns when a turn is added, so assistant turns "
            "cannot be located; use style: transcript or a template that renders prefixes stably"
        )


def _transcript_spans(
    turns: Sequence[Turn], tokenizer: Any, language: str
) -> tuple[str, list[tuple[int, int]]]:
    user_label, _ = TRANSCRIPT_LABELS.get(language, TRANSCRIPT_LABELS["zh"])
    spans: list[tuple[int, int]] = []
    text = ""
    for index, turn in enumerate(turns):
        if turn.role != "assistant":
            continue
        # render_transcript is what serving sends: the context ending with the counselor label.
        prompt = render_transcript(turns[:index], language)
        _check_prefix(text, prompt)
        reply = " ".join(part.strip() for part in turn.text.splitlines() if part.strip())
        has_next_user = index + 1 < len(turns)
        ending = "\n" + user_label.strip() if has_next_user else (tokenizer.eos_token or "")
        spans.append((len(prompt), len(prompt) + len(reply) + len(ending)))
        text = prompt + reply + ending
    return text, spans


def tokenize_with_labels(text: str, spans: Sequence[tuple[int, int]], tokenizer: Any) -> Sample:
    """Token ids for ``text`` and labels that keep only tokens overlapping ``spans``. Overlap,
    not containment: in ``Counselor: I`` the token `` I`` begins on the label's space, and the
    reply's first word must still be learnt."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids: list[int] = list(encoded["input_ids"])
    labels = [IGNORE] * len(input_ids)
    span_index = 0
    for position, (start, end) in enumerate(encoded["offset_mapping"]):
        while span_index < len(spans) and start >= spans[span_index][1]:
            span_index += 1
        if span_index == len(spans):
            break
        if end > spans[span_index][0]:
            labels[position] = input_ids[position]
    return Sample("", input_ids, labels)


def chunk_turns(turns: Sequence[Turn], sizes: Sequence[int], budget: int) -> list[list[Turn]]:
    """Split a dialogue at exchange boundaries into runs whose estimated size fits ``budget``
    (``sizes`` holds each turn's token count). A single exchange larger than the budget stays
    one chunk; it is truncated later."""
    chunks: list[list[Turn]] = []
    current: list[Turn] = []
    used = 0
    index = 0
    while index < len(turns):
        exchange = list(turns[index : index + 2])
        cost = sum(sizes[index : index + 2])
        if current and used + cost > budget:
            chunks.append(current)
            current, used = [], 0
        current += exchange
        used += cost
        index += 2
    if current:
        chunks.append(current)
    return [chunk for chunk in chunks if any(turn.role == "assistant" for turn in chunk)]


def dialogue_samples(
    dialogue: Dialogue,
    tokenizer: Any,
    style: Style,
    *,
    max_length: int,
    system: bool = True,
) -> Iterator[Sample]:
    """One sample per dialogue, or per chunk when the whole dialogue exceeds ``max_length``."""
    turns = dialogue_turns(dialogue)
    if not any(turn.role == "assistant" for turn in turns):
        return
    whole = _sample(turns, dialogue, tokenizer, style, system)
    if len(whole.input_ids) <= max_length:
        yield whole
        return
    # Headers and the system prompt are not counted per turn; leave them a margin.
    sizes = [len(tokenizer(turn.text, add_special_tokens=False)["input_ids"]) + 8 for turn in turns]
    overhead = len(tokenizer(system_prompt_for(dialogue.language))["input_ids"]) if system else 0
    if overhead + 64 > max_length:
        raise ValueError(
            f"max_length {max_length} leaves no room for dialogue after the system prompt "
            f"({overhead} tokens); raise max_length or set system_prompt: false"
        )
    for chunk in chunk_turns(turns, sizes, max(max_length - overhead - 16, 1)):
        sample = _sample(chunk, dialogue, tokenizer, style, system)
        sample.input_ids = sample.input_ids[:max_length]
        sample.labels = sample.labels[:max_length]
        if sample.trained_tokens:
            yield sample


def _sample(
    turns: Sequence[Turn], dialogue: Dialogue, tokenizer: Any, style: Style, system: bool
) -> Sample:
    text, spans = render_with_spans(turns, tokenizer, style, dialogue.language, system=system)
    sample = tokenize_with_labels(text, spans, tokenizer)
    sample.dialogue_id = dialogue.id
    return sample
