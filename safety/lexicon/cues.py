"""Cues: pieces of a disclosure that mean little alone and a great deal together.

People at high risk rarely say "I intend to kill myself". They say they bought a rope, saved
their pills, wrote letters, rehomed the dog, are on the roof, took "like 30" of something; and
they ask how many floors is enough. Crisis Text Line found words about means and method to be
the strongest signals. Each rule here detects one such piece (its role); ``COMBINATIONS`` says
which pieces together make which tier, and ``LexiconScreen`` applies them. A cue on its own
never raises a tier, so "I bought a rope for climbing" or "we're on the roof bar" stay quiet.

Roles:
    possession   - has or obtained a means ("I bought", "I've got", "saved up", 攒了, 买好了)
    ingestion    - took / swallowed / injected an amount or a named drug
    symptom      - the body reacting (heart racing, can't breathe, 头晕, 心跳很慢)
    location     - is at a dangerous place now (on the roof, in the garage with the engine on)
    preparation  - affairs being put in order (will, letters, passwords, rehoming a pet)
    resolve      - a decision or a date ("it's planned", "made peace with it", 计划定好了)
    despair      - cannot go on ("can't do this anymore", "won't be here", 撑不下去)
    question     - asks how to make death certain (how many, which floor, how deep, 多少)
    weapon       - a weapon or a means to hurt someone
    target       - a person singled out ("him", "my ex", "the kids who bullied me")
    abuse_now    - violence happening now or announced (banging on the door, 在打我)
    third_party  - someone else is in danger now (my friend took, my brother was hanging)
"""

from __future__ import annotations

from dataclasses import dataclass

from safety.rules import Rule

_SELF = r"(?:my ?self|me)"
_DRUG_EN = (
    r"pills?|pils|tablets?|capsules?|meds|medications?|medicines?|painkillers?|paracetamol"
    r"|acetaminophen|tylenol|panadol|ibuprofen|advil|aspirin|xanax|alprazolam|valium|diazepam"
    r"|lorazepam|ativan|klonopin|clonazepam|benzos?|insulin|antidepressants?|opioids?|oxycodone"
    r"|oxycontin|oxy|percocet|vicodin|tramadol|codeine|morphine|fentanyl|heroin|methadone"
    r"|sertraline|zoloft|prozac|fluoxetine|citalopram|escitalopram|lexapro|paroxetine|venlafaxine"
    r"|effexor|bupropion|wellbutrin|mirtazapine|trazodone|lithium|lamotrigine|seroquel|quetiapine"
    r"|olanzapine|risperidone|amitriptyline|nortriptyline|zolpidem|ambien|zopiclone|temazepam"
    r"|diphenhydramine|benadryl|promethazine|melatonin|barbiturates?|propranolol|metoprolol"
    r"|digoxin|warfarin|heart pills|blood pressure pills|sleeping (?:pills|tablets)"
    r"|sleeping tablets|iron tablets|antipsychotics?|stimulants?|adderall"
)
_AMOUNT_EN = (
    r"(?<![\d.])(?:[1-9]\d|\d{3,9})(?![\d.])|a (?:whole |full )?(?:bottle|pack|box|strip|handful)"
    r"|the (?:whole|entire|full) (?:bottle|pack|box|strip|months?|supply)|all (?:of )?(?:my|the"
    r"|her|his|them|it)|everything in|a lot of|loads of|lots of|too many|so many|like \d{1,9}"
    r"|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\w{0,40}"
)
_MEANS_EN = (
    r"rope|noose|gun|pistol|rifle|shotgun|firearm|bullets?|blade|razor|knife|pills|tablets"
    r"|charcoal|hose|helium|nitrogen|bleach|pesticide|paraquat|antifreeze|poison|exhaust"
    r"|belt|cord|ligature|extension cord|plastic bag|gas|" + _DRUG_EN
)

EN: list[Rule] = [
    Rule(
        "en.cue.possession",
        r"\b(?:bought|buy|ordered|ve got|have got|i have|ive|i ve|i got|picked up|stole"
        r"|saved|saving|save|stashed|hidden|hid|holding|stockpiled"
        r"|collected|counted|lined up|tied|loaded|sharpened|in my (?:lap|hand|bag|pocket|car"
        r"|drawer|room)|under my (?:bed|pillow)|in the (?:trunk|boot|garage|glovebox|drawer"
        r"|fridge|cabinet|closet))\b"
        r"|\bknow (?:where|the (?:code|combination))\b|\b(?:is|are) (?:ready|here|tied|loaded)\b"
        r"|\bwith (?:a|the|my) (?:knife|gun|hammer|bat|blade|razor|rope|pills|axe|machete)\b"
        r"|\bwhere (?:he|she|they|my \w{1,40}) keeps? (?:the|his|her|their)\b|\benough (?:saved"
        r"|left|here)\b",
        role="possession",
    ),
    Rule(
        "en.cue.overdose",
        rf"\b(?:took|tooked|tok|taken|swallowed|downed|popped|ate|injected|necked|chugged|od d|odd)"
        rf" (?:\w{{1,40}} ){{0,2}}(?:{_AMOUNT_EN})(?: \w{{1,40}}){{0,4}}? (?:{_DRUG_EN}|units|mg)\b"
        rf"|\b(?:{_DRUG_EN}) (?:\w{{1,40}} ){{0,2}}(?:took|swallowed|taken|injected) (?:\w{{1,40}} ){{0,2}}"
        rf"(?:{_AMOUNT_EN})\b"
        r"|\b(?:took|swallowed|drank|ingested|injected) (?:\w{1,40} ){0,3}(?:bleach|pesticide"
        r"|paraquat|antifreeze|poison|weed ?killer|drain cleaner|a razor blade|batteries)\b",
        role="overdose",
        exclude=r"\b(?:took|taken|take) (?:\w{1,40} ){0,5}(?:for (?:my|a|the) (?:headache|cold|pain"
        r"|period|cramps|back|fever|allergies)|as prescribed|with (?:food|breakfast))\b",
    ),
    Rule(
        "en.cue.ingestion",
        rf"\b(?:took|taken|swallowed|downed|popped|injected|mixed) (?:\w{{1,40}} ){{0,4}}(?:{_DRUG_EN})\b",
        role="ingestion",
        exclude=r"\b(?:took|taken|take) (?:\w{1,40} ){0,5}(?:for (?:my|a|the) (?:headache|cold|pain"
        r"|period|cramps|back|fever|allergies)|as prescribed|with (?:food|breakfast))\b",
    ),
    Rule(
        "en.cue.symptom",
        r"\b(?:heart (?:is )?(?:racing|pounding|slow|skipping|fluttering|beating (?:weird|fast"
        r"|slow))|cant (?:breathe|stay awake|feel my|keep my eyes open)|ears? (?:are )?ringing"
        r"|throwing up|threw up|vomiting|everything(?: is|s)? spinning"
        r"|getting (?:really )?(?:sleepy"
        r"|drowsy|dizzy)|(?:so|really|very) (?:dizzy|drowsy|sleepy)|mouth is burning|hands? (?:wont"
        r" stop|are) shaking|starting to (?:sweat|shake|feel heavy|fade)|coughing up blood"
        r"|vision (?:is )?(?:blurry|going)|blacking out|passing out)\b",
        role="symptom",
    ),
    Rule(
        "en.cue.location",
        r"\b(?:im|i am|i m|sitting|standing|lying|laying|sat|stood|waiting|already|now)"
        r" (?:\w{1,40} ){0,2}"
        r"(?:on|at|in|by|near|over|under|on top of|at the top of|at the edge of) (?:the|a|my|this"
        r"|that) (?:\w{1,40} ){0,2}(?:roof|rooftop|bridge|ledge|cliffs?|edge|tracks|railway|train tracks"
        r"|platform|balcony|window ?sill|car park|parking garage|multi ?storey|quarry|river|sea"
        r"|lake|reservoir|pier|top floor|building|tower|bath|bathtub|garage|woods|forest)\b"
        r"|\b(?:engine|car) (?:is )?running\b.{0,200}\b(?:garage|door|shut|closed)\b"
        r"|\b(?:garage|door|shut|closed)\b.{0,200}\bengine (?:is )?running\b"
        r"|\bon the (?:\w{1,40} )?(?:roof|bridge|ledge|tracks)(?: of (?:the|my) \w{1,40})?"
        r"(?: now| rn| right now"
        r"| behind)\b|\b(?:sittin|sitting|standing|lying) on (?:the )?(?:train )?tracks\b"
        r"|\b(?:be|get) on the (?:tracks|bridge|roof|ledge) before\b|\bin the car by the\b"
        r"|\b(?:its|it is) so quiet up here\b|\bup here\b.{0,200}\b(?:bye|goodbye|sorry)\b"
        r"|\b(?:gun|knife|blade|razor|rope|noose|pills) (?:is )?in my (?:lap|hand|mouth)\b"
        r"|\b(?:in|with) (?:the|my) (?:lap|hand) (?:right )?now\b"
        r"|\b(?:wrong side|other side|outside) of the (?:railing|rail|fence|barrier|guardrail)\b"
        r"|\b(?:over|past) the (?:railing|barrier|guardrail)\b",
        role="location",
        exclude=r"\b(?:bar|restaurant|cafe|party|garden|terrace|pool|gym|tour|view|photos?|hike"
        r"|walk|picnic|swim|swimming|fishing|boat|trip|holiday|vacation|tickets?)\b",
    ),
    Rule(
        "en.cue.preparation",
        r"\b(?:updated|wrote|written|writing|made|finished|signed) (?:\w{1,40} ){0,2}(?:will|letters?"
        r"|notes?|goodbyes?)\b|\b(?:letters?|notes?) (?:to|for) (?:my |everyone|each|mum|mom|dad"
        r"|them)\b|\bgiv(?:e|en|ing)(?: \w{1,40}){0,3} away\b|\bgave (?:my )?(?:\w{1,40} ){0,3}(?:to|away)\b"
        r"|\b(?:rehom(?:e|ed|ing)|new (?:home|family|owner) for)\b|\bpasswords?\b.{0,200}\b(?:note"
        r"|laptop|left|for them|after)\b|\b(?:affairs|everything|things|stuff) (?:is |are )?(?:in"
        r" order|sorted|sorted out|taken care of|set up|arranged)\b|\b(?:deleted|deleting) (?:my"
        r" )?(?:socials|accounts?|instagram|facebook|everything)\b|\bcancel(?:led|ed|ling)"
        r" (?:my )?(?:phone|contract|subscriptions?|lease)\b|\bwhat happens to my (?:\w{1,40} )?"
        r"(?:account|accounts|stuff|things|cat|dog) (?:if|when|after) i\b|\bset (?:it|everything)"
        r" up so\b|\bsorted out my stuff\b|\bput my affairs\b|\blife insurance (?:\w{1,40} ){0,3}(?:exclusion"
        r"|suicide clause|pays? out|payout|policy)\b|\b(?:scheduled|wrote|set up) my last"
        r" (?:stream|post|message|video|tweet)\b",
        role="preparation",
    ),
    Rule(
        "en.cue.resolve",
        r"\b(?:ive|i have|i ve|i|weve|we have|we ve|we)(?: (?:finally|already|just))? (?:decided"
        r"|made (?:up my mind|peace with it|my decision)|picked (?:a|the) (?:date|day|spot|place)"
        r"|set (?:a|the) date|chosen (?:a|the) (?:day|date|way|spot)|figured (?:it|everything) out"
        r"|got it all (?:planned|figured out)|planned it|worked it out)\b"
        r"|\b(?:it s|its|it is|everything is|everything s) (?:all )?(?:planned|decided|set|booked"
        r"|ready|almost done|happening)\b|\b(?:doing|gonna do|going to do|do) it (?:tonight"
        r"|today|tomorrow|after|before|this|next|on|when|once|at|soon)\b"
        r"|\b(?:dont|do not) try to stop me\b|\bnot turning (?:the car )?(?:around|back)\b"
        r"|\b(?:finally )?(?:going to|gonna|will|ll) (?:use (?:it|them)|do it|go through with it"
        r"|go over|end it)\b|\b(?:do|doing) it (?:first|together|at the same time)\b"
        r"|\b(?:nobody|no one|none of us)(?:s| is| are)? coming back\b|\b(?:not|never) coming"
        r" back\b|\bone way ticket\b|\bjust (?:have|need) to (?:decide|wait|pick|choose|find)\b"
        r"|\b(?:made|have|got) a (?:suicide )?pact\b|\bset it for\b|\bpicked a (?:date|day)\b"
        r"|\b(?:i|we) (?:have|ve got|ve|got) (?:a plan|everything (?:i|we) need|it all)\b"
        r"|\bgot everything (?:i|we) need\b|\bwill be (?:quiet|over) soon\b|\bchecked (?:that|if)"
        r" the (?:door|roof|gate)\b|\bfound (?:a|the) (?:quiet )?(?:spot|place)\b"
        r"|\bsee where i(?:d| would) (?:go over|jump)\b"
        r"|\b(?:nobody|no one) (?:can|will|is going to|could) stop me\b|\basking for (?:me|myself)\b|\bits me i did it\b|\bif (?:its|it s) for (?:yourself|myself)\b"
        r"|\bgo finish (?:everything|it all|it)\b|\b(?:ill|i will) be gone (?:before|by)\b"
        r"|\b(?:ctb|catch the bus)\b|\bi (?:just )?need to (?:take them|do it|pick the day|decide"
        r" where|work up the nerve)\b|\bjust (?:working up|need) the nerve\b|\bthis time (?:it"
        r" will|itll|im|i will|nothing)\b|\bmake sure (?:it works|nothing goes wrong|i dont wake"
        r" up)\b|\bnext time (?:im|i will|ill|i m) (?:going|not|doing)\b|\bmy mind is made up\b",
        role="resolve",
    ),
    Rule(
        "en.cue.despair",
        r"\b(?:cant|cannot|can not|cnt|cant really) (?:do (?:this|it|th\w{0,2}s)|go on"
        r"|take (?:it|this)|keep going|live like"
        r" this)(?: \w{1,40})? ?(?:anymore|any more|much longer)?\b|\bnot doing this anymore\b"
        r"|\b(?:want|need) (?:it|this|everything) to (?:be over|stop|end)\b|\bso tired of (?:all"
        r" )?(?:this|it|everything|living|life)\b|\b(?:wont|will not|not gonna|not going to) be"
        r" (?:here|around)\b|\b(?:not|im not|i m not) staying\b|\bnot (?:be|be a) (?:a )?(?:problem"
        r"|burden) (?:for anyone )?(?:much )?(?:longer|anymore)\b|\bbetter off without me\b"
        r"|\bsleep forever\b|\bnot wake up\b|\ba way out\b|\bthe (?:actual )?end\b"
        r"|\b(?:no|nothing) (?:reason|point) (?:to|in) (?:live|living|go on|going on|stay)\b"
        r"|\bim done\b|\bi m done\b|\bdone with (?:life|everything|it all|this world)\b"
        r"|\bwhen im gone\b|\bafter im gone\b|\bbefore i go\b|\bim going now\b"
        r"|\bno one (?:will|would) (?:miss|notice)\b|\bwho(?:ll| will| would) miss me\b"
        r"|\blived long enough\b|\b(?:be|am) better off (?:dead|gone)\b|\bwant to die\b"
        r"|\bwont be needing\b|\bnobody (?:will|would) find me\b|\btired of everything\b"
        r"|\bnot scared anymore\b|\bcouldnt stay\b|\bwasnt your fault\b|\b(?:theyll|they will"
        r"|theyd|they would|everyone will|everyone would|they re|theyre) (?:all )?(?:be )?(?:better"
        r" off|understand later|be fine without me)\b|\bwould be better off (?:with|without)\b"
        r"|\b(?:dont|do not|doesnt) want to (?:be here|go alone|exist|wake up)\b|\bi deserve (?:it"
        r"|to die|to suffer)\b|\bonly way (?:out|to stop)\b|\bhate myself\b|\bmake it stop\b"
        r"|\bcant anymore\b|\b(?:please )?(?:dont|do not) (?:try to )?(?:find|look for|search for) me\b"
        r"|\b(?:cant|cnat|cannot) do th\w{0,2}s anymo\w{0,40}\b|\b(?:cannot|cant|can not) tahan\b|\bno more trouble for anyone\b"
        r"|\bno respawn\b|\b(?:family|they|everyone|kids|wife|husband) (?:will|would) be better off\b",
        role="despair",
        exclude=r"\b(?:cant|cannot) (?:do (?:this|it)|take (?:it|this)) (?:anymore )?(?:lol|haha)"
        r"|\bim done (?:with (?:work|my|the|this) (?:\w{1,40})|for (?:today|the day|tonight)|eating"
        r"|cooking|studying|packing)\b|\bthe end (?:of|credits)\b",
    ),
    Rule(
        "en.cue.question",
        r"\b(?:how many|how much|what dose|which dose|what amount|how long|how deep|how high"
        r"|which floor|what floor|how far|what height|whats the (?:fastest|quickest|best|easiest"
        r"|most painless|surest|least painful)|what(?:s| is) the (?:fastest|quickest|best|easiest"
        r"|most painless|surest|least painful)|is (?:it|an? \w{1,40} overdose|drowning|hanging"
        r"|jumping) (?:painful|quick|painless)|does (?:it|drowning|hanging|jumping|bleeding out)"
        r" hurt|enough to)\b"
        r".{0,200}\b(?:die|dead|death|kill|lethal|fatal|not wake up|never wake up|work|be over|sure"
        r"|over|overdose|painless|quick|enough|artery|end it|go|it)\b"
        r"|\b(?:will|would|is|should) (?:that|this|it|\d{1,9}) be enough\b|\bthat should be enough\b"
        r"|\bdo i need more\b|\b(?:is|are|would) \d{1,9} (?:of )?(?:\w{1,40} ){0,4}enough\b"
        r"|\b(?:high|deep|tall|strong|far) enough (?:that|to|so) (?:\w{1,40} ){0,2}(?:nobody|no one|you|i|it)"
        r" (?:\w{1,40} ){0,2}(?:survives?|dies?|die|kills?|wake)\b|\b(?:painless|quickest|surest|guaranteed"
        r"|most reliable|fail ?safe) (?:way|method|one|floor|caliber|option)\b|\b(?:which|what)"
        r" (?:\w{1,40} ){0,6}(?:is|are) (?:guaranteed|most reliable|fatal|lethal|for sure)\b"
        r"|\bmax(?:imum)? (?:\w{1,40} ){0,3}before (?:its|it is|it gets) dangerous\b",
        role="question",
        exclude=r"\bhow (?:many|much) (?:\w{1,40} ){0,3}(?:can i|should i|am i allowed to|is safe"
        r"|is it safe|per day|a day|daily)\b(?! (?:\w{1,40} ){0,6}(?:die|dead|not wake|lethal|fatal"
        r"|overdose))",
    ),
    Rule(
        "en.cue.means",
        rf"\b(?:{_MEANS_EN})\b|\b(?:roof|rooftop|bridge|ledge|cliffs?|tracks|train|quarry|floor"
        r"|storey|story|river|sea|reservoir|artery|wrists?|veins?|tall building|golden gate"
        r"|beachy head|car park|motorway|highway)\b|💊|🔪|🔫|🪢|🩸|⚰|🪦|🌉|⬇",
        role="means",
    ),
    Rule(
        "en.cue.weapon",
        r"\b(?:gun|pistol|rifle|shotgun|knife|knives|blade|machete|axe|hammer|bat|baseball bat"
        r"|crowbar|gasoline|petrol|acid|poison|bomb|explosives?|car|truck|van|🔪|🔫)\b",
        role="weapon",
    ),
    Rule(
        "en.cue.target",
        r"\b(?:he|him|she|her|they|them)(?:s| is| are| will| ll)? (?:going to|gonna|will)?"
        r" ?(?:pay|regret|burn|die|suffer|get what)\b|\b(?:list of|the kids who|the people who"
        r"|everyone who)\b|\b(?:waiting for|wait for|follow(?:ed|ing)?|track(?:ed|ing)?|stalk"
        r"(?:ed|ing)?) (?:him|her|them|my \w{1,40})\b|\bwhere (?:he|she|they) (?:parks|lives|works"
        r"|walks)\b|\b(?:his|her|their) (?:new )?address\b|\bget (?:him|her|them) first\b"
        r"|\bhurt (?:the baby|her|him|them|my \w{1,40})\b|\bshe s asleep\b|\bshes asleep\b"
        r"|\btell me why i shouldnt\b|\bit ends\b|\b(?:when|where) the (?:camera|cctv)s? (?:\w{1,40} ){0,2}"
        r"(?:away|off)\b|\b(?:no|without) (?:cameras?|cctv)\b|\bhave an accident\b",
        role="target",
    ),
    Rule(
        "en.cue.abuse_now",
        r"\b(?:hitting|beating|hurting|choking|strangling|kicking|slamming) (?:me|my (?:\w{1,40} )?"
        r"(?:mom|mum|mother|sister|brother|little \w{1,40})|her|him) (?:\w{1,40} )?(?:right now|now|again"
        r"|into)\b|\b(?:banging|pounding|kicking|hammering) on the (?:\w{1,40} )?(?:door|wall)\b"
        r"|\b(?:im|i am|i m|were|we are) locked in\b|\bput me in the ground\b|\b(?:locked|trapped) (?:me |us |him |her )?in"
        r" (?:my|the|a|his|her|our) (?:room|bathroom|closet|house|car|basement|crate|cupboard"
        r"|shed)\b|\blocks? (?:me|us|him|her|my \w{1,40}(?: \w{1,40})?) in\b"
        r"|\bstuck in (?:his|her|their) (?:car|house"
        r"|flat|place)\b"
        r"|\bwont let me (?:out|leave|go)\b|\bhiding (?:in|from)\b|\b(?:said|says|threatened)"
        r" (?:\w{1,40} ){0,8}(?:hell|hed|he will|he would|she ll|shell|shed)"
        r" (?:use (?:it|the \w{1,40}) on|kill"
        r"|shoot|stab) (?:me|us|the kids)\b|\b(?:finish what he started"
        r"|see you tonight|youre next|im next)\b|\b(?:he|she|they)(?: s| is| has| ve)? (?:got|has)"
        r" a (?:knife|gun)\b|\b(?:said|says|threatened|texted) (?:that )?(?:he|she|they)(?:ll"
        r"| will| would| d| is going to| s going to)? (?:kill|hurt|use it on|finish) (?:me|us"
        r"|the kids)\b|\bforced himself on me\b|\bscreaming (?:for help)?\b.{0,200}\b(?:hit|slam"
        r"|knife|kill)\w{0,40}|\bhe s next\b|\bgone quiet\b",
        role="abuse_now",
    ),
    Rule(
        "en.cue.third_party",
        r"\b(?:my|our) (?:\w{1,40} )?(?:friend|roommate|flatmate|brother|sister|mom|mum|dad|son"
        r"|daughter|partner|boyfriend|girlfriend|wife|husband|cousin|classmate) (?:\w{1,40} )?(?:just"
        r" )?(?:took|swallowed|overdosed|was hanging|is hanging|hanged|cut|slit|jumped|is on the"
        r" (?:roof|bridge|ledge)|sent me (?:a )?(?:pic|photo|picture|message)|texted me goodbye"
        r"|said goodbye|isnt (?:answering|responding|breathing|picking up)|not picking up|wont wake up"
        r"|(?:just )?texted me (?:\w{1,40} ){0,3}(?:sorry|goodbye|bye|take care)|locked (?:herself"
        r"|himself|themselves))\b|\b(?:posted|sent|wrote) (?:a )?(?:suicide note|goodbye"
        r" (?:note|letter|message)|pic of (?:a load of |some )?pills)\b",
        role="third_party",
    ),
]

_DRUG_ZH = (
    r"安眠药|安定|地西泮|艾司唑仑|阿普唑仑|劳拉西泮|氯硝西泮|佐匹克隆|唑吡坦|思诺思|止痛药|扑热息痛|对乙酰氨基酚"
    r"|布洛芬|阿司匹林|曲马多|可待因|吗啡|芬太尼|镇静剂|抗抑郁药|舍曲林|氟西汀|帕罗西汀|西酞普兰|艾司西酞普兰"
    r"|文拉法辛|米氮平|曲唑酮|碳酸锂|锂盐|拉莫三嗪|喹硫平|奥氮平|利培酮|阿米替林|感冒药|降压药|心脏药|胰岛素"
    r"|褪黑素|史蒂诺斯|斯蒂诺斯|普拿疼|必理痛|药片|药丸|胶囊|百草枯|敌敌畏|农药|老鼠药|毒鼠强|除草剂|杀虫剂|洁厕灵|消毒水|药"
)
_AMOUNT_ZH = (
    r"一整|整整|整排|整板|整|全部|所有(?:的)?|(?<![0-9])[1-9][0-9](?:多)?|(?<![0-9])[0-9]{3,9}|几十|[二三四五六七八九两]十(?:多|几|来)?"
    r"|十几|一百|上百|一把|一大把|好多|很多"
)
_MEANS_ZH = (
    _DRUG_ZH
    + r"|绳子|绳套|麻绳|木炭|炭|胶带|刀片|美工刀|小刀|水果刀|菜刀|刀|剃须刀|楼顶|天台|顶楼|高楼"
    r"|阳台|窗台|桥|江|河|海|湖|水库|铁轨|卧轨|煤气|跳楼|上吊|[几一二三四五六七八九十两\d]{1,9}楼|🌉|💊|🔪|🪢|⚰|🪦"
)

ZH: list[Rule] = [
    Rule(
        "zh.cue.possession",
        r"(?:买好|买了|准备好|准备了|攒了|攒够|存了|囤了|藏了|偷了|拿了|带着|备好|放在|藏在|我有|手里有|家里有)"
        r"|(?:都|已经)(?:买|准备|弄|搞)(?:好|到)了|在(?:床底下|抽屉|包里|车里|笔袋里|后备箱|车尾箱|口袋|柜子里|床边|手边)"
        r"|(?:买|准备|弄|搞|拿)(?:好|到|了)(?:了|喇)?|(?:我家|家里|老家|屋企)\S{0,4}(?:就)?有|(?:我)?(?:老家|家里|这边)有|放在(?:床边|身边)|就在(?:柜子|抽屉|手边)",
        role="possession",
    ),
    Rule(
        "zh.cue.overdose",
        rf"(?:吃了|吞了|服了|喝了|打了|注射了|吃下|吞下)\S{{0,4}}?(?:{_AMOUNT_ZH})\S{{0,6}}?(?:{_DRUG_ZH}|单位)"
        rf"|(?:{_DRUG_ZH})\S{{0,3}}(?:吃|吞|服|打)了\S{{0,3}}(?:{_AMOUNT_ZH})"
        rf"|把\S{{0,12}}?(?:{_DRUG_ZH})\S{{0,8}}?(?:都|全|全部|混着|一起)(?:吃|吞|喝|打)(?:了|下去|掉)"
        r"|(?:一整瓶|整瓶|一瓶|一盒|一板)\S{0,6}(?:都|全)?(?:吃|吞|喝)(?:了|下去|掉)",
        role="overdose",
    ),
    Rule(
        "zh.cue.ingestion",
        rf"(?:吃了|吞了|服了|喝了|打了|注射了)\S{{0,6}}?(?:{_DRUG_ZH})"
        rf"|(?:{_DRUG_ZH})\S{{0,4}}(?:已经|都)?(?:吃|吞|喝)(?:下去|掉)?了",
        role="ingestion",
        exclude=r"吃了药就好|吃了药好多了|按时吃了",
    ),
    Rule(
        "zh.cue.symptom",
        r"头(?:很|好|有点)?晕|心跳(?:很|好)?(?:慢|快|乱)|心慌|喘不上气|呼吸困难|耳朵(?:嗡嗡|一直)?响|想吐|吐了"
        r"|站都站不稳|站不稳|眼前发黑|手(?:一直)?抖|胃里翻江倒海|意识(?:模糊|不清)|嘴里(?:好|很)?(?:烧|烫|苦)|看不清",
        role="symptom",
    ),
    Rule(
        "zh.cue.location",
        r"(?:在|到了|站在|坐在|躺在|已经在|我在)(?:\S{0,6}?)(?:楼顶|天台|顶楼|桥上|桥边|江边|河边|海边|湖边|水库|铁轨"
        r"|窗台|阳台(?:外|边)|栏杆外|悬崖|浴缸|车里|车库|窗边|后山|山上|海边|天桥)|🌉\S{0,3}我到了|我到了|而家在|站在窗边",
        role="location",
        exclude=r"(?:天台|楼顶)(?:餐厅|酒吧|花园|派对|烧烤)|(?:海边|河边|江边|湖边)(?:玩|散步|度假|旅游|拍照|吃饭)"
        r"|(?:他|她|他们|男主|女主|主角|电影|剧里|小说)\S{0,4}(?:在|站在|坐在|躺在|到了)",
    ),
    Rule(
        "zh.cue.preparation",
        r"遗书|遗言|遗嘱|(?:把|将)?\S{0,6}(?:送给|转给|留给|托付给|交给)了?|托付|(?:房间|东西)(?:都)?收拾(?:干净|好)了"
        r"|(?:账号|密码)\S{0,6}(?:告诉|留给|交给)|后事|(?:都|已经)安排好了|删(?:了|掉了)(?:所有|微博|朋友圈|账号)"
        r"|(?:照片|好友|聊天记录|账号|微博|朋友圈)\S{0,8}删(?:完|光|掉|了)"
        r"|保险\S{0,6}(?:免责期|受益人|赔)|托给|寄养",
        role="preparation",
    ),
    Rule(
        "zh.cue.resolve",
        r"决定了|已经决定|计划(?:定好|好)了|想好了|(?:日子|时间|地方)(?:定|选)(?:好)?了|就差|谁也别拦|别拦我|别劝(?:了|我)"
        r"|这次(?:不会再|一定|肯定|不会)(?:失败)?|查好了|(?:就|定)在\S{0,6}(?:那天|之后|之前)|下定决心"
        r"|月底之前|不会再给大家添麻烦|不需要了|这次应该就不下来了|不下来了|踩过点|就这几天|等周末|就等|准备下线"
        r"|谁也(?:拦|挡)不住我|没(?:有)?人能(?:阻止|拦住)我|(?:已经)?想好(?:了)?\S{0,3}(?:在哪|哪里|哪儿|边度|怎么|什么时候|什么地方|地方|时间)"
        r"|(?:之后|以后)就不用再撑|不用再撑了|(?:药|刀片|药片)\S{0,6}(?:排好|摆好|数好)了?"
        r"|(?:过几天|很快)就(?:解脱|结束|走)|不会回来了|回不来了|动手|订好了|选好了|寄了"
        r"|(?:都|已经)交代(?:好)?了|该交代的|后面的事|永久的那种|最后一次|考完试就|攒够了就",
        role="resolve",
    ),
    Rule(
        "zh.cue.despair",
        r"不想活|活不下去|撑不下去|坚持不下去|熬不下去|受不了了|不想再|活着没意思|人间不值得|想鼠|想死|去死|解脱"
        r"|离开这个世界|不想醒|不会醒|没有我\S{0,6}(?:更好|更轻松)|添麻烦|拖累|宁愿死|一了百了|结束这一切"
        r"|活着也没意思|受够了(?:这一切|活着|这个世界)|是(?:一个|个)?负担|我走了\S{0,8}(?:更好|轻松)|emo到极点|不想再"
        r"|不想一个人走|别找我|不要找我|(?:在那之前|之前)我会(?:先)?消失|(?:家里人|家人|他们|孩子们?)\S{0,10}(?:好过一点|过得更好|更轻松)",
        role="despair",
        exclude=r"想死你|笑死|累死|饿死|热死|冷死|困死|烦死|气死|吓死|美死|香死",
    ),
    Rule(
        "zh.cue.question",
        r"(?:多少|几|哪种|什么|怎么|多久|多长时间|多深|多高)\S{0,12}(?:会死|才会死|能死|致死|死得|不痛|不会痛|没痛苦"
        r"|不醒|醒不过来|失去意识|没意识|没有意识|不再醒|一定会死|死掉|死法|最快|保证|没救|才会(?:坏掉|死|没命|衰竭))|致死量|(?:哪种|什么)死法",
        role="question",
    ),
    Rule("zh.cue.means", _MEANS_ZH, role="means"),
    Rule(
        "zh.cue.weapon",
        r"刀|菜刀|水果刀|枪|汽油|硫酸|毒药|老鼠药|锤子|棍子|斧头|🔪|🔫",
        role="weapon",
    ),
    Rule(
        "zh.cue.target",
        r"(?:他|她|他们)(?:每天|几点|从哪)|跟踪(?:他|她|了)|付出代价|(?:他|她)(?:家|全家)|报复|同归于尽|先杀|(?:杀|砍|捅|弄死)(?:了)?(?:他|她|他们)",
        role="target",
    ),
    Rule(
        "zh.cue.abuse_now",
        r"(?:在|正在|又在)(?:打|揍|踹|掐)(?:我|她|他|孩子)|踹门|砸门|把我锁在|躲在(?:厕所|房间|柜子)|不会放过我"
        r"|惨叫|喊救命|突然没声|(?:回来|等会|今晚)(?:就)?(?:要)?(?:弄死|打死|杀了|收拾)我|磨刀|推下(?:了)?楼梯|躲在"
        r"|拎住把刀|拿着(?:刀|菜刀)|反锁|关进(?:了)?(?:狗)?(?:笼子|柜子|房间|厕所)|不让我(?:走|出去|出门)",
        role="abuse_now",
    ),
    Rule(
        "zh.cue.third_party",
        r"(?:我|我的)(?:朋友|室友|同学|哥哥|姐姐|弟弟|妹妹|妈妈|爸爸|男朋友|女朋友|老公|老婆|闺蜜)(?:刚|刚刚|刚才)?"
        r".{0,24}?(?:吃了|吞了|割腕|跳|上吊|发来|说再见|不接电话|联系不上|电话都不接)"
        r"|(?:朋友|室友|同学|哥|姐|弟|妹|妈|爸|男朋友|女朋友|老公|老婆|闺蜜)\S{0,8}(?:发了|写了|留了)\S{0,2}遗书",
        role="third_party",
    ),
]

# Means with hardly any everyday use in a support chat, and the emoji people use for them.
LETHAL: list[Rule] = [
    Rule(
        "en.cue.lethal_means",
        r"\b(?:noose|helium|charcoal|hose(?:pipe)?|exhaust|paraquat|pesticide|antifreeze"
        r"|sodium nitrite|rope)\b|⚰|🪦|🪢|🌉|💊 ?x ?\d{1,9}|(?:💊 ?){2}|\benough now\b|\benough (?:pills|tablets|meds"
        r"|saved|to (?:die|kill|not wake|end))\b|\benough saved\b",
        role="lethal_means",
        exclude=r"\brope (?:for|to) (?:climbing|camping|the tent|skipping|the boat|tie)|\bskipping"
        r" rope\b|\bjump ?rope\b|\bclimbing rope\b|\bgarden hose\b|\bhelium balloons?\b"
        r"|\bcharcoal (?:grill|bbq|barbecue|drawing|sketch|mask)",
    ),
    Rule(
        "zh.cue.lethal_means",
        r"绳子|绳套|木炭|炭|胶带|煤气|百草枯|农药|敌敌畏|毒鼠强|老鼠药|猎枪|手枪|(?<!水)枪(?!战|手|声)|⚰|🪦|🪢|(?:💊){2}|(?<![0-9])[3-9][0-9](?:多)?(?:片|粒|颗)"
        r"|[三四五六七八九]十(?:多|几|来)?(?:片|粒|颗)|(?:一|两|几)(?:整)?(?:瓶|盒)(?:的)?(?:安眠药|药)"
        r"|(?:现在|已经)(?:攒)?够了",
        role="lethal_means",
        exclude=r"炭烤|烤肉|烧烤|木炭画|炭笔|透明胶带|胶带(?:封箱|打包)|跳绳|晾衣绳",
    ),
]

# Another person in it with them: pacts, "neither of us", "looking for someone to go with".
TOGETHER: list[Rule] = [
    Rule(
        "en.cue.together",
        r"\b(?:together|at the same time|neither of us|both of us|the (?:two|three) of us"
        r"|three of us|someone to (?:end it|go|do it|die) with|need a partner|pact)\b",
        role="together",
    ),
    Rule(
        "zh.cue.together",
        r"一起|同时|我们两个|我们俩|我们三个|找(?:个)?(?:人|伴|同伴|搭子)|约好|相约|不想一个人",
        role="together",
    ),
]

RULES: list[Rule] = [*EN, *ZH, *LETHAL, *TOGETHER]


@dataclass(frozen=True)
class Combination:
    """Cues that together make a tier: every role in ``needs`` and, when ``with_any`` is
    given, at least one of those too."""

    id: str
    needs: frozenset[str]
    tier: int
    categories: frozenset[str]
    with_any: frozenset[str] = frozenset()


_SUICIDE = frozenset({"suicide"})
# Timing is not among them: "I bought pills today" says when, not what for.
_CONTEXT = frozenset({"resolve", "despair", "farewell", "preparation", "question"})

COMBINATIONS: tuple[Combination, ...] = (
    # Means at hand, with anything that says what they are for.
    Combination("means_at_hand", frozenset({"means", "possession"}), 3, _SUICIDE, _CONTEXT),
    # An overdose taken, or a poison swallowed: a medical emergency whatever the intent.
    Combination(
        "overdose", frozenset({"overdose"}), 4, frozenset({"suicide", "medical_emergency"})
    ),
    # A medicine taken, said together with despair, a goodbye or a decision.
    Combination(
        "ingested",
        frozenset({"ingestion"}),
        4,
        frozenset({"suicide", "medical_emergency"}),
        frozenset({"despair", "farewell", "resolve"}),
    ),
    # At the edge, in the garage with the engine running, the gun in the lap.
    Combination(
        "at_the_place",
        frozenset({"location"}),
        4,
        _SUICIDE,
        frozenset({"farewell", "despair", "resolve", "means", "timing", "symptom"}),
    ),
    Combination(
        "affairs_in_order",
        frozenset({"preparation"}),
        3,
        _SUICIDE,
        frozenset({"resolve", "despair", "farewell"}),
    ),
    Combination(
        "method_question",
        frozenset({"question", "means"}),
        2,
        frozenset({"suicide", "method_seeking"}),
    ),
    Combination(
        "method_question_intent",
        frozenset({"question"}),
        3,
        frozenset({"suicide", "method_seeking"}),
        frozenset({"despair", "resolve", "possession"}),
    ),
    Combination("decided", frozenset({"resolve", "despair"}), 3, _SUICIDE),
    # A place or a means, and a decision ("this time I won't come down").
    Combination("means_decided", frozenset({"means", "resolve"}), 3, _SUICIDE),
    # Psychosis with a means and a time, a place or a decision.
    Combination(
        "psychosis_means",
        frozenset({"category:psychosis_mania", "means"}),
        3,
        frozenset({"psychosis_mania", "suicide"}),
        frozenset({"timing", "location", "resolve"}),
    ),
    # Psychosis or mania with a plan for tonight and nothing that can stop it.
    Combination(
        "psychosis_tonight",
        frozenset({"category:psychosis_mania", "timing", "resolve"}),
        3,
        frozenset({"psychosis_mania"}),
    ),
    # Psychosis with a weapon at hand, or someone singled out.
    Combination(
        "psychosis_armed",
        frozenset({"category:psychosis_mania", "weapon"}),
        3,
        frozenset({"psychosis_mania", "harm_to_others"}),
        frozenset({"possession", "target", "location"}),
    ),
    # A goodbye said in despair reads as the last message it says it is.
    Combination("goodbye", frozenset({"farewell", "despair"}), 3, _SUICIDE),
    # Unambiguous means obtained or kept: preparation in C-SSRS terms.
    Combination("lethal_means", frozenset({"lethal_means", "possession"}), 3, _SUICIDE),
    Combination(
        "lethal_means_context",
        frozenset({"lethal_means"}),
        2,
        _SUICIDE,
        frozenset({"despair", "resolve", "farewell", "question"}),
    ),
    # Planning it with someone else.
    Combination(
        "pact",
        frozenset({"together"}),
        3,
        _SUICIDE,
        frozenset({"resolve", "preparation", "lethal_means"}),
    ),
    Combination(
        "weapon_and_target",
        frozenset({"weapon", "target"}),
        3,
        frozenset({"harm_to_others"}),
        frozenset({"possession", "resolve", "timing", "location", "abuse_now"}),
    ),
    Combination("abuse_now", frozenset({"abuse_now"}), 3, frozenset({"abuse"})),
    # Abuse disclosed, and the abuser due back or about to be alone with the person.
    Combination(
        "abuse_recurring",
        frozenset({"abuser_returns", "category:abuse"}),
        3,
        frozenset({"abuse"}),
    ),
    Combination(
        "someone_in_danger",
        frozenset({"third_party"}),
        4,
        frozenset({"suicide", "medical_emergency"}),
    ),
)
