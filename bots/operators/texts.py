"""What SoulChat says to operators, and to users about operators, in English and Chinese."""

from __future__ import annotations

TIER_NAMES = {
    "en": {1: "elevated", 2: "at risk", 3: "high", 4: "IMMINENT"},
    "zh": {1: "偏高", 2: "有风险", 3: "高风险", 4: "紧急"},
}

OUTCOME_LABELS = {
    "en": {
        "safe_plan": "Safe for now, plan made",
        "referred": "Referred to a line / service",
        "emergency": "Emergency services contacted",
        "no_response": "Stopped responding",
        "false_alarm": "No risk (false alarm)",
        "other": "Other",
    },
    "zh": {
        "safe_plan": "暂时安全，已有计划",
        "referred": "已转介热线/机构",
        "emergency": "已联系急救/警方",
        "no_response": "对方不再回应",
        "false_alarm": "无风险（误报）",
        "other": "其他",
    },
}

OPERATOR_TEXTS = {
    "en": {
        "alert": "{icon} Case #{case} · tier {tier} {tier_name} · {categories} · {locale} · {platform} · opened {age} ago",
        "requested": "🙋 Case #{case} · the person asked to talk to a human · tier {tier} · {locale} · {platform} · opened {age} ago",
        "excerpt": "Latest message: “{excerpt}”",
        "claim": "Claim",
        "release": "Release",
        "resolve": "Resolve",
        "paged": "⏰ Case #{case} (tier {tier}) has not been acknowledged for {age}. You are paged as a backup operator.",
        "claimed": "Case #{case} is yours. Messages from the person arrive here; anything you write here goes to them, marked as from a human volunteer. Release with /release {case}, close with /resolve {case}.",
        "claimed_by_other": "Case #{case} is already claimed by another operator.",
        "released": "Case #{case} is released; SoulChat (AI) answers the person again.",
        "resolved": "Case #{case} resolved: {outcome}.",
        "choose_outcome": "How did case #{case} end?",
        "gone": "Case #{case} is resolved or does not exist.",
        "not_operator": "Only listed operators can act on cases.",
        "relay": "💬 Case #{case}: {text}",
        "no_case": "You have no claimed case, so this message went nowhere. /cases lists open cases.",
        "none_open": "No open cases.",
        "list_item": "#{case} · tier {tier} · {status} · {categories} · opened {age} ago",
        "help": "Operator commands: /cases, /claim N, /release N, /resolve N [outcome]. Outcomes: {outcomes}.",
    },
    "zh": {
        "alert": "{icon} 个案 #{case} · 风险等级 {tier} {tier_name} · {categories} · {locale} · {platform} · {age}前开启",
        "requested": "🙋 个案 #{case} · 对方请求与真人交谈 · 风险等级 {tier} · {locale} · {platform} · {age}前开启",
        "excerpt": "最新消息：“{excerpt}”",
        "claim": "接手",
        "release": "交回",
        "resolve": "结案",
        "paged": "⏰ 个案 #{case}（等级 {tier}）已有 {age} 无人确认。你作为后备值班人员收到此提醒。",
        "claimed": "个案 #{case} 由你接手。对方的消息会转到这里；你在这里写的内容会以真人志愿者的身份发给对方。用 /release {case} 交回，用 /resolve {case} 结案。",
        "claimed_by_other": "个案 #{case} 已被其他值班人员接手。",
        "released": "个案 #{case} 已交回，SoulChat（AI）重新回复对方。",
        "resolved": "个案 #{case} 已结案：{outcome}。",
        "choose_outcome": "个案 #{case} 的结果是？",
        "gone": "个案 #{case} 已结案或不存在。",
        "not_operator": "只有名单上的值班人员可以处理个案。",
        "relay": "💬 个案 #{case}：{text}",
        "no_case": "你没有正在接手的个案，这条消息没有发出。/cases 查看待处理个案。",
        "none_open": "没有待处理的个案。",
        "list_item": "#{case} · 等级 {tier} · {status} · {categories} · {age}前开启",
        "help": "值班命令：/cases，/claim 编号，/release 编号，/resolve 编号 [结果]。结果代码：{outcomes}。",
    },
}

USER_TEXTS = {
    "en": {
        "joined": "A human volunteer has joined this conversation. I'm stepping back while you talk with them.",
        "from_human": "👤 Human volunteer: {text}",
        "handed_back": "The volunteer has handed the conversation back to me, SoulChat (an AI). I'm still here to listen.",
        "human_requested": "I've asked a human volunteer to join. When one is free, they'll write to you here. Until then I'm here with you (I'm an AI).",
    },
    "zh": {
        "joined": "一位真人志愿者加入了这段对话。你们交谈期间我会先退到一边。",
        "from_human": "👤 真人志愿者：{text}",
        "handed_back": "志愿者把对话交回给我了，我是SoulChat（人工智能）。我还在这里听你说。",
        "human_requested": "我已经请一位真人志愿者加入。有人空下来时会在这里给你发消息。在那之前我陪着你（我是AI）。",
    },
}


def operator_text(locale: str, key: str, /, **values: object) -> str:
    return OPERATOR_TEXTS.get(locale, OPERATOR_TEXTS["en"])[key].format(**values)


def user_text(locale: str, key: str, /, **values: object) -> str:
    lang = "zh" if locale.startswith("zh") else "en"
    return USER_TEXTS[lang][key].format(**values)
