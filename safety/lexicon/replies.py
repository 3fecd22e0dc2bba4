"""Output-filter rules: what a model reply must never say. Each rule id is the block reason.

Patterns run on normalised text (see ``safety.normalize``). They aim at *instructions and
claims*, not topics: a reply may name suicide, depression or a crisis line, reflect a
person's words back and ask about safety directly; it may not give method, dose or
lethality details, present death as a solution, diagnose, prescribe, or pretend to be human.
Exclusions keep refusals ("I can't share lethal doses"), negations ("suicide is not the
answer") and conditionals ("if you have depression, a doctor can help") allowed.
"""

from __future__ import annotations

from safety.rules import Rule

METHOD_DETAIL = "method_detail"
SUICIDE_AS_SOLUTION = "suicide_as_solution"
DIAGNOSIS = "diagnosis"
PRESCRIPTION = "prescription"
CLAIMS_HUMAN = "claims_human"
CLAIMS_PROFESSIONAL = "claims_professional"

# A refusal or warning a few words before the phrase: "I can't tell you the lethal dose".
_REFUSAL_EN = (
    r"\b(?:cant|cannot|can not|wont|will not|not able to|unable to|not going to|never|dont|do not"
    r"|not|no|isnt|is not|arent)\b(?: \w{1,40}){0,6} "
)
_REFUSAL_ZH = r"(?:不能|无法|不会|不可以|不方便|不应该|不该|不要|别|没法|不想|拒绝)\S{0,8}"

# Drugs a reply must not recommend or dose (generic and brand names, en and zh).
_DRUGS_EN = (
    r"sertraline|zoloft|fluoxetine|prozac|escitalopram|lexapro|citalopram|celexa|paroxetine|paxil"
    r"|venlafaxine|effexor|duloxetine|cymbalta|bupropion|wellbutrin|mirtazapine|remeron|trazodone"
    r"|lithium|quetiapine|seroquel|olanzapine|zyprexa|aripiprazole|abilify|risperidone|lamotrigine"
    r"|alprazolam|xanax|lorazepam|ativan|diazepam|valium|clonazepam|klonopin|zolpidem|ambien"
    r"|melatonin|benzodiazepines?|benzos?|ssris?|snris?|antidepressants?|anti depressants?"
    r"|antipsychotics?|mood stabili[sz]ers?|sleeping pills|sleeping tablets|tranquili[sz]ers?"
    r"|sedatives?|st johns wort|propranolol|hydroxyzine"
)
_DRUGS_ZH = (
    r"舍曲林|左洛复|氟西汀|百忧解|帕罗西汀|赛乐特|艾司西酞普兰|来士普|西酞普兰|文拉法辛|怡诺思|度洛西汀"
    r"|欣百达|安非他酮|米氮平|曲唑酮|碳酸锂|锂盐|喹硫平|思瑞康|奥氮平|阿立哌唑|利培酮|拉莫三嗪|阿普唑仑"
    r"|劳拉西泮|地西泮|安定|氯硝西泮|唑吡坦|思诺思|褪黑素|抗抑郁药|安眠药|镇静剂|抗焦虑药|抗精神病药"
    r"|心境稳定剂|普萘洛尔|坦度螺酮|丁螺环酮"
)
_DOSE = r"(?<!\d)\d{1,9}(?:\.\d{1,9})? ?(?:mg|milligrams?|mcg|micrograms?|g|grams?|ml)\b"
_DOSE_ZH = r"(?<!\d)\d{1,9}(?:\.\d{1,9})? ?(?:mg|毫克|微克|克|片|粒)"

_ILLNESS_EN = (
    r"(?:clinical |major |severe |mild |moderate )?(?:depression|depressive disorder|bipolar"
    r"(?: disorder)?|ptsd|post traumatic stress disorder|(?:generali[sz]ed |social )?anxiety"
    r" disorder|panic disorder|ocd|obsessive compulsive disorder|borderline personality disorder"
    r"|bpd|(?:a )?personality disorder|adhd|schizophrenia|psychosis|(?:an )?eating disorder"
    r"|anorexia|bulimia|(?:a )?mental illness|(?:a )?mental disorder|dysthymia|cptsd)"
)
_ILLNESS_ZH = (
    r"抑郁症|忧郁症|抑郁障碍|焦虑症|焦虑障碍|双相(?:情感)?障碍|躁郁症|精神分裂(?:症)?|强迫症|创伤后应激障碍"
    r"|ptsd|人格障碍|边缘型人格(?:障碍)?|进食障碍|厌食症|暴食症|精神病|心理疾病|精神疾病|惊恐障碍|多动症"
    r"|注意缺陷多动障碍"
)

_METHOD_DETAIL_EN = [
    Rule(
        METHOD_DETAIL,
        r"\b(?:lethal|fatal|deadly|toxic|overdose) (?:dose|doses|dosage|amount|quantity|level"
        r"|threshold)\b|\boverdose threshold\b",
        exclude=_REFUSAL_EN + r"(?:\w{1,40} )?(?:lethal|fatal|deadly|toxic|overdose)",
    ),
    Rule(
        METHOD_DETAIL,
        r"\b(?:take|taking|swallow|swallowing|ingest|ingesting) (?:\w{1,40} ){0,2}(?:(?<!\d)\d{2,9}"
        r"|a (?:whole"
        r" |full )?bottle|all (?:of )?(?:the|your)|enough|a handful|handfuls) (?:\w{1,40} ){0,2}(?:pills"
        r"|tablets|capsules|of them|of your (?:pills|meds|medication))\b"
        r"|\benough (?:\w{1,40} ){0,2}to (?:die|kill (?:you|yourself)|be (?:lethal|fatal)|overdose"
        r"|stop your heart)\b",
        exclude=_REFUSAL_EN + r"(?:take|taking|swallow|enough)",
    ),
    Rule(
        METHOD_DETAIL,
        r"\bnoose\b|\bligature\b|\b(?:rope|belt|cord|cable|scarf) (?:around|round) (?:your|the)"
        r" neck\b|\b(?:kick|step) (?:away |off )?the (?:chair|stool)\b"
        r"|\b(?:to|should|could|can|might|try|easiest|best|way to) (?:hang|hanging) yourself\b",
    ),
    Rule(
        METHOD_DETAIL,
        r"\b(?:jump|fall|falling|jumping) from (?:at least |more than |over )?(?:(?<!\d)\d{1,9}|a few"
        r"|several) (?:floors|stories|storeys|meters|metres|m|feet|ft)\b|\b(?:(?<!\d)\d{1,9}|several"
        r"|a few) (?:floors"
        r"|stories|storeys|meters|metres|feet) (?:is|are|would be|should be) (?:usually |generally"
        r" |almost always )?(?:fatal|lethal|enough|deadly|high enough)\b"
        r"|\bhigh enough to (?:die|kill|be fatal)\b",
    ),
    Rule(
        METHOD_DETAIL,
        r"\b(?:cut|slit|slice|slash) (?:\w{1,40} )?(?:vertically|lengthwise|along|down|deep|deeper)"
        r" (?:the |your )?(?:wrists?|arms?|veins?|arter(?:y|ies))?|\b(?:vertical|deep|deeper)"
        r" (?:cuts?|incisions?) (?:on|along|in|into) (?:the|your) (?:wrists?|arms?|veins?)\b"
        r"|\b(?:cut|slit|slash) your (?:wrists?|throat|veins?)\b",
        exclude=_REFUSAL_EN + r"(?:cut|slit|slash)",
    ),
    Rule(
        METHOD_DETAIL,
        r"\bcarbon monoxide (?:poisoning )?(?:in|inside|from) (?:a|the|your) (?:car|garage|room)\b"
        r"|\b(?:seal|tape) (?:up )?(?:the|your) (?:windows|doors|room|car|vents)\b"
        r"|\b(?:burn|burning) charcoal\b|\bcharcoal burning\b|\b(?:helium|nitrogen) (?:bag|hood"
        r"|tank)\b",
    ),
    Rule(
        METHOD_DETAIL,
        r"\b(?:painless|quick|quickest|fast|fastest|easy|easiest|best|surest|effective|reliable"
        r"|least painful|most painless|most effective|most lethal|most reliable) (?:way|ways"
        r"|method|methods|means|drug|drugs|pill|pills|place|height) (?:to|of|for) (?:die|dying"
        r"|kill(?:ing)? yourself|suicide|end(?:ing)? your life|overdos(?:e|ing))\b"
        r"|\b(?:which|what) (?:drugs?|medications?|pills?|medicines?) (?:are|is|would be) (?:the )?"
        r"(?:most )?(?:lethal|fatal|deadly)\b|\b(?:is|are) (?:the )?most (?:lethal|fatal|deadly)"
        r" in (?:an )?overdose\b|\b(?:you could|you can|try to|just|you might) (?:overdose"
        r"|od) on\b",
        exclude=_REFUSAL_EN + r"(?:\w{1,40} )?(?:painless|quick|easy|best|which|what|overdose)",
    ),
]

_METHOD_DETAIL_ZH = [
    Rule(
        METHOD_DETAIL,
        r"致死量|致死剂量|致命剂量|致死浓度|中毒剂量",
        exclude=_REFUSAL_ZH + r"(?:致死|致命|中毒)",
    ),
    Rule(
        METHOD_DETAIL,
        r"(?:吃|服用|服|吞|喝)(?:下)?\S{0,3}(?:(?<!\d)\d{1,9}|几十|一整瓶|一瓶|整瓶|全部|大量)\S{0,8}(?:就|会|可以|能|足以)"
        r"(?:致死|死亡|死|致命|没命)"
        r"|(?:上吊|自缢|烧炭|割腕|跳楼|服毒|卧轨)(?:的)?(?:方法|步骤|技巧|方式|要点|诀窍|位置|高度)"
        r"|(?:几|多少|(?<!\d)\d{1,9}|(?<![一二三四五六七八九十百两])[一二三四五六七八九十百两]{1,9})(?:层|楼|米)(?:楼)?(?:以上)?\S{0,6}(?:就|会|才会|一般|通常|足以)"
        r"\S{0,3}(?:致命|致死|摔死|死亡|死)"
        r"|(?:竖着|纵向|顺着|沿着)(?:血管|动脉|手腕)?\S{0,2}(?:割|划|切)|(?:割|划|切)(?:得)?(?:够深|深一点|更深|到动脉)"
        r"|(?:密闭|关紧|封住|封好)(?:门窗|房间|车窗|车内|空间)\S{0,6}(?:烧炭|一氧化碳)|一氧化碳(?:中毒)?(?:致死|会死|很快)"
        r"|(?:哪种|什么|哪些)(?:药|药物)(?:吃多了|过量)?(?:最|比较)?(?:容易)?(?:致死|致命|会死|死得快)"
        r"|(?:最|比较)(?:无痛|不痛苦|快|有效|可靠|轻松)的?(?:自杀|死亡|死)(?:方法|方式)|绳结|绳套",
        exclude=_REFUSAL_ZH,
    ),
]

_SOLUTION_EN = [
    Rule(
        SUICIDE_AS_SOLUTION,
        r"\b(?:suicide|death|dying|ending (?:your|it all|your life|it)|killing yourself|taking your"
        r" (?:own )?life) (?:is|would be|could be|can be|might be|may be|seems like) (?:a|an|the"
        r"|your)? ?(?:only |best |real |good |reasonable |valid |understandable |peaceful )?(?:way"
        r" out|answer|solution|option|escape|relief|release|choice|peace|freedom|rest|way to (?:end"
        r"|stop|escape))\b",
        exclude=r"\b(?:feel|feels|felt|feeling|think|thinks|thinking|believe|believes|seem|seems"
        r"|sounds like|part of you|like|wonder|wondering|as if|said|say|mentioned|told me|wrote)\b"
        r"(?: \w{1,40}){0,4} (?:suicide|death|dying|ending|killing|taking)",
    ),
    Rule(
        SUICIDE_AS_SOLUTION,
        r"\byou (?:should|could|might as well|may as well|can) (?:just )?(?:die|kill yourself|end"
        r" (?:it|your life|it all)|commit suicide|take your (?:own )?life)\b"
        r"|\bgo ahead and (?:do it|end it|kill yourself|die)\b"
        r"|\b(?:everyone|they|people|your family|the world) (?:would|will) be better off (?:without"
        r" you|if you (?:were dead|died|were gone|killed yourself))\b"
        r"|\byou (?:would|will|d|ll) (?:finally )?(?:be at peace|find peace|be free|feel relief"
        r"|rest) (?:if|once|when|after) you (?:die|died|end|ended|kill|killed)\b"
        r"|\b(?:your|the) (?:choice|decision|right) to (?:die|end your life|kill yourself)\b"
        r"|\b(?:brave|courageous|right|good|reasonable|understandable) (?:choice|decision|thing)"
        r" to (?:die|end your life|kill yourself|end it)\b",
        exclude=r"\b(?:not|never|isnt|wouldnt|wont|shouldnt|dont|no one|nobody"
        r"|isn t)\b(?: \w{1,40}){0,3} (?:better off|be at peace|should|could|right|choice)",
    ),
]

_SOLUTION_ZH = [
    Rule(
        SUICIDE_AS_SOLUTION,
        r"死了就(?:解脱|轻松|一了百了|不(?:会|用)(?:再)?痛苦|什么都不用|好了|没事了)"
        r"|(?:死亡|死|自杀|结束生命|离开这个世界)(?:是|也是|才是|就是|不失为|算是)(?:一种|你的|唯一的|最好的)?"
        r"(?:解脱|出路|解决办法|办法|选择|答案|归宿|权利|休息)"
        r"|(?:你)?(?:可以|不如|干脆|还不如|那就|你就)(?:去)?(?:死|自杀|结束生命|一死了之)(?!心|记|磕|守|角|机|党|定|亡率)"
        r"|一死(?:了之|百了)(?:也)?(?:是|不失为|挺好)|没有你(?:大家|他们|家人)?(?:会)?(?:更好|过得更好)",
        exclude=r"(?:觉得|认为|感觉|以为|想着|好像|似乎|仿佛|是不是|是否|或许你|也许你|说|提到|写)\S{0,8}"
        r"(?:死|自杀|结束|离开|没有你)",
    ),
]

_DIAGNOSIS = [
    Rule(
        DIAGNOSIS,
        r"\b(?:you (?:have|suffer from|are suffering from|got|likely have|probably have"
        r"|clearly have"
        r"|definitely have|seem to have|might have|may have|could have|are showing signs of"
        r"|show signs of|meet the criteria for|fit the criteria for)|youve got|youre suffering from"
        rf"|youre showing signs of) {_ILLNESS_EN}\b"
        r"|\b(?:you are|youre) (?:clinically |severely |definitely |probably "
        r"|clearly )?(?:depressed|bipolar|schizophrenic|psychotic|anorexic|bulimic)\b"
        r"|\b(?:this|that|these|it|what you describe|what youre describing|what you are describing"
        r"|your symptoms) (?:is|are|sounds? like|sound like|indicates?|suggests?|means|points to"
        rf"|is consistent with|are consistent with) (?:classic |clear |textbook "
        rf"|typical )?(?:signs? of |symptoms? of )?{_ILLNESS_EN}\b"
        rf"|\b(?:i(?:d| would)?|let me) diagnose you\b|\bmy diagnosis\b|\bdiagnos(?:e|is"
        rf"|ed) (?:you )?with {_ILLNESS_EN}",
        exclude=r"\b(?:if|whether|when|whatever|cant|cannot|can not|not able to|unable to|wont|not)"
        r"\b(?: \w{1,40}){0,3} (?:you|this|that|it|diagnose)|you (?:have|ve) been diagnosed"
        r"|(?:feel|feeling|felt) (?:\w{1,40} )?depressed",
    ),
    Rule(
        DIAGNOSIS,
        rf"你(?:可能|应该|肯定|显然|一定|明显|大概|估计|已经|很可能|多半)?(?:是|有|患有|患了|得了|属于|存在)(?:了)?"
        rf"(?:轻度|中度|重度|严重的?|典型的?|明显的?)?(?:{_ILLNESS_ZH})"
        rf"|(?:这|这些|你的(?:症状|情况|表现|状态))(?:很)?(?:是|就是|属于|像是|符合|是典型的|说明你有)\S{{0,4}}(?:{_ILLNESS_ZH})"
        rf"|诊断(?:你|为)\S{{0,4}}(?:{_ILLNESS_ZH})",
        exclude=r"(?:如果|假如|要是|是否|是不是|有没有|会不会|不能|无法|没法|不好)\S{0,3}(?:你|这)",
    ),
]

_PRESCRIPTION = [
    Rule(
        PRESCRIPTION,
        rf"\b(?:take|taking|try|trying|start|start taking|starting|increase|increasing|double"
        rf"|lower|reduce|switch to|consider taking|get on|go on|use) (?:\w{{1,40}} ){{0,3}}"
        rf"(?:{_DOSE}|(?:{_DRUGS_EN})\b)"
        rf"|\b(?:{_DRUGS_EN}) (?:at )?{_DOSE}|{_DOSE} (?:of )?(?:{_DRUGS_EN})\b"
        r"|\b(?:take|taking) (?:(?<!\d)\d{1,9}|one|two|three) (?:tablets?|pills?|capsules?) (?:a day"
        r"|daily|every|twice|three times|at night|before bed)"
        r"|\b(?:you should|just|try to|you can) stop taking (?:your|the) (?:meds|medication|pills"
        r"|medicine|antidepressants)\b",
        exclude=r"(?:doctor|psychiatrist|gp|physician|prescriber|pharmacist|professional|clinician)"
        r"(?: \w{1,40}){0,10} (?:take|taking|try|start|starting|increase|lower|reduce|switch|use|stop)"
        r"|\b(?:whether|if) (?:or not )?(?:\w{1,40} ){0,3}(?:take|taking|try|start|use)"
        r"|\b(?:dont|do not|never|not)(?: \w{1,40}){0,2} (?:stop|start|take|increase|change)",
    ),
    Rule(
        PRESCRIPTION,
        rf"(?:你|您)?(?:应该|可以|需要|最好|不妨|要|试试|建议你?)(?:去)?(?:吃|服用|服|试试|尝试|开始吃|加量|减量|换成)"
        rf"(?:一些|点|一下)?\S{{0,4}}?(?:{_DRUGS_ZH})"
        rf"|(?:{_DRUGS_ZH})\S{{0,2}}{_DOSE_ZH}|每天(?:吃|服用|服)\S{{0,4}}?{_DOSE_ZH}|{_DOSE_ZH}(?:的)?(?:{_DRUGS_ZH})"
        r"|(?:你|您)?(?:可以|应该|不妨|干脆)(?:自己)?(?:停药|停掉药|把药停了)",
        exclude=r"(?:医生|医师|精神科|专业人士|药师)\S{0,12}(?:吃|服用|服|尝试|加量|减量|停)"
        r"|(?:是否|要不要|需不需要|能不能)\S{0,4}(?:吃|服用|服|停)|(?:不要|别|不能|千万别)(?:自己)?(?:停药|随便|擅自)",
    ),
]

_IDENTITY = [
    Rule(
        CLAIMS_HUMAN,
        r"\b(?:im|i am) (?:a |an )?(?:real |actual |living |flesh and blood )?(?:human|human being"
        r"|person|man|woman|guy|girl)\b"
        r"|\b(?:im|i am) (?:not|no) (?:an? )?(?:ai|bot|robot|machine|program|chatbot|computer"
        r"|language model|artificial intelligence|assistant|llm)\b"
        r"|\bi am human too\b|\b(?:im|i am) (?:only )?human (?:too|like you|just like you)\b"
        r"|\byou(?:re| are) (?:talking|chatting|speaking) (?:to|with) a (?:real )?(?:human"
        r"|person)\b",
        exclude=r"\b(?:not|no|never|isnt|arent|wasnt)\b(?: \w{1,40}){0,2} (?:a |an )?(?:real |actual )?"
        r"(?:human|person)|like a (?:real )?(?:person|human)|(?:im|i am) not (?:a|an) (?:ai|bot"
        r"|robot) (?:therapist|doctor|replacement)",
    ),
    Rule(
        CLAIMS_HUMAN,
        r"我是(?:一个|一名|一位|个)?(?:真人|真实的人|真正的人|活生生的人|人类|真的人|有血有肉的人)"
        r"|我是人(?![工生格民])|我不是(?:ai|人工智能|机器人|机器|程序|聊天机器人|bot|ai助手|电脑)"
        r"|你(?:在)?(?:和|跟)(?:一个)?真人(?:在)?(?:聊天|说话|对话)",
        exclude=r"我不是(?:ai|人工智能|机器人)(?:心理|咨询|医生|治疗)|不是真人|并非真人",
    ),
    Rule(
        CLAIMS_PROFESSIONAL,
        r"\b(?:im|i am) (?:a |an |your )?(?:licensed |certified |qualified |trained |professional"
        r" |real |registered |clinical ){0,4}(?:therapist|psychologist|psychiatrist|counsell?or|doctor"
        r"|physician|clinician|social worker|psychotherapist)\b"
        r"|\bas (?:a|your) (?:licensed |certified |qualified |trained |professional )?(?:therapist"
        r"|psychologist|psychiatrist|counsell?or|doctor|physician|clinician)\b",
        exclude=r"\bnot (?:a |an |your )?(?:licensed |certified |qualified |trained |professional "
        r"|real ){0,4}(?:therapist|psychologist|psychiatrist|counsell?or|doctor)",
    ),
    Rule(
        CLAIMS_PROFESSIONAL,
        r"我是(?:一名|一位|一个|你的)?(?:专业的?|持证的?|有执照的?|资深的?|国家二级|国家一级)?"
        r"(?:心理咨询师|心理医生|心理治疗师|治疗师|精神科医生|医生|咨询师)"
        r"|作为(?:一名|一位|你的)?(?:专业的?)?(?:心理咨询师|心理医生|心理治疗师|治疗师|精神科医生|医生|咨询师)",
    ),
]

RULES: list[Rule] = [
    *_METHOD_DETAIL_EN,
    *_METHOD_DETAIL_ZH,
    *_SOLUTION_EN,
    *_SOLUTION_ZH,
    *_DIAGNOSIS,
    *_PRESCRIPTION,
    *_IDENTITY,
]
