"""Medical emergencies that are not about suicide: someone who will not wake up or is not
breathing, stroke and heart-attack signs, a child who swallowed something, a seizure.

A support chat is where some people write first, at 3 a.m., "probably nothing, right?". These
are tier 4: the answer is the emergency number, now, whatever else is going on.
"""

from __future__ import annotations

from safety.rules import Rule

MEDICAL = frozenset({"medical_emergency"})
_SOMEONE = (
    r"(?:he|she|they|mom|mum|dad|grandma|grandpa|nan|baby|my \w{1,40}(?: \w{1,40})?|the baby|the kid"
    r"|my (?:son|daughter|husband|wife|partner|friend|roommate))"
)

RULES: list[Rule] = [
    Rule(
        "en.medical_emergency",
        rf"\b{_SOMEONE} (?:\w{{1,40}} ){{0,2}}(?:wont|will not|cant|can not|cannot|isnt|is not|doesnt"
        r"|does not)(?: \w{1,40})? (?:wake up|breathing|breathe|respond\w{0,40})\b"
        r"|\b(?:not|isnt|is not|stopped) breathing\b|\bbreathing (?:really |very |so )?(?:weird"
        r"|funny|strange|like (?:loud )?snoring)\b|\b(?:face|mouth) (?:\w{1,40} ){0,3}droop\w{0,40}\b"
        r"|\bslurr\w{0,40} (?:his|her|their|my) words\b|\bone side of (?:his|her|their|my) (?:face|body)"
        r" (?:is )?(?:numb|droop\w{0,40}|weak)\b"
        r"|\bchest (?:\w{1,40} ){0,2}(?:crushed|crushing|tight|pressure)"
        r"\b.{0,200}\b(?:arm|jaw) (?:is )?(?:numb|tingling|hurts)\b|\b(?:got into|swallowed|ate|chewed)"
        r" (?:\w{1,40} ){0,3}(?:dishwasher|laundry|detergent) pods?\b|\b(?:swallowed|ate) (?:\w{1,40} ){0,3}"
        r"(?:button|coin) batter\w{0,40}\b|\b(?:having|had) a seizure\b|\bthroat (?:is )?(?:closing"
        r"|swelling)\b",
        4,
        MEDICAL,
        exclude=r"\b(?:phone|laptop|computer|pc|screen|car|app) (?:\w{1,40} ){0,2}(?:wont|will not) wake"
        r" up\b|\bin (?:the|a) (?:film|movie|show|book|game)\b",
    ),
    Rule(
        "zh.medical_emergency",
        r"叫不醒|没有?呼吸了|不呼吸了|呼吸(?:声)?(?:很|好)?(?:怪|奇怪|像打呼噜|像打鼾)|嘴(?:巴)?歪|口齿不清|说话不清楚"
        r"|(?:说话|讲话)(?:突然)?含糊|半边脸|说胡话|叫(?:他|她)?也不(?:太)?理|心口.{0,8}痛.{0,12}左手"
        r"|(?:洗衣|洗碗)凝珠"
        r"|一边(?:脸|身体)(?:麻|动不了|没力)|胸口?(?:很|好)?(?:痛|闷|压着)\S{0,12}(?:左手|手臂|下巴)(?:发)?麻"
        r"|误食|(?:吞|吃)了\S{0,4}(?:纽扣)?电池|(?:吞|吃|咬)(?:了|破了)\S{0,4}(?:洗碗|洗衣)(?:凝珠|块)|抽搐|喉咙(?:肿|堵)",
        4,
        MEDICAL,
        exclude=r"(?:手机|电脑|闹钟)\S{0,4}叫不醒|(?:电影|小说|剧)(?:里|中)",
    ),
]
