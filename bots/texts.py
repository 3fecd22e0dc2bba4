"""What the bots say, in English and Chinese. Adapters format; they do not write copy."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "disclaimer": (
            "Hi, I'm SoulChat, an AI emotional-support companion. I'm not a therapist, a doctor "
            "or an emergency service, and my replies are AI-generated, for reference only. "
            "Our conversation is stored so I can follow it; /forget deletes it."
        ),
        "empty": "I didn't catch anything there. Whenever you're ready, tell me what's on your mind.",
        "too_long": (
            "That's a long message, thank you for sharing it. I've kept all of it, but I can "
            "only take in about the first {limit} characters at once, so I'll focus on those."
        ),
        "unavailable": (
            "I'm sorry, I can't answer right now: the part of me that writes replies isn't "
            "responding. Your message is saved, and I'll include it when you write again. If "
            "you need someone now, please reach out to a crisis line or someone you trust."
        ),
        "still_working": "I'm still thinking about what you said; it's taking longer than usual.",
        "restarted": "(My reply was interrupted; starting it again.)",
        "replaced": "(I changed my reply to keep it safe.)",
        "empty_reply": "I'm here and listening. Could you tell me a little more about how you feel?",
        "reset": "Okay, we're starting a fresh conversation. What would you like to talk about?",
        "forgotten": (
            "Done: everything stored about you has been deleted ({messages} messages in "
            "{conversations} conversations)."
        ),
        "help": (
            "Just write to me about whatever is on your mind. Commands: /reset starts a new "
            "conversation, /forget deletes everything stored about you, /resources shows "
            "crisis lines, /quit leaves."
        ),
    },
    "zh": {
        "disclaimer": (
            "你好，我是SoulChat，一个提供情绪支持的人工智能陪伴者。我不是心理治疗师、医生或急救服务，"
            "我的回复由AI生成，仅供参考。我们的对话会被保存以便我理解上下文，输入 /forget 可全部删除。"
        ),
        "empty": "我好像没有收到内容。准备好了的话，随时告诉我你在想什么。",
        "too_long": "谢谢你写了这么多。我已经完整保存了你的消息，但我一次只能读取前 {limit} 个字，会先关注这部分。",
        "unavailable": (
            "抱歉，我现在无法回复：负责生成回复的部分没有响应。你的消息已经保存，下次你发消息时我会一并回应。"
            "如果你现在需要有人陪伴，请联系心理援助热线或你信任的人。"
        ),
        "still_working": "我还在认真想你说的话，这次比平时慢一些。",
        "restarted": "（回复被中断了，我重新说一遍。）",
        "replaced": "（为了安全，我调整了我的回复。）",
        "empty_reply": "我在这里，认真听着。能多和我说说你现在的感受吗？",
        "reset": "好的，我们重新开始一段对话。你想聊些什么？",
        "forgotten": "已完成：关于你的所有记录都已删除（{conversations} 段对话中的 {messages} 条消息）。",
        "help": (
            "想说什么都可以直接告诉我。命令：/reset 开始新的对话，/forget 删除关于你的所有记录，"
            "/resources 查看心理援助热线，/quit 退出。"
        ),
    },
}


def text(locale: str, key: str, **values: object) -> str:
    table = TEXTS.get(locale, TEXTS["en"])
    return table[key].format(**values) if values else table[key]
