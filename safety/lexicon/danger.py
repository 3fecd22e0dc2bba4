"""Danger that is about to recur or escalate, in both languages.

* Abuse: a disclosure of what was done (often in euphemism: "comes into my room at night",
  做了那种事, 毛手毛脚) is tier 2; with the abuser due back or about to be alone with the
  person, it is tier 3 (``abuse_act`` + ``abuser_returns``).
* Self-harm that escalates (deeper, towards an artery, the neck) or wounds that need a doctor
  (infected, white and numb burns, bleeding that will not stop) is tier 3.
* Command hallucinations that order harm, or a new parent who believes the baby is evil, are
  tier 3 whatever the wording of the command.
* Plans to hurt someone: a weapon or poison and someone waiting, followed or singled out.
"""

from __future__ import annotations

from safety.rules import Rule

ABUSE = frozenset({"abuse"})
SELF_HARM_MEDICAL = frozenset({"self_harm", "medical_emergency"})
SELF_HARM_SUICIDE = frozenset({"self_harm", "suicide"})
PSYCHOSIS_HARM = frozenset({"psychosis_mania", "self_harm"})
PSYCHOSIS_OTHERS = frozenset({"psychosis_mania", "harm_to_others"})
OTHERS = frozenset({"harm_to_others"})

EN: list[Rule] = [
    Rule(
        "en.abuse_act",
        r"\b(?:raped|rapes|molest\w{0,40}|sexually (?:assaulted|abused)|forced (?:himself|herself)"
        r" on me|(?:keeps?|kept|started|starts|been) touching me|touch(?:es|ed)? me (?:down there"
        r"|there|when|at night|inappropriately|under)|comes? into my (?:room|bed) at night"
        r"|gets? into my bed|makes? me (?:stay|sleep|touch|do things|undress|take (?:off|my))"
        r"|says? (?:its|it is) our secret|woke up (?:in|at) (?:a |some )?(?:strangers?|strange|someone)\w{0,40}"
        r" (?:\w{1,40} ){0,4}(?:no memory|dont remember|cant remember)"
        r"|(?:threaten\w{0,40}|make|makes|made|forc\w{0,40}) (?:\w{1,40} ){0,7}(?:sleep"
        r" with|have sex with|send (?:nudes|pictures|photos))|hits? me with (?:a|the|his|her)"
        r" (?:belt|hanger|stick|cable|cord|shoe))\b",
        2,
        ABUSE,
        exclude=r"\b(?:in (?:the|a) (?:book|film|movie|show|game|novel|documentary|news))\b",
    ),
    Rule(
        "en.cue.abuser_returns",
        r"\b(?:again|staying over|coming (?:home|back|over|round)|home alone with|alone with me"
        r"|(?:drive|take|pick) me (?:home|up) alone|when nobody s there|when no one s there"
        r"|when (?:she|mum|mom|dad|they) (?:is|are|s|re) (?:at work|away|out|on nights)"
        r"|on nights|parents are away|tomorrow|tonight|this weekend|next week)\b",
        role="abuser_returns",
    ),
    Rule(
        "en.self_harm_escalating",
        r"\b(?:go(?:ing)?|cut(?:ting)?|try(?:ing)?) (?:\w{1,40} ){0,2}deeper\b"
        r"|\bhit the (?:artery|vein)\b|\b(?:carv\w{0,40}|cut\w{0,40}|burn\w{0,40}|slic\w{0,40}|brand\w{0,40}) (?:\w{1,40} ){0,5}"
        r"(?:into|on|onto) my (?:forearm|arm|wrist|thigh|leg|skin|stomach|hip)s?\b(?=.{0,200}\b(?:now|tonight"
        r"|again|deeper))|\blighter (?:\w{1,40} ){0,4}(?:for|on|to|against) my (?:thigh|arm|wrist|skin|leg)"
        r"|\bpunch\w{0,40} (?:the |a )?(?:wall|mirror|window) (?:\w{1,40} ){0,3}(?:till|until)\b"
        r"|\bdown the (?:arm|wrist) not across\b|\b(?:cut|slit|slice) my (?:throat|neck)\b"
        r"|\bcutting (?:\w{1,40} ){0,3}isnt enough (?:anymore)?\b",
        3,
        SELF_HARM_SUICIDE,
        exclude=r"\bdeeper (?:into|in) (?:debt|the|my|thought|meaning|understanding|sleep)\b",
    ),
    Rule(
        "en.self_harm_wound",
        r"\b(?:(?:burn(?:ed|t|ing)?|cut(?:ting)?|scratch(?:ed|ing)?)"
        r" (?:my ?self|my (?:arms?|wrists?"
        r"|thighs?|legs?|skin|stomach))|my (?:cuts|burns|wounds|self ?harm wounds)) (?:\w{1,40} ){0,12}"
        r"(?:infected|pus|oozing"
        r"|white and leathery|leathery|cant feel (?:it|anything)|wont close|needs? stitches"
        r"|(?:wont|will not) stop bleeding|fever|gone (?:black|green|white))\b",
        3,
        SELF_HARM_MEDICAL,
        exclude=r"\b(?:cooking|oven|kitchen|accident|accidentally|sunburn\w{0,40}|paper cut|shaving|fell"
        r"|bike|tripped)\b",
    ),
    Rule(
        "en.command_harm",
        r"\b(?:the )?(?:voices?|god|the devil|demons?|someone in my head|the voice)\b (?:\w{1,40} ){0,3}"
        r"(?:says?|said|tell|tells|telling|told|want|wants|order\w{0,40}|command\w{0,40}|insist\w{0,40})\b"
        r"(?: \w{1,40}){0,8} (?:cut (?:out|off|open)?|kill|hurt|sacrifice|jump|burn|stab|blood|deal with"
        r"|punish|get rid of|gouge|drown)\b",
        3,
        PSYCHOSIS_HARM,
        exclude=r"\bgod (?:wants|tells) (?:\w{1,40} ){0,4}(?:love|forgive|kind)\b",
    ),
    Rule(
        "en.baby_is_evil",
        r"\b(?:the|my) (?:baby|child|son|daughter|kid) (?:is|was|s) (?:evil|the devil|possessed"
        r"|a demon|not (?:really )?mine|cursed|an imposter)\b|\b(?:replaced by|is) an imposter\b",
        3,
        PSYCHOSIS_OTHERS,
        exclude=r"\b(?:lol|haha|so cute|little devil|cheeky)\b",
    ),
    Rule(
        "en.cue.lying_in_wait",
        r"\b(?:waiting|wait) (?:for (?:him|her|them)|with (?:the|a|my) \w{1,40})\b|\boutside (?:his|her"
        r"|their|my \w{1,40}s|the) (?:flat|house|place|work|office|school)\b|\b(?:theyll|they will"
        r"|they ll|hell|she ll|shell) (?:see|pay|regret)\b|\b(?:get|kill|deal with) (?:him|her"
        r"|them) first\b|\bfirst period\b|\b(?:his|her) (?:drink|food|soup|coffee|tea)\b",
        role="target",
    ),
]

_ABUSER_ZH = (
    r"爸爸|爸|妈妈|妈|父亲|母亲|继父|继母|后爸|后妈|老公|丈夫|男朋友|男友|前夫|老婆|前男友|哥哥|表哥|堂哥|叔叔"
    r"|舅舅|姑父|姨父|爷爷|外公|老师|教练|领导|老板|上司|他|她"
)

ZH: list[Rule] = [
    Rule(
        "zh.abuse_act",
        rf"(?:{_ABUSER_ZH})\S{{0,10}}(?:打我|揍我|踢我|掐我|摸我|亲我|压在|进我(?:的)?房间|钻进我|上我的床"
        r"|脱我|对我做了那种事|对我做那种事|对我毛手毛脚|对我动手动脚|强奸|性侵|猥亵)"
        r"|(?:被|遭)\S{0,4}(?:强奸|性侵|猥亵|侵犯)|毛手毛脚|动手动脚|做了那种事|不能告诉(?:爸妈|妈妈|别人|任何人)"
        r"|(?:强奸|性侵|猥亵)了?我",
        2,
        ABUSE,
        exclude=r"(?:电影|小说|新闻|剧)(?:里|中)|打我(?:的)?(?:电话|手机|微信|视频|主意)",
    ),
    Rule(
        "zh.cue.abuser_returns",
        r"又要来|又要住|又来|还要(?:跟|和)他|单独|家里就剩我和他|只剩我和他|今晚|明天|这周|下周|这个礼拜|这个周末"
        r"|又要去|回来就|等会",
        role="abuser_returns",
    ),
    Rule(
        "zh.abuse_threat",
        r"(?:要|会|说要|扬言要)(?:把我)?打(?:死|到)我|会被(?:打死|杀|弄死|打残)|打到我(?:不能|站不|走不)"
        r"|把我(?:的)?(?:手|腿|胳膊)(?:给)?打断|打断我的(?:手|腿)|打到(?:我)?骨(?:裂|折)",
        3,
        ABUSE,
        exclude=r"打死我了?(?:哈哈|lol|嘿嘿|笑死)|再不\S{0,10}就\S{0,3}打死我",
    ),
    Rule(
        "zh.self_harm_escalating",
        r"(?:割|划)\S{0,4}(?:更深|深一点|到动脉|动脉)|割脖子|割喉|(?:割手|自残)\S{0,6}没感觉了",
        3,
        SELF_HARM_SUICIDE,
    ),
    Rule(
        "zh.self_harm_wound",
        r"(?:烫|割|划|烧)(?:了)?(?:自己|手|胳膊|腿|手腕).{0,24}?(?:发白|流脓|化脓|感染|发烧|发炎|缝针|止不住|好深)"
        r"|(?:烟头|打火机|刀片)\S{0,6}(?:往|在|按)\S{0,4}(?:手臂|胳膊|腿|手腕|大腿)"
        r"|(?:打|捶|砸)墙\S{0,4}(?:到|得)\S{0,4}(?:骨头|出血|流血)",
        3,
        SELF_HARM_MEDICAL,
        exclude=r"做饭|炒菜|不小心|切菜",
    ),
    Rule(
        "zh.command_harm",
        r"(?:声音|有人|神|上帝|鬼|恶魔)\S{0,6}(?:命令|叫|让|逼|要|说)\S{0,4}我.{0,24}?(?:杀|砍|捅|死|挖|割|跳|伤害|拔出来"
        r"|献祭|赎罪|烧)",
        3,
        PSYCHOSIS_HARM,
        exclude=r"(?:电影|小说|游戏|剧)(?:里|中)",
    ),
    Rule(
        "zh.baby_is_evil",
        r"(?:孩子|宝宝|女儿|儿子)是(?:恶魔|魔鬼|假的|被附身)|(?:妈|爸|她|他)是假的|被(?:掉包|调包|替换)了",
        3,
        PSYCHOSIS_OTHERS,
    ),
    Rule(
        "zh.cue.lying_in_wait",
        r"(?:在|去)\S{0,8}等(?:他|她|他们)|下在(?:他|她|他们)的|(?:他|她)的(?:汤|水杯|饭|水|茶)|先杀了|跟踪(?:他|她)?",
        role="target",
    ),
]

# Killing someone and then oneself: both at once, and a plan by construction.
MURDER_SUICIDE: list[Rule] = [
    Rule(
        "en.murder_suicide",
        r"\bkill (?:him|her|them|my \w{1,40}|that \w{1,40}|the \w{1,40})(?: \w{1,40}){0,3} (?:and|then|before i)"
        r" (?:then )?(?:kill )?(?:myself|my ?self|me too)\b|\btake (?:him|her|them|the kids"
        r"|the baby|my \w{1,40}) with me\b",
        3,
        frozenset({"harm_to_others", "suicide"}),
        exclude=r"\bkill (?:him|her|them)(?: \w{1,40}){0,3} and then (?:kill )?myself (?:laughing"
        r"|at)\b|\btake (?:him|her|them|my \w{1,40}) with me (?:to|on|for|when|shopping)\b",
    ),
    Rule(
        "zh.murder_suicide",
        r"杀了.{0,12}?(?:再|然后|就)(?:自杀|去死|跳楼|了结自己)|(?:带着|带上)(?:孩子|宝宝|他们|她|他)(?:一起)?(?:走|去死|死)",
        3,
        frozenset({"harm_to_others", "suicide"}),
        exclude=r"带着(?:孩子|宝宝)(?:一起)?走(?:路|亲戚|了一圈|走)",
    ),
]

# A parent at the edge of hurting a baby; removing an imagined implant; planning around cameras.
ACUTE: list[Rule] = [
    Rule(
        "en.harm_baby",
        r"\b(?:about to|going to|gonna|want to|scared i ll|afraid i ll|might) (?:\w{1,40} ){0,2}(?:shake"
        r"|throw|smother|drop|suffocate|hurt) (?:him|her|the baby|my baby|it|them)\b(?=.{0,200}\b(?:baby"
        r"|crying|screaming|newborn|infant|toddler|\dyo|month old))|\b(?:baby|newborn|infant)\b.{0,200}\b(?:about"
        r" to|going to|gonna) (?:\w{1,40} ){0,2}(?:shake|throw|smother|drop)\b",
        3,
        frozenset({"harm_to_others", "abuse", "abuse_child"}),
    ),
    Rule(
        "zh.harm_baby",
        r"(?:差点|想|要|忍不住)(?:把)?(?:他|她|孩子|宝宝|婴儿)\S{0,4}(?:往地上)?(?:摔|扔|掐|捂|闷|摇)"
        r".{0,20}(?:控制不住|受不了|手(?:还在)?抖)|(?:控制不住|受不了).{0,20}(?:差点|想)(?:把)?(?:他|她|孩子|宝宝)\S{0,4}(?:摔|扔|掐|捂|闷)",
        3,
        frozenset({"harm_to_others", "abuse", "abuse_child"}),
    ),
    Rule(
        "en.psychosis_self_surgery",
        r"\b(?:get|cut|dig|pull|take|carve) (?:it|the chip|them|the tracker|the implant) out"
        r"(?: \w{1,40}){0,4} (?:with|using) (?:the |a |my )?(?:pliers|knife|blade|scissors|razor|needle"
        r"|screwdriver)\b|\b(?:chip|tracker|implant|device)s? in my (?:\w{1,40} )?(?:molar|tooth|teeth|arm"
        r"|head|skin|neck)\b(?=.{0,200}\b(?:pliers|knife|blade|cut|dig|pull))",
        3,
        frozenset({"psychosis_mania", "self_harm"}),
    ),
    Rule(
        "zh.psychosis_self_surgery",
        r"(?:芯片|定位器|监听器|窃听器).{0,24}(?:用)?(?:钳子|刀|剪刀|针)\S{0,4}(?:拔|挖|割|剪|撬)(?:出来|掉)",
        3,
        frozenset({"psychosis_mania", "self_harm"}),
    ),
    Rule(
        "en.evading_cameras",
        r"\b(?:timed|know|figured out|worked out|checked)(?: exactly)? (?:when|where) the (?:camera"
        r"|cctv)s? (?:\w{1,40} ){0,3}(?:away|off|blind|doesnt (?:cover|see)|cant see)\b",
        3,
        frozenset({"harm_to_others"}),
    ),
    Rule(
        "zh.evading_cameras",
        r"监控\S{0,4}(?:转头|照不到|拍不到|死角)\S{0,10}(?:算好|摸清|知道)|(?:没有监控|监控死角).{0,20}(?:摸清楚|算好|等)"
        r"|(?:摸清楚|算好)(?:了)?.{0,12}(?:没有监控|监控死角)",
        3,
        frozenset({"harm_to_others"}),
    ),
]

RULES: list[Rule] = [*EN, *ZH, *MURDER_SUICIDE, *ACUTE]
