"""Being honest that SoulChat is an AI.

Rules in force for companion chatbots (New York 2025, California SB 243, EU AI Act art. 50)
ask for a disclosure at the start of a session and again at least every three hours of
continued use, and "are you a human?" must always get a true answer. ``asks_if_human`` finds
that question in English and Chinese; the service answers it before the model says anything.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from safety.normalize import normalize

DISCLOSURE_INTERVAL = timedelta(hours=3)

_HUMAN_QUESTION = re.compile(
    r"\b(?:are|r) (?:you|u) (?:a |an |really |actually |even |just )*(?:real|human|person|bot"
    r"|robot|ai|machine|computer|program|chat ?bot|real person|live person|actual person)\b"
    r"|\b(?:is|am i (?:talking|speaking|chatting) (?:to|with)) (?:this |a |an )*(?:real )?(?:bot"
    r"|robot|human|person|ai|machine|real person|live agent|computer)\b"
    r"|\bis (?:this|that|it) (?:a )?(?:bot|robot|human|real person|ai|machine)\b"
    r"|\bhuman or (?:a )?(?:bot|ai|robot|machine)\b"
    r"|\b(?:bot|ai|robot) or (?:a )?(?:human|person|real)\b"
    r"|你是 ?(?:不是)?(?:真人|真的人|人类|人|机器人|ai|人工智能|程序|电脑) ?(?:吗|嘛|吧|么|啊|呀|$)"
    r"|你是 ?(?:真人|人) ?还是 ?(?:机器人|ai|人工智能|程序)"
    r"|(?:是|跟)(?:真人|机器人)(?:吗|在聊|聊天)"
    r"|真人还是机器人|有(?:没有)?真人(?:吗|在)"
)


def asks_if_human(text: str) -> bool:
    return _HUMAN_QUESTION.search(normalize(text)) is not None


def disclosure_due(last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= DISCLOSURE_INTERVAL
