"""What the bots say, in English and Chinese. Adapters format; they do not write copy."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": (
            "Hi, I'm SoulChat, an AI emotional-support companion. I'm here to listen. I'm not a "
            "therapist, a doctor or an emergency service, and my replies are AI-generated, for "
            "reference only.\n\nTo follow our conversation I store your messages and my "
            "replies{retention}. They are never shared, and /forget deletes all of it at any "
            "time.\n\nIs that okay with you?"
        ),
        "retention": ", and delete conversations left idle for {days} days",
        "consent_accept": "Yes, let's talk",
        "consent_decline": "No, thanks",
        "consent_given": "Thank you. I'm listening: what's on your mind?",
        "consent_needed": (
            "Before I can reply, please choose whether you're okay with me storing our "
            "conversation (the buttons above, or /start to see them again). I've held on to "
            "what you wrote, and nothing is stored until you agree."
        ),
        "consent_declined": (
            "That's okay. Nothing you wrote has been stored. If you change your mind, send "
            "/start. If you need someone to talk to now, these lines can help:"
        ),
        "forget_confirm": (
            "This deletes every message and conversation stored about you, and can't be undone. "
            "Delete everything?"
        ),
        "forget_yes": "Delete everything",
        "forget_no": "Keep it",
        "forget_kept": "Okay, nothing was deleted.",
        "flood": (
            "You're sending messages faster than I can take them in. I'm still here; give me a "
            "moment, then tell me again what matters most."
        ),
        "language_set": "Okay, I'll talk with you in English.",
        "language_choose": "Which language would you like? /lang en or /lang zh",
        "not_text": (
            "I can only understand text messages for now, so I couldn't take that in. Could you "
            "tell me in words?"
        ),
        "group_hint": (
            "I'm glad to listen. For anything personal, a private chat with me is a safer place "
            "than a group."
        ),
        "mention_needed": (
            "I can only see messages here that mention me or reply to me. Mention me when you "
            "write, or send me a direct message, where I see everything you write."
        ),
        "chat_help": (
            "Just write to me about whatever is on your mind. Commands: /reset starts a new "
            "conversation, /forget deletes everything stored about you, /resources shows crisis "
            "lines, /human asks for a person, /lang en|zh changes the language."
        ),
        "i_am_ai": (
            "To be honest with you: I'm not a human. I'm SoulChat, an AI companion, and my "
            "replies are written by a computer program. If you'd like to talk to a person, send "
            "/human, or reach one of the crisis lines with /resources."
        ),
        "human_unavailable": (
            "I'm sorry: no human volunteer is connected to this service right now, so I can't "
            "pass you to a person here. I'm an AI, and I'm still here to listen. If you need to "
            "talk to a person now, these lines have people answering:"
        ),
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
        "failed_here": (
            "I'm sorry, something went wrong on my side and I couldn't take in your message. "
            "Please send it again in a few minutes."
        ),
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
            "crisis lines, /human asks for a person, /quit leaves."
        ),
    },
    "zh": {
        "welcome": (
            "你好，我是SoulChat，一个提供情绪支持的人工智能陪伴者，我会认真倾听。我不是心理治疗师、医生或急救服务，"
            "我的回复由AI生成，仅供参考。\n\n为了理解我们的对话，我会保存你的消息和我的回复{retention}。"
            "这些内容不会被分享，你随时可以用 /forget 全部删除。\n\n你同意吗？"
        ),
        "retention": "，闲置 {days} 天的对话会被自动删除",
        "consent_accept": "同意，我们聊聊",
        "consent_decline": "不用了，谢谢",
        "consent_given": "谢谢你。我在听，你想聊些什么？",
        "consent_needed": (
            "在我回复之前，请先选择是否同意我保存我们的对话（点击上面的按钮，或发送 /start 再次查看）。"
            "你写的内容我先帮你留着，在你同意之前不会保存任何内容。"
        ),
        "consent_declined": "没关系，你写的内容都没有被保存。如果改变主意，可以发送 /start。如果你现在需要有人倾诉，可以联系这些热线：",
        "forget_confirm": "这会删除关于你的所有消息和对话，且无法恢复。确定全部删除吗？",
        "forget_yes": "全部删除",
        "forget_no": "保留",
        "forget_kept": "好的，没有删除任何内容。",
        "flood": "你发消息的速度比我能读的快。我一直在这里，稍等一下，再告诉我最重要的事情。",
        "language_set": "好的，我会用中文和你聊天。",
        "language_choose": "你想用哪种语言？发送 /lang zh 或 /lang en",
        "not_text": "我目前只能理解文字消息，所以没能读懂刚才的内容。可以用文字告诉我吗？",
        "group_hint": "我很愿意倾听。如果是私人的事情，和我私聊会比在群里更安全。",
        "mention_needed": "在这里我只能看到提到我或回复我的消息。写的时候请@我，或者直接私信我，私信里我能看到你写的所有内容。",
        "chat_help": (
            "想说什么都可以直接告诉我。命令：/reset 开始新的对话，/forget 删除关于你的所有记录，"
            "/resources 查看心理援助热线，/human 请求真人志愿者，/lang zh|en 切换语言。"
        ),
        "i_am_ai": "坦白告诉你：我不是真人。我是SoulChat，一个人工智能陪伴者，我的回复由电脑程序生成。如果你想和真人聊，可以发送 /human，或者用 /resources 查看有真人接听的心理援助热线。",
        "human_unavailable": "很抱歉：这个服务现在没有连接真人志愿者，所以我没办法在这里帮你转接给真人。我是AI，我还在这里听你说。如果你现在需要和真人聊，这些热线有人接听：",
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
        "failed_here": "抱歉，我这边出了点问题，没能收到你的消息。请过几分钟再发一次。",
        "restarted": "（回复被中断了，我重新说一遍。）",
        "replaced": "（为了安全，我调整了我的回复。）",
        "empty_reply": "我在这里，认真听着。能多和我说说你现在的感受吗？",
        "reset": "好的，我们重新开始一段对话。你想聊些什么？",
        "forgotten": "已完成：关于你的所有记录都已删除（{conversations} 段对话中的 {messages} 条消息）。",
        "help": (
            "想说什么都可以直接告诉我。命令：/reset 开始新的对话，/forget 删除关于你的所有记录，"
            "/resources 查看心理援助热线，/human 请求真人志愿者，/quit 退出。"
        ),
    },
}


def text(locale: str, key: str, **values: object) -> str:
    table = TEXTS.get(locale, TEXTS["en"])
    return table[key].format(**values) if values else table[key]
