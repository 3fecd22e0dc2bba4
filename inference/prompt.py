"""Turning a conversation into the model's input.

Two steps, on two sides of the queue:

1. ``select_turns`` (adapter side, no tokenizer): the messages since the last reply become one
   user turn, preceded by at most ``max_turns`` earlier exchanges. This bounds the task payload.
2. ``build_prompt`` (worker side, with the model's tokenizer): the system prompt and turns are
   rendered in one of two styles and the oldest whole exchanges are dropped until prompt plus
   reply fit the token budget. The newest user turn is never dropped.

Training renders dialogues with the same functions, so the model sees at inference exactly the
shape it was fine-tuned on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["user", "assistant"]
Style = Literal["chat_template", "transcript"]

SYSTEM_PROMPTS: dict[str, str] = {
    "en": (
        "You are SoulChat, an AI emotional-support companion. You are not a therapist, a doctor "
        "or an emergency service, and you never pretend to be human. Listen closely, reflect "
        "back what the person feels in your own words, ask one gentle open question at a time, "
        "and comfort and encourage them. Do not rush to give advice or lists of tips; "
        "understand first. Never diagnose or recommend medication. If the person may be in "
        "danger, ask them directly about their safety and encourage them to contact a crisis "
        "line or emergency services. Reply in English, warmly and briefly."
    ),
    "zh": (
        "你是“心理陪伴助手SoulChat”，一个提供情绪支持的人工智能，不是心理治疗师、医生或急救服务，"
        "也从不假装自己是人类。请认真倾听，用自己的话回应对方的感受，每次温和地提出一个开放式问题，"
        "给予安慰和鼓励。不要急于给出建议或一串方法，先理解对方。不做诊断，不推荐药物。"
        "如果对方可能有危险，请直接关心其安全，并鼓励其联系心理援助热线或急救服务。请用中文温暖、简洁地回复。"
    ),
}

# Added to the system prompt when the safety screen sees risk; the model is then only allowed
# to stay with the person and point to help.
SAFETY_ADDENDA: dict[str, str] = {
    "en": (
        " The person may be at risk of harming themselves. Stay with them, take them seriously, "
        "ask whether they are safe right now and whether someone is with them, and encourage "
        "them to call or text a crisis line. Never mention methods, means or doses."
    ),
    "zh": (
        "对方可能有伤害自己的风险。请陪伴对方、认真对待，询问对方此刻是否安全、身边是否有人，"
        "并鼓励对方拨打心理援助热线。绝不提及任何方法、工具或剂量。"
    ),
}

# From tier 3 the model only speaks under this: SoulChat has already sent the vetted crisis
# reply (resources, safety questions), and the model's part is to stay and listen.
CRISIS_ADDENDA: dict[str, str] = {
    "en": (
        " The person has disclosed a high risk to their life or someone else's. A message with "
        "crisis lines and safety questions has already been sent to them. In your reply: two or "
        "three short sentences; acknowledge what they feel; ask one question about their safety "
        "right now or about who could be with them; encourage them to reach the crisis line or "
        "emergency services. Never mention methods, means, doses or places; never debate "
        "whether life is worth living; never give other advice; never say goodbye."
    ),
    "zh": (
        "对方透露了对自己或他人生命的高度风险，系统已经给对方发送了危机热线和安全提问。你的回复："
        "两三句简短的话；回应对方的感受；问一个关于对方此刻安全或谁能陪在身边的问题；鼓励对方联系危机热线"
        "或急救服务。绝不提及任何方法、工具、剂量或地点；绝不讨论活着值不值得；不给其他建议；不说再见。"
    ),
}

TRANSCRIPT_LABELS: dict[str, tuple[str, str]] = {
    "zh": ("用户：", "心理咨询师："),
    "en": ("User: ", "Counselor: "),
}

# Chat-template control markers (<|im_start|>, <|eot_id|>, [INST], <s>, ...) typed by a user
# must not become real control tokens, or a user could write the system prompt themselves.
_CONTROL_MARKERS = re.compile(
    r"<\|[^|<>\n]{1,40}\|>|</?s>|\[/?INST\]|<<SYS>>|<</SYS>>|<start_of_turn>|<end_of_turn>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    role: Role
    text: str


@dataclass
class Prompt:
    """What a backend generates from: messages for chat templates, text for transcripts."""

    style: Style
    messages: list[dict[str, str]] = field(default_factory=list)
    text: str = ""
    stop: list[str] = field(default_factory=list)
    dropped_turns: int = 0
    truncated_newest: bool = False


def neutralise_control_markers(text: str, extra: Sequence[str] = ()) -> str:
    """Remove chat-template control markers from untrusted text."""
    for marker in extra:
        if marker:
            text = text.replace(marker, "")
    return _CONTROL_MARKERS.sub("", text)


def select_turns(messages: Sequence[tuple[str, str]], max_turns: int) -> list[Turn]:
    """The newest user turn (every message since the last reply, merged) and up to
    ``max_turns`` earlier exchanges. ``messages`` are (role, text), oldest first."""
    turns: list[Turn] = []
    for raw_role, text in messages:
        if raw_role not in ("user", "assistant"):
            continue
        role: Role = "user" if raw_role == "user" else "assistant"
        if turns and turns[-1].role == role:
            turns[-1] = Turn(role, turns[-1].text + "\n" + text)
        else:
            turns.append(Turn(role, text))
    while turns and turns[0].role != "user":
        turns.pop(0)
    if not turns or turns[-1].role != "user":
        return []
    # 2 * max_turns earlier turns (user + assistant each) plus the newest user turn.
    return turns[-(2 * max_turns + 1) :]


def system_prompt_for(locale: str, *, at_risk: bool = False, risk_tier: int = 0) -> str:
    """The system prompt; from tier 2 (or ``at_risk``) with the safety addendum, from tier 3
    with the crisis addendum that constrains the model to staying and asking about safety."""
    prompt = SYSTEM_PROMPTS.get(locale, SYSTEM_PROMPTS["en"])
    if at_risk or risk_tier >= 2:
        prompt += SAFETY_ADDENDA.get(locale, SAFETY_ADDENDA["en"])
    if risk_tier >= 3:
        prompt += CRISIS_ADDENDA.get(locale, CRISIS_ADDENDA["en"])
    return prompt


def render_transcript(turns: Sequence[Turn], locale: str) -> str:
    """The original method's plain-text prompt, ending with the counselor label."""
    user_label, counselor_label = TRANSCRIPT_LABELS.get(locale, TRANSCRIPT_LABELS["zh"])
    lines = [
        (user_label if turn.role == "user" else counselor_label) + _one_paragraph(turn.text)
        for turn in turns
    ]
    lines.append(counselor_label)
    return "\n".join(lines)


def _one_paragraph(text: str) -> str:
    # A newline inside a turn could forge the next speaker's label in the transcript.
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def transcript_stops(locale: str) -> list[str]:
    user_label, _ = TRANSCRIPT_LABELS.get(locale, TRANSCRIPT_LABELS["zh"])
    return ["\n" + user_label.strip()]


TokenCounter = Callable[[Prompt], int]


def render(system_prompt: str, turns: Sequence[Turn], style: Style, locale: str) -> Prompt:
    if style == "transcript":
        # The original method trains and serves without a system prompt.
        return Prompt(
            style=style, text=render_transcript(turns, locale), stop=transcript_stops(locale)
        )
    messages = [{"role": "system", "content": system_prompt}]
    messages += [{"role": turn.role, "content": turn.text} for turn in turns]
    return Prompt(style=style, messages=messages)


def build_prompt(
    system_prompt: str,
    turns: Sequence[Turn],
    *,
    style: Style,
    locale: str,
    count_tokens: TokenCounter,
    budget: int,
) -> Prompt:
    """Render ``turns`` and drop the oldest exchanges until the prompt fits ``budget`` tokens."""
    if not turns or turns[-1].role != "user":
        raise ValueError("a prompt needs the newest turn to be the user's")
    kept = list(turns)
    prompt = render(system_prompt, kept, style, locale)
    while count_tokens(prompt) > budget and len(kept) > 1:
        kept = kept[2:] if len(kept) > 2 else kept[-1:]  # drop one whole exchange
        prompt = render(system_prompt, kept, style, locale)
    dropped = len(turns) - len(kept)
    truncated = False
    if count_tokens(prompt) > budget:
        # Only the newest message is left and it alone is too long: keep its beginning and
        # its end, where people usually say what they need.
        kept, prompt = _shorten_newest(system_prompt, kept[-1], style, locale, count_tokens, budget)
        truncated = True
    prompt.dropped_turns = dropped
    prompt.truncated_newest = truncated
    return prompt


def _shorten_newest(
    system_prompt: str,
    newest: Turn,
    style: Style,
    locale: str,
    count_tokens: TokenCounter,
    budget: int,
) -> tuple[list[Turn], Prompt]:
    text = newest.text
    low, high = 0, len(text)
    best = render(system_prompt, [Turn("user", "…")], style, locale)
    best_turns = [Turn("user", "…")]
    while low < high:  # binary search for the longest head+tail that fits
        keep = (low + high + 1) // 2
        head, tail = text[: keep // 2], text[len(text) - (keep - keep // 2) :]
        candidate = [Turn("user", f"{head} … {tail}")]
        prompt = render(system_prompt, candidate, style, locale)
        if count_tokens(prompt) <= budget:
            low, best, best_turns = keep, prompt, candidate
        else:
            high = keep - 1
    return best_turns, best


def estimate_tokens(text: str) -> int:
    """A conservative token estimate when no tokenizer is at hand: one token per CJK
    character, one per three other characters."""
    cjk = sum(1 for char in text if "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff")
    return cjk + (len(text) - cjk + 2) // 3


def estimate_prompt_tokens(prompt: Prompt) -> int:
    if prompt.style == "transcript":
        return estimate_tokens(prompt.text)
    # ~4 tokens of template overhead per message.
    return sum(estimate_tokens(m["content"]) + 4 for m in prompt.messages)
