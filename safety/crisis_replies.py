"""The vetted first reply to someone at high risk (tier 3) or in immediate danger (tier 4).

It is sent at once, before the model is asked, and it does not depend on the model: it is what
the person sees even when the model server is down. Its parts follow safe-messaging and crisis
practice, in this order:

1. take them seriously and thank them for saying it;
2. tier 4: the emergency number first, and what to tell them (what was taken, where they are);
3. ask directly whether they are safe now and whether someone is with them;
4. distance from the means ("put it in another room, give it to someone");
5. where help is (the crisis lines of their region, else their language, from the resources
   file);
6. stay: "I'm here with you" - never end the conversation after a disclosure.

Category-specific sentences replace the generic ones where the danger is of another kind: an
overdose or poison needs medical help even if the person feels fine; someone about to hurt
another person should step away from them and put the weapon away; a person being abused
should get somewhere safe.
"""

from __future__ import annotations

from collections.abc import Sequence

from safety.resources import CrisisLine, crisis_notice
from soulchat.locales import language_of

CRISIS_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "heard": "Thank you for telling me. I'm taking what you said seriously.",
        "urgent": "I'm worried about your safety right now.",
        "medical": (
            "If you have taken something, please get medical help now, even if you feel okay: "
            "tell them what you took and how much. The effects can come later."
        ),
        "others": (
            "Please step away from the person and put whatever you could hurt them with out of "
            "reach. You don't have to act on this feeling."
        ),
        "abuse": (
            "If you can, go somewhere safer: a locked room, a neighbour, a public place. If you "
            "are in danger right now, call the emergency number."
        ),
        "psychosis": (
            "What you're going through sounds frightening. Please don't act on what the voices "
            "or thoughts are telling you; let a person help you with this now."
        ),
        "safe_now": "Are you safe right now? Is anyone with you, or someone who could come be with you?",
        "distance": (
            "If you can, put some distance between yourself and anything you could use to hurt "
            "yourself: give it to someone, lock it away, or go to another room."
        ),
        "stay": "I'm here with you, and I'm not going anywhere. Tell me what's happening.",
    },
    "zh": {
        "heard": "谢谢你愿意告诉我。我很认真地对待你说的话。",
        "urgent": "我现在很担心你的安全。",
        "medical": "如果你已经吃了或喝了什么，请马上就医，即使现在感觉还好：告诉医生你吃了什么、吃了多少。有些后果会晚些才出现。",
        "others": "请先离开那个人身边，把可能伤到人的东西放到够不着的地方。你不必照着这股冲动去做。",
        "abuse": "如果可以，请先到更安全的地方：能锁门的房间、邻居家或人多的地方。如果你现在有危险，请拨打报警电话。",
        "psychosis": "你正在经历的听起来很可怕。请不要照着那些声音或念头去做，现在就让身边的人或专业人员帮你。",
        "safe_now": "你现在安全吗？身边有人陪着你吗，或者有没有人可以过来陪你？",
        "distance": "如果可以，请让自己离可能用来伤害自己的东西远一点：交给别人、锁起来，或者换到另一个房间。",
        "stay": "我在这里陪着你，不会离开。告诉我现在发生了什么。",
    },
}


def crisis_reply(
    locale: str,
    tier: int,
    categories: frozenset[str],
    lines: Sequence[CrisisLine],
    region: str | None = None,
) -> str:
    """The vetted reply for tier 3 (high) and 4 (imminent); tier 4 leads with emergency help.
    The lines are the region's where it has some (``safety.resources.select_lines``)."""
    texts = CRISIS_TEXTS[language_of(locale)]
    parts = [texts["heard"]]
    if tier >= 4:
        parts.append(texts["urgent"])
    if "medical_emergency" in categories:
        parts.append(texts["medical"])
    if "harm_to_others" in categories:
        parts.append(texts["others"])
    if "abuse" in categories:
        parts.append(texts["abuse"])
    if "psychosis_mania" in categories:
        parts.append(texts["psychosis"])
    parts.append(texts["safe_now"])
    if categories & {"suicide", "self_harm", "method_seeking"}:
        parts.append(texts["distance"])
    paragraph = " ".join(parts) if language_of(locale) == "en" else "".join(parts)
    return "\n\n".join([paragraph, crisis_notice(locale, lines, tier, region), texts["stay"]])
