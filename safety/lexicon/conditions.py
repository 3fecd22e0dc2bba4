"""Rules for risks beside suicide, in both languages: psychosis and mania, eating disorders,
suicide pacts, and which kind of abuse a disclosure describes.

Psychosis and mania are rarely named by the person living them; what they write about is
voices, being watched, not sleeping, special powers. Such a message is tier 2 (a person who
needs a human to look at it), and tier 3 once the voices command harm or the belief puts life
at risk ("I can fly", "I can't die"). Eating disorders likewise: purging and starving are
tier 2, their medical emergencies (fainting, vomiting blood, chest pain) tier 3.
"""

from __future__ import annotations

from safety.rules import Rule

PSYCHOSIS = frozenset({"psychosis_mania"})
PSYCHOSIS_SUICIDE = frozenset({"psychosis_mania", "suicide"})
PSYCHOSIS_OTHERS = frozenset({"psychosis_mania", "harm_to_others"})
EATING = frozenset({"eating_disorder"})
EATING_MEDICAL = frozenset({"eating_disorder", "medical_emergency"})
PACT = frozenset({"suicide"})

_VOICES = r"(?:voices?|voice in my head|someone in my head|god|the devil|demons?|they)"
_COMMAND = r"(?:tell|tells|telling|told|order|orders|ordering|ordered|command|commands|want|wants)"
_SELF_HARM_ACTS = (
    r"(?:kill|hurt|cut|burn|end|drown|hang|punish) (?:my ?self|me)|die\b|jump\b|end it"
    r"|stop eating|walk into traffic"
)
_DAYS = r"(?:\d{1,9}|two|three|four|five|six|seven|several|many|a few) (?:days|nights)"

EN: list[Rule] = [
    Rule(
        "en.command_voices",
        rf"\b{_VOICES} (?:keeps? |are |is |have been |has been )?{_COMMAND} me (?:to )?"
        rf"(?:{_SELF_HARM_ACTS})",
        3,
        PSYCHOSIS_SUICIDE,
        exclude=r"\bthey (?:tell|told|want) me to (?:die|jump) (?:laughing|in)\b"
        r"|\bgod (?:wants|tells)"
        r" me to (?:die )?(?:to )?(?:sin|self)",
    ),
    Rule(
        "en.command_voices_others",
        rf"\b(?:voices?|voice in my head|god|the devil|demons?) (?:keeps? |are |is )?{_COMMAND}"
        r" me (?:to )?(?:kill|hurt|stab|attack|poison|punish) (?:him|her|them|my \w{1,40}|people"
        r"|someone|everyone|the \w{1,40})",
        3,
        PSYCHOSIS_OTHERS,
    ),
    Rule(
        "en.psychosis",
        r"\b(?:hearing|hear|heard) (?:voices|a voice|things that arent there)\b"
        r"|\bvoices? in my head\b|\bthe voices (?:are|keep|say|said|told|wont|got|getting)\b"
        r"|\b(?:is|are|keeps?) poisoning (?:me|us|our \w{1,40}|my \w{1,40})\b"
        r"|\b(?:put|implanted|planted) (?:a |an )?(?:\w{1,40} )?(?:chip|tracker|device|implant) in my\b"
        r"|\b(?:they|people|someone|the government|the cia|the fbi|my neighbou?rs?) (?:are|is|keep)"
        r" (?:watching|following|tracking|poisoning|spying on|reading) (?:me|my (?:mind"
        r"|thoughts))\b|\b(?:put|implanted|planted) (?:a )?(?:chip|device|camera|tracker)s? in"
        r" (?:my|me)\b|\b(?:tv|radio|television|the news|songs?) (?:is|are) (?:sending|talking to"
        r"|giving) me (?:messages|signs|signals)?\b|\bsomeone (?:is )?(?:controlling|inserting)"
        r" my (?:thoughts|mind|body)\b|\bseeing (?:things|people|shadows) (?:that )?(?:arent"
        r" there|nobody else)",
        2,
        PSYCHOSIS,
        exclude=r"\b(?:in (?:the|a|my) (?:book|novel|film|movie|show|game|dream|story)|(?:book"
        r"|novel|film|movie|character|song) (?:about|where))\b|\bhear voices (?:from|through)"
        r" the (?:wall|neighbou?rs?|street)|\bvoices? in my head (?:reading|when i read)",
    ),
    Rule(
        "en.mania",
        rf"\b(?:havent|have not|hasnt|not|didnt|did not|no) (?:slept|sleep|needed sleep)"
        rf" (?:in|for) {_DAYS}\b.{{0,200}}\b(?:god|chosen|invincible|immortal|cant die|can not die"
        r"|cannot die|can fly|genius|messiah|special powers?|telepathic|destined|mission)\b"
        r"|\b(?:i am|im) (?:god|the chosen one|a prophet|the messiah|invincible|immortal)\b"
        r"|\bi (?:can|could) (?:fly|read (?:peoples|everyones|minds))\b",
        2,
        PSYCHOSIS,
        exclude=r"\b(?:feel like|felt like|in (?:the|this) game|dream(?:ed|t)? (?:that|i)|as if"
        r"|at (?:chess|poker|this|cooking)|invincible (?:at|in) )\b|\bi (?:can|could) fly (?:to"
        r"|home|out|there|back|economy|business)\b",
    ),
    Rule(
        "en.mania_danger",
        r"\b(?:i (?:can|could) fly|i (?:am|m) invincible|i (?:cant|cannot|can not|wont) die"
        r"|(?:im|i am) immortal|nothing can (?:hurt|kill|touch) me|(?:cars|bullets|they)"
        r" (?:cant|cannot|can not|wont) (?:hit|hurt|touch|kill) me)\b"
        r".{0,200}\b(?:jump|roof|balcony|window|bridge|cliff|traffic|highway|drive|driving|prove)\b"
        r"|\b(?:jump|roof|balcony|window|bridge|cliff|traffic|highway)\b.{0,200}\b(?:i (?:can|could)"
        r" fly|i (?:am|m) invincible|i (?:cant|cannot|can not|wont) die|nothing can (?:hurt"
        r"|kill) me)\b",
        3,
        PSYCHOSIS_SUICIDE,
    ),
    Rule(
        "en.eating_disorder",
        r"\b(?:made|make|making) my ?self (?:throw up|puke|vomit|sick)\b|\bpurg(?:e|ed|ing)\b"
        r"|\bbinge(?:d|ing)? and purg|\bstarv(?:e|ing|ed) my ?self\b|\b(?:havent|have not"
        r"|hasnt|didnt|not) (?:eaten|eat|had (?:any )?food) (?:anything )?(?:in|for) "
        rf"{_DAYS}\b|\b(?:taking|took|take|abusing) (?:\w{{1,40}} )?laxatives\b|\b\d{{1,9}} cal(?:ories)? a day\b"
        r"|\b0 cal\b|\bwater fast(?:ing)?\b|\bbmi (?:1[0-6]|[5-9])(?:\.\d)?\b|\bdiet pills\b|\bipecac\b"
        r"|\b(?:anorexi[ac]"
        r"|bulimi[ac]|pro ?ana|thinspo)\b|\bfingers? down my throat\b",
        2,
        EATING,
        exclude=r"\bpurg(?:e|ed|ing) (?:my|the|old|files|emails|closet|wardrobe|cache|data|list)"
        r"|\bstarv(?:e|ing) my ?self (?:of|from) (?:sleep|fun|social)",
    ),
    Rule(
        "en.eating_emergency",
        r"\b(?:vomit(?:ing|ed)?|throwing up|threw up|puk(?:ing|ed)) (?:up )?blood\b"
        r"|\b(?:fainted|passed out|blacked out|collapsed|chest (?:pain|hurts)|heart (?:is )?"
        r"(?:racing|skipping|pounding|fluttering|beating weird)|heartbeat (?:is )?(?:all )?(?:weird"
        r"|irregular|off|funny|skipping)|cramp(?:s|ing)?|black(?:ed)? out|coffee grounds|flutter\w{0,40}"
        r"|fainted)\b.{0,200}\b(?:not eat|havent eaten|cal a day|diet pills|ipecac|bmi"
        r"|no food|purg|throw(?:ing)? up|laxatives|starv|fasting|fast for)"
        r"|\b(?:not eat|havent eaten|no food|purg|throw(?:ing)? up|laxatives|starv|fasting|cal a day"
        r"|diet pills|ipecac|water fast"
        r"|fast for)\w{0,40}\b.{0,200}\b(?:fainted|passed out|blacked out|collapsed|chest (?:pain|hurts)"
        r"|heart (?:is )?(?:racing|skipping|pounding|fluttering))\b",
        3,
        EATING_MEDICAL,
    ),
    Rule(
        "en.pact",
        r"\bsuicide pact\b|\b(?:die|end it|end our lives|kill ourselves|go) together\b"
        r"|\bwe (?:both )?(?:decided|agreed|promised|planned|are going|re going|will) to (?:die"
        r"|end it|end our lives|kill ourselves|jump)\b|\b(?:kill|end) ourselves\b",
        3,
        PACT,
        exclude=r"\b(?:go|went|going|grow old|die laughing) together (?:to|for|on|at|with|after"
        r"|and)\b|\bgo together like\b|\bwe (?:are|re) going to die (?:laughing|of (?:boredom"
        r"|embarrassment))",
    ),
    Rule(
        "en.abuse_sexual",
        r"\b(?:rap(?:e|ed|es|ing)|molest\w{0,40}|sexual(?:ly)? (?:assault\w{0,40}|abus\w{0,40}|harass\w{0,40})"
        r"|groom(?:ed|ing)|touch(?:es|ed|ing)? me (?:down there|there|inappropriately|at night)"
        r"|forced? me to (?:have sex|do sexual|touch)|incest|nudes?)\b",
        categories=frozenset({"abuse", "abuse_sexual"}),
        role="qualifier",
    ),
    Rule(
        "en.abuse_domestic",
        r"\b(?:husband|wife|boyfriend|girlfriend|partner|bf|gf|ex|fianc[eé]e?|spouse)\b"
        r"|\bdomestic (?:violence|abuse)\b",
        categories=frozenset({"abuse", "abuse_domestic"}),
        role="qualifier",
    ),
    Rule(
        "en.abuse_child",
        r"\b(?:im|i am|i m) (?:only )?(?:[5-9]|1[0-7]|five|six|seven|eight|nine|ten|eleven|twelve"
        r"|thirteen|fourteen|fifteen|sixteen|seventeen)\b(?! (?:years|yrs) (?:ago|into|in))"
        r"|\b(?:my|our) (?:son|daughter|kids?|child|children|baby|little (?:brother|sister))\b"
        r"|\b(?:stepdad|stepfather|stepmom|stepmother|my (?:dad|father|mom|mum|mother|parents"
        r"|uncle|teacher|coach))\b",
        categories=frozenset({"abuse", "abuse_child"}),
        role="qualifier",
    ),
]

_VOICE_ZH = r"(?:有(?:个)?声音|那个声音|脑子里的声音|脑子里有人|耳边有人|有人在我脑子里|神|上帝|鬼)"
_DIE_ZH = r"(?:去死|死|自杀|跳下去|跳楼|杀了自己|伤害自己|割|结束自己)"

ZH: list[Rule] = [
    Rule(
        "zh.command_voices",
        rf"{_VOICE_ZH}(?:一直|总是|老是|又|在)?(?:叫|让|命令|逼|催|要)我{_DIE_ZH}",
        3,
        PSYCHOSIS_SUICIDE,
    ),
    Rule(
        "zh.command_voices_others",
        rf"{_VOICE_ZH}(?:一直|总是|老是|又|在)?(?:叫|让|命令|逼|催|要)我(?:去)?(?:杀|砍|捅|伤害|毒死)"
        r"(?:他|她|他们|别人|人|[^\s，。]{1,4})",
        3,
        PSYCHOSIS_OTHERS,
    ),
    Rule(
        "zh.psychosis",
        r"(?:听到|听见|总听到|一直听到)(?:有)?(?:声音|人在?(?:说话|骂我|叫我|议论我))"
        r"|脑子里(?:有|的)(?:声音|人在说话)|(?:有人|他们|邻居|国家|警察)(?:一直|在|总是)?(?:监视|跟踪|监听"
        r"|偷听|控制)(?:我|着我)|(?:被|有人给我)(?:植入|装)了?(?:芯片|窃听器|监控)|电视\S{0,6}(?:给我|对我)"
        r"(?:传|发|说)|有人(?:在)?(?:控制|偷走)我的(?:思想|脑子|想法)|看到(?:别人看不到|不存在)的",
        2,
        PSYCHOSIS,
        exclude=r"(?:电影|小说|剧|游戏|梦里|梦见|故事)(?:里|中)?|听到声音(?:很|太)?(?:吵|大)|被监控拍到",
    ),
    Rule(
        "zh.mania",
        r"(?:好几|几|[两三四五六七八九十]|\d{1,9})(?:天|个晚上)(?:都)?没(?:有)?睡(?:觉)?.{0,200}(?:我是神|被选中"
        r"|使命|死不了|会飞|识飞|无所不能|天才|救世主|超能力|拯救世界|无穷的能量)"
        r"|我是(?:神|上帝|救世主|被选中的人|天选之人)(?!经病)|我是来拯救世界的"
        r"|我(?:有|拥有)(?:超能力|特异功能)|我(?:会飞|死不了|刀枪不入)",
        2,
        PSYCHOSIS,
        exclude=r"(?:游戏|梦里|梦见|感觉|好像|仿佛|仿佛)(?:里)?|我会飞(?:去|到|回|往)",
    ),
    Rule(
        "zh.mania_danger",
        r"(?:我会飞|我死不了|刀枪不入|没有什么能伤害我|撞不到我|伤不了我|杀不死我)"
        r".{0,200}(?:跳|楼顶|天台|窗|阳台|桥|马路|飙车|逆行|高速|证明)"
        r"|(?:跳|楼顶|天台|窗|阳台|桥|马路|飙车|逆行|高速).{0,200}(?:我会飞|我死不了|刀枪不入|没有什么能伤害我"
        r"|撞不到我|伤不了我|杀不死我)",
        3,
        PSYCHOSIS_SUICIDE,
    ),
    Rule(
        "zh.eating_disorder",
        r"催吐|抠(?:喉|嗓子)|暴食(?:后|完)?(?:又)?(?:吐|催吐)|吃完(?:就|又)?(?:去)?(?:吐掉|抠)"
        r"|(?:好几|几|[两三四五六七八九十]|\d{1,9})天(?:都)?没(?:有)?吃(?:东西|饭|任何东西)|一天(?:只)?吃一(?:个|顿|点|口)"
        r"|(?:吃|用)泻药(?:减肥|瘦)|(?:厌食|暴食)症|饿(?:着)?自己|不敢吃(?:东西|饭)|绝食|减肥药|断食"
        r"|每天只吃\d{1,9}卡|果导片|吐根|催吐药|bmi\s?(?:剩)?(?:1[0-6]|[5-9])(?:\.\d)?(?!\d)",
        2,
        EATING,
        exclude=r"没吃(?:饭)?(?:呢|吗)|绝食(?:抗议|示威)",
    ),
    Rule(
        "zh.eating_emergency",
        r"(?:吐|呕)血|(?:晕倒|昏倒|晕过去|昏过去|心慌|心跳(?:好|很)?(?:快|乱|不齐)|胸(?:口)?(?:疼|痛|闷))"
        r".{0,200}(?:没吃|不吃|催吐|泻药|节食|饿|一天(?:只)?吃一)|(?:没吃|不吃|催吐|泻药|节食|饿|一天(?:只)?吃一)"
        r".{0,200}(?:晕倒|昏倒|晕过去|昏过去"
        r"|心慌|心跳(?:好|很)?(?:快|乱|不齐)|胸(?:口)?(?:疼|痛|闷))",
        3,
        EATING_MEDICAL,
    ),
    Rule(
        "zh.pact",
        r"(?:一起|相约|约好|约着)(?:去)?(?:死|自杀|轻生|走|跳|烧炭|上路|结束|离开这个世界)"
        r"|殉情|(?:找|约)(?:人|个伴|同伴)(?:一起)?(?:自杀|烧炭|死)|自杀(?:群|伙伴|搭子)",
        3,
        PACT,
        exclude=r"一起走(?:吧|路|回|去|着|过|到)|一起走走|一起(?:死|走)(?:机|了)?(?:游戏|副本)",
    ),
    Rule(
        "zh.abuse_sexual",
        r"性侵|强奸|猥亵|乱摸|摸我|侵犯|性骚扰|逼我(?:看|拍|发)|裸照|下体",
        categories=frozenset({"abuse", "abuse_sexual"}),
        role="qualifier",
    ),
    Rule(
        "zh.abuse_domestic",
        r"家暴|家庭暴力|老公|丈夫|老婆|妻子|男朋友|女朋友|男友|女友|对象|前夫|前妻|未婚夫",
        categories=frozenset({"abuse", "abuse_domestic"}),
        role="qualifier",
    ),
    Rule(
        "zh.abuse_child",
        r"我(?:才|只有|今年)?(?:[5-9]|1[0-7]|[五六七八九十]|十[一二三四五六七])岁|(?:上|读)(?:小学|初中|初[一二三])"
        r"|(?:我|我的)(?:儿子|女儿|孩子|小孩|宝宝)|继父|继母|后爸|后妈|(?:我)?(?:爸|妈|父母|舅舅|叔叔|老师|教练)",
        categories=frozenset({"abuse", "abuse_child"}),
        role="qualifier",
    ),
]

RULES: list[Rule] = [*EN, *ZH]
