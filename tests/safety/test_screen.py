"""The inbound lexicon screen: what it must catch, at what tier, and what it must leave alone."""

from __future__ import annotations

import pytest

from safety import LexiconScreen, RiskAssessment, Rule
from safety.lexicon import DEFAULT_COMBINATIONS, DEFAULT_RULES
from safety.lexicon.replies import RULES as REPLY_RULES
from safety.rules import CATEGORIES, MAX_REACH, nonlinear, pattern_shape


@pytest.fixture(scope="module")
def screen() -> LexiconScreen:
    return LexiconScreen()


# (message, minimum tier)
MUST_CATCH_EN: list[tuple[str, int]] = [
    # tier 2: active ideation, self-harm, method-seeking
    ("I want to kill myself", 2),
    ("i wanna die", 2),
    ("I just want to die.", 2),
    ("I don't want to live anymore", 2),
    ("I've been having suicidal thoughts again", 2),
    ("honestly I'm feeling suicidal", 2),
    ("Sometimes I think about killing myself", 2),
    ("I want to end my life", 2),
    ("I feel like ending it all", 2),
    ("kms honestly", 2),
    ("I think everyone would be happier if I killed myself", 2),
    ("I'm not okay. I want to die", 2),
    ("I WANT TO DIE", 2),
    ("i    want   to    kill    myself!!!", 2),
    ("ｉ ｗａｎｔ ｔｏ ｄｉｅ", 2),
    ("I’m thinking about suicide", 2),
    ("I can't promise I won't kill myself", 2),
    ("i wish i could just die", 2),
    ("I won't be around much longer", 2),
    ("I cut myself again", 2),
    ("I've been self-harming for months", 2),
    ("I keep hurting myself on purpose", 2),
    ("the urge to cut is so strong tonight", 2),
    ("there are fresh cuts on my arms", 2),
    ("what's the lethal dose of paracetamol", 2),
    ("how many sleeping pills does it take to die", 2),
    ("What is the most painless way to die?", 2),
    ("how do i hang myself", 2),
    ("how many tylenol would kill me", 2),
    ("Which pills would kill me fastest?", 2),
    ("I want to jump off a bridge", 2),
    ("i want to kil myself", 2),
    ("I think about suicide every day", 2),
    ("Is it painful to hang yourself?", 2),
    ("is 50 ibuprofen enough to die", 2),
    ("I keep thinking about taking all my pills", 2),
    ("This is goodbye. I'm sorry for everything.", 2),
    ("My friend told me she wants to kill herself, what should I do?", 2),
    # tier 3: intent, plan, preparation, recent attempt, means at hand
    ("I'm going to kill myself", 3),
    ("I've decided to end my life", 3),
    ("I have a plan to kill myself", 3),
    ("I wrote a suicide note", 3),
    ("I've been stockpiling my pills for weeks", 3),
    ("I tried to kill myself last month", 3),
    ("I want to die and I have a bottle of pills next to me", 3),
    ("im gonna jump off the bridge", 3),
    ("by the time you read this I'll be gone", 3),
    ("I bought a rope. I want to die", 3),
    ("I want to die, I have it all planned out", 3),
    ("No one cares if I live or die, so I'll just end it", 3),
    ("I have the rope ready", 3),
    ("I've written letters to my family saying goodbye", 3),
    ("I'm on the roof and I'm going to jump", 3),
    # tier 4: imminent
    ("I've taken 30 pills", 4),
    ("i'm going to end it all tonight", 4),
    ("I just swallowed a whole bottle of sleeping pills", 4),
    ("I'm going to kill myself tonight", 4),
    ("I took all my antidepressants", 4),
    ("I'm standing on the ledge", 4),
    ("I cut too deep and the bleeding won't stop", 4),
    ("I drank bleach", 4),
    ("goodbye everyone. I'm going to kill myself", 4),
    ("💊💊💊 goodbye", 3),
    ("I want to die. I'm doing it tonight with my pills", 4),
    ("i swallowed 20 sleeping pills an hour ago", 4),
    ("my wrists are bleeding and it won't stop", 4),
]

MUST_CATCH_ZH: list[tuple[str, int]] = [
    # tier 2
    ("我不想活了", 2),
    ("我想自杀", 2),
    ("我想死", 2),
    ("好想死啊", 2),
    ("真的不想活下去了", 2),
    ("我有自杀的念头", 2),
    ("最近总有轻生的想法", 2),
    ("我想结束自己的生命", 2),
    ("活不下去了", 2),
    ("我想割腕", 2),
    ("我又割了自己", 2),
    ("我一直在自残", 2),
    ("忍不住想划自己", 2),
    ("吃多少安眠药会死", 2),
    ("致死量是多少", 2),
    ("怎么自杀不痛苦", 2),
    ("有没有无痛的死法", 2),
    ("几楼跳下去会死", 2),
    ("不如死了算了", 2),
    ("我好累，死了算了", 2),
    ("我真想一死了之", 2),
    ("我想离开这个世界", 2),
    ("我怕我会想不开", 2),
    ("我 不 想 活 了", 2),
    ("我想紫砂", 2),
    ("我想从天台跳下去", 2),
    ("我想吃一整瓶安眠药", 2),
    ("跳楼会不会很痛", 2),
    ("吃什么药可以安乐死", 2),
    ("不如让我死了吧", 2),
    ("想死的心都有了", 2),
    ("这是我最后一条消息了，再见", 2),
    # tier 3
    ("我决定自杀了", 3),
    ("我准备去死", 3),
    ("遗书已经写好了", 3),
    ("我偷偷攒了很多安眠药", 3),
    ("我去年自杀过一次", 3),
    ("我上个月割腕过", 3),
    ("绳子已经准备好了", 3),
    ("我想死，安眠药就在手边", 3),
    ("我打算明天跳楼", 3),
    ("我已经交代好后事了", 3),
    ("我准备今晚烧炭", 3),
    ("我在江边，不想活了", 3),
    ("他威胁说要杀了我", 3),
    # tier 4
    ("我已经吃了一整瓶安眠药", 4),
    ("今晚就从楼上跳下去", 4),
    ("我刚吞了五十片药", 4),
    ("我喝了农药", 4),
    ("我现在站在楼顶边上", 4),
    ("我割腕了，血止不住", 4),
    ("炭已经点着了", 4),
    ("我今晚就要自杀", 4),
    ("💊💊💊再见", 3),
    ("再见了，我要去死了", 4),
]

# Traditional characters must be folded onto the simplified lexicon.
MUST_CATCH_TRADITIONAL: list[tuple[str, int]] = [
    ("我想自殺", 2),
    ("我不想活了", 2),
    ("我已經吃了一整瓶安眠藥", 4),
    ("遺書已經寫好了", 3),
    ("今晚就從樓上跳下去", 4),
    ("我想結束自己的生命", 2),
    ("我有輕生的念頭", 2),
    ("我準備好了繩子，今晚就結束這一切", 4),
    ("吃多少顆安眠藥會死", 2),
    ("我真的撐不下去了，不想再活了", 2),
    ("我決定跳樓", 3),
    ("我割腕了，血止不住", 4),
]

MUST_CATCH_PASSIVE: list[tuple[str, int]] = [
    ("no reason to live", 1),
    ("everyone would be better off without me", 1),
    ("I wish I was never born", 1),
    ("life isn't worth living", 1),
    ("I feel so hopeless", 1),
    ("nobody would even notice if I was gone", 1),
    ("I'm such a burden to my family", 1),
    ("活着没意思", 1),
    ("活著沒意思", 1),
    ("我觉得自己是个累赘", 1),
    ("看不到任何希望", 1),
    ("真希望睡着了就不要醒来", 1),
    ("我好绝望", 1),
    ("没有我大家会过得更好", 1),
    ("我活着就是个错误", 1),
    ("我死了大家都会开心吧", 1),
    ("i cant stop thinking about dying", 1),
]

MUST_NOT_FIRE_EN: list[str] = [
    "killing it",
    "dying to see it",
    "kill the process",
    "this joke kills me",
    "I'm dead tired",
    "deadline is killing me",
    "You're killing it at work!",
    "I'm dying to see the new Marvel movie",
    "sudo kill -9 the process",
    "how do I kill a zombie process in linux",
    "my feet are killing me",
    "I could murder a burger right now",
    "I'm dying of laughter",
    "lol I'm dead 💀",
    "I nearly died laughing",
    "I cut my hair today",
    "I cut myself a slice of cake",
    "I cut myself while chopping onions",
    "I took 2 pills for my headache",
    "I need to take my meds tonight",
    "Suicide Squad was a terrible movie",
    "We're running a suicide prevention fundraiser",
    "my phone battery died",
    "I'm so hungry I could die",
    "he beat me at chess again",
    "it hit me that I miss her",
    "hit me up later",
    "I'm going to kill this presentation tomorrow",
    "let's end it here for today",
    "I'm hopeless at cooking",
    "I hurt myself at the gym",
    "I overdosed on coffee today",
    "Bungee jumping off a bridge was amazing",
    "I'd kill for a coffee",
    "this traffic is killing me",
    "shoot me an email",
    "the plant died because I forgot to water it",
    "Dead serious, that was the best pizza",
    "I'm going to the rooftop bar tonight",
    "I bought some rope for camping",
    "I'm taking my sleeping pills tonight",
    "I'm drowning myself in work this week",
    "I'd rather die than eat olives",
    "My exam went badly and I'm pretty stressed",
    "I fell and hurt myself",
    "I'm going to kill my brother for eating my cake lol",
    "kill me now, this meeting is endless",
    "my mom is going to kill me when she sees my grades",
    "I'm going to end it with my boyfriend tonight",
    "I'll jump in the shower then call you",
    "I took my antidepressants this morning",
]

MUST_NOT_FIRE_ZH: list[str] = [
    "笑死",
    "笑死我了",
    "累死了",
    "想死你了",
    "作死",
    "死机",
    "饿死了",
    "热死了",
    "气死我了",
    "吓死我了",
    "烦死了",
    "想死你们了",
    "爱死你了",
    "今天的作业多到要死",
    "手机又死机了",
    "跳楼价大甩卖",
    "这个紫砂壶真好看",
    "我今天吃了两片感冒药",
    "医生给我开了安眠药",
    "我们去天台看星星吧",
    "今晚一起去吃火锅",
    "这部电影讲的是一个人自杀的故事",
    "他在研究自杀预防",
    "周末一起玩狼人杀",
    "我要去死磕这道题",
    "累得要死",
    "绝望的主妇很好看",
    "我把头发剪短了",
    "尴尬得想死",
    "妈妈刚才打我电话了",
    "这次考试我死定了",
    "我饿得要死",
    "吃了一整瓶维生素",
    "笑死我了，你太搞笑了",
    "熱死了",
    "氣死我了",
    "我的電腦又死機了",
    "我想死你了，什么时候回来",
    "我们公司在搞自杀式降价",
    "我吃了一片安眠药才睡着",
    "我考试没考好，爸妈会杀了我的",
    "我想结束这段感情",
    "工作快把我逼死了",
    "他割了双眼皮",
]

# Negated statements must not reach the crisis-notice tier.
NEGATED: list[str] = [
    "I would never kill myself",
    "I don't want to die",
    "I'm not suicidal, just tired",
    "I would never hurt myself",
    "I'm not going to kill myself, don't worry",
    "我不会自杀的，放心吧",
    "我从来没想过自杀",
    "我不想死",
]


@pytest.mark.parametrize(("text", "minimum"), MUST_CATCH_EN)
def test_catches_english(screen: LexiconScreen, text: str, minimum: int) -> None:
    assessment = screen.assess(text)
    assert assessment.tier >= minimum, assessment
    assert assessment.categories, assessment


@pytest.mark.parametrize(("text", "minimum"), MUST_CATCH_ZH)
def test_catches_chinese(screen: LexiconScreen, text: str, minimum: int) -> None:
    assessment = screen.assess(text)
    assert assessment.tier >= minimum, assessment
    assert assessment.categories, assessment


@pytest.mark.parametrize(("text", "minimum"), MUST_CATCH_TRADITIONAL)
def test_catches_traditional_chinese(screen: LexiconScreen, text: str, minimum: int) -> None:
    assert screen.assess(text).tier >= minimum


@pytest.mark.parametrize(("text", "minimum"), MUST_CATCH_PASSIVE)
def test_passive_ideation_is_elevated(screen: LexiconScreen, text: str, minimum: int) -> None:
    assessment = screen.assess(text)
    assert assessment.tier >= minimum
    assert "suicide" in assessment.categories


@pytest.mark.parametrize("text", MUST_NOT_FIRE_EN + MUST_NOT_FIRE_ZH)
def test_idioms_and_everyday_messages_do_not_fire(screen: LexiconScreen, text: str) -> None:
    assert screen.assess(text) == RiskAssessment(0, frozenset(), ())


@pytest.mark.parametrize("text", NEGATED)
def test_negations_stay_below_the_notice_tier(screen: LexiconScreen, text: str) -> None:
    assert screen.assess(text).tier < 2


def test_must_catch_lists_are_large_enough() -> None:
    assert len(MUST_CATCH_EN) >= 40
    assert len(MUST_CATCH_ZH) + len(MUST_CATCH_TRADITIONAL) >= 40
    assert len(MUST_NOT_FIRE_EN) >= 30
    assert len(MUST_NOT_FIRE_ZH) >= 30


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I cut myself again", "self_harm"),
        ("我一直在自残", "self_harm"),
        ("what's the lethal dose of paracetamol", "method_seeking"),
        ("吃多少安眠药会死", "method_seeking"),
        ("I've taken 30 pills", "medical_emergency"),
        ("我喝了农药", "medical_emergency"),
        ("My dad hits me when he's drunk", "abuse"),
        ("我爸爸经常打我", "abuse"),
        ("he threatened to kill me", "abuse"),
        ("I want to kill my stepdad", "harm_to_others"),
        ("我想杀了他", "harm_to_others"),
        ("I'm going to shoot up the school", "harm_to_others"),
    ],
)
def test_categories(screen: LexiconScreen, text: str, category: str) -> None:
    assessment = screen.assess(text)
    assert category in assessment.categories
    assert assessment.tier >= 2
    assert assessment.categories <= CATEGORIES


def test_means_and_timing_escalate_ideation(screen: LexiconScreen) -> None:
    ideation = screen.assess("I want to die").tier
    with_means = screen.assess("I want to die, I have my pills here").tier
    with_means_and_time = screen.assess("I want to die, I have my pills here, tonight").tier
    assert (ideation, with_means, with_means_and_time) == (2, 3, 4)


def test_modifiers_alone_do_not_fire(screen: LexiconScreen) -> None:
    assert screen.assess("I'll take my pills tonight").tier == 0
    assert screen.assess("今晚去天台").tier == 0
    assert screen.assess("bought a new rope for climbing today").tier == 0
    assert screen.assess("I have my pills with me, see you tomorrow").tier == 0


def test_cues_combine_into_a_tier(screen: LexiconScreen) -> None:
    # Unambiguous means, a time and a goodbye: imminent, though no word says "suicide".
    assert screen.assess("🪢 tonight. goodbye everyone").tier == 4
    # Means obtained, with despair: preparation.
    assert screen.assess("got the charcoal today. I can't do this anymore").tier >= 3
    # A means bought for an ordinary reason stays quiet.
    assert screen.assess("got charcoal for the barbecue today").tier == 0


def test_signals_are_rule_ids_not_user_text(screen: LexiconScreen) -> None:
    assessment = screen.assess("I've taken 30 pills, goodbye Alice")
    rule_ids = {rule.id for rule in DEFAULT_RULES}
    assert assessment.signals
    combos = {f"combo.{c.id}" for c in DEFAULT_COMBINATIONS}
    assert set(assessment.signals) <= rule_ids | combos
    assert not any(word in " ".join(assessment.signals) for word in ("Alice", "30", "pills"))


def test_empty_and_whitespace_messages(screen: LexiconScreen) -> None:
    assert screen.assess("").tier == 0
    assert screen.assess("   \n\t").tier == 0


def test_custom_rules_replace_the_default_lexicon() -> None:
    custom = LexiconScreen([Rule("test.word", r"\bbanana\b", 2, frozenset({"suicide"}))])
    assert custom.assess("banana").signals == ("test.word",)
    assert custom.assess("I want to kill myself").tier == 0


@pytest.mark.parametrize(
    "rule",
    [
        Rule("bad.regex", r"(unclosed", 2, frozenset({"suicide"})),
        Rule("bad.empty", r"x?", 2, frozenset({"suicide"})),
        Rule("bad.tier", r"x", 5, frozenset({"suicide"})),
        Rule("bad.category", r"x", 2, frozenset({"sadness"})),
        Rule("bad.signal", r"x", 0, frozenset()),
        Rule("bad.modifier", r"x", 2, frozenset({"suicide"}), role="means"),
        # Patterns that would cost more than linear time in the length of the message.
        Rule("bad.digits", r"\d+楼", 2, frozenset({"suicide"})),
        Rule("bad.anything", r"engine running.*garage", 2, frozenset({"suicide"})),
        Rule("bad.lookahead", r"\bcut\b(?=.*tonight)", 2, frozenset({"suicide"})),
        Rule("bad.far", r"\bcut\b.{0,900}tonight", 2, frozenset({"suicide"})),
        Rule("bad.words", r"\bi (?:\w{1,40}){0,3} die\b", 2, frozenset({"suicide"})),
        Rule("bad.exclusion", r"x", 2, frozenset({"suicide"}), exclude=r"(?:not )+x"),
        Rule(
            "bad.overlap",
            r"\bdie\b",
            2,
            frozenset({"suicide"}),
            exclude=r"\bnot(?: (?:want|want to|to)){0,8} die",
        ),
    ],
)
def test_invalid_rules_are_rejected(rule: Rule) -> None:
    with pytest.raises(ValueError, match=rule.id):
        LexiconScreen([rule])


def test_duplicate_rule_ids_are_rejected() -> None:
    rule = Rule("dup.id", r"x", 2, frozenset({"suicide"}))
    with pytest.raises(ValueError, match=r"dup\.id"):
        LexiconScreen([rule, rule])


@pytest.mark.parametrize(
    "rule", [*DEFAULT_RULES, *REPLY_RULES], ids=lambda rule: f"{rule.id}@{rule.pattern[:12]}"
)
def test_every_rule_costs_linear_time_by_its_shape(rule: Rule) -> None:
    # Long runs of digits, spaces, negations or emoji once made some rules read the rest of
    # the run from each of its characters. Now each quantifier has a maximum, one attempt
    # reads a bounded stretch, and no repeated group can split a text two ways; the compiler
    # refuses a rule that breaks this, and this says which one did and why.
    for source in (rule.pattern, rule.exclude):
        if source:
            assert nonlinear(source) == "", (rule.id, nonlinear(source))
            reach = pattern_shape(source).reach
            assert reach is not None and reach <= MAX_REACH


SHAPES = {
    "prose": "I went for a walk with my sister and we talked about school. ",
    "digits": "1",
    "spaced-digits": "1 ",
    "chinese-numerals": "一",
    "negations": "not ",
    "chinese-negations": "我不想",
    "pills": "💊",
    "risk-words": "I want to kill myself tonight ",
    "questions": "how many ",
    "whitespace": " \n",
}


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


@pytest.mark.parametrize("unit", SHAPES.values(), ids=SHAPES.keys())
def test_a_long_message_of_one_shape_reads_like_a_short_one(
    screen: LexiconScreen, unit: str
) -> None:
    # What a rule reads is bounded, so ten times the text finds the same things: the bounds
    # cut no phrase short, and a 4,096-character message (Telegram's limit) is read whole.
    short, long = screen.assess(_repeat(unit, 400)), screen.assess(_repeat(unit, 4096))
    assert (long.tier, long.categories, set(long.signals)) == (
        short.tier,
        short.categories,
        set(short.signals),
    )


def test_risk_at_the_end_of_a_long_message_is_still_found(screen: LexiconScreen) -> None:
    filler = _repeat(SHAPES["prose"], 4000)
    for digits in ("1" * 3000 + " ", "1 " * 1500):
        assert screen.assess(filler + digits + "I've taken 30 pills").tier == 4
    assert screen.assess("not " * 1000 + "I want to kill myself").tier >= 2
    assert screen.assess("💊" * 2000 + " goodbye").tier >= 2
