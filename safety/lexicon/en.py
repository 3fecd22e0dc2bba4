"""English inbound lexicon.

Patterns run on normalised text: lower case, apostrophes dropped ("im", "dont", "ive"),
punctuation turned into single spaces. Tiers follow C-SSRS: 1 hopelessness / passive wish to
be dead, 2 active ideation, self-harm, method-seeking, 3 intent, plan, preparation, recent
attempt, 4 imminent (overdose taken, at the edge, bleeding). Means / timing / farewell rules
escalate a signal (see ``safety.screen``); on their own they never fire.
"""

from __future__ import annotations

from safety.lexicon.categories import (
    ABUSE,
    MEDICAL,
    METHOD,
    OTHERS,
    OVERDOSE,
    SELF_HARM,
    SUICIDE,
)
from safety.rules import Rule

_I_AM = r"(?:im|i am|i m)"
# "myself" and its common misspellings.
_SELF = r"(?:my ?self|my ?slef|mysef|myslef|myselt|mself)"

# A negation cancels a phrase only through a closed list of auxiliaries ("I would never
# kill myself", "I don't really want to die"); arbitrary words in between do not count, so
# "I'm not okay, I want to die" still fires. "I can't promise I won't ..." is no negation.
_NEG = (
    r"(?<!promise i )(?<!sure i )(?<!promise )\b(?:not|never|dont|do not|didnt|did not|doesnt"
    r"|does not|wont|will not|wouldnt|would not|no longer|havent|have not|hasnt|has not|isnt"
    r"|arent|neither)\b(?: (?:really|ever|even|actually|just|at all|gonna|going to|wanna"
    r"|want|plan to|planning to|plan on|planning on|trying to|try to|tried to|intend to"
    r"|mean to|feel like|think about|thinking about|thought about|thought of|be|to|have|had"
    r"|been|feeling|feel|felt|get|getting|need to|consider|considering|considered|about|of"
    r"|would|will|do|did)){0,8} "
)


def _neg(core: str, extra: str = "") -> str:
    """Exclusion for ``core`` when negated, plus any idioms in ``extra``."""
    return f"{_NEG}(?:{core})" + (f"|{extra}" if extra else "")


# ---- building blocks --------------------------------------------------------------------
_KILL_SELF = (
    rf"\b(?:kill|kil|kll|unalive|off|end|hang|shoot|drown|poison|gas|suffocate|stab|electrocute)"
    rf" {_SELF}\b|\bkilled {_SELF}\b"
    rf"|\b(?:about|of|considering|contemplating|imagining|like|from|into) killing {_SELF}\b"
)
_KILL_SELF_CORE = (
    r"(?:about |of )?(?:kill|kil|kll|killing|killed|unalive|off|end|hang|shoot|drown|poison|gas"
    rf"|suffocate|stab|electrocute) {_SELF}"
)
_KILL_SELF_IDIOMS = (
    rf"kill(?:ing)? {_SELF} (?:laughing|to (?:finish|get|make|meet)|trying to|for (?:forgetting"
    rf"|not))|shoot(?:ing)? {_SELF} in the foot|gas(?:sing)? {_SELF} up"
    rf"|drown(?:ing)? {_SELF} in (?:work|coffee|tea|alcohol|booze|music|books|chocolate|ice cream"
    rf"|tv|netflix|games|studying|homework|paperwork|tears|sorrow|emails)"
    rf"|(?:log|sign|head|clock|switch|turn) off {_SELF}|could (?:just )?kill {_SELF} for"
)
# "end it" alone is a breakup as often as a suicide; only a bare "end it" counts.
_END_IT = (
    r"end(?:ing)? it\b(?! (?:with|between|off|here|there|on|for|early|soon|at|after|before|by"
    r"|now that|and move|up))"
)
_SUICIDE_ACTS = (
    rf"kill {_SELF}|end (?:my (?:own )?life|it all|everything|my existence)|commit suicide"
    rf"|take my (?:own )?life|hang {_SELF}|jump (?:off|from)|overdose|unalive {_SELF}"
    rf"|shoot {_SELF}|{_END_IT}|jump\b(?! (?:on|in|into|at|over|up|around|rope|ship|start|the gun"
    r"|through|for|to|higher|ahead|back|off (?:the|a) (?:diving|high dive)))"
)
_PILLS = (
    r"pills?|tablets?|capsules?|meds|medications?|medicines?|sleeping (?:pills|tablets)"
    r"|painkillers?|paracetamol|acetaminophen|tylenol|panadol|ibuprofen|advil|aspirin|xanax"
    r"|benzos?|insulin|antidepressants?|opioids?|oxycodone|oxycontin|oxy|percocet|vicodin"
    r"|morphine|fentanyl|heroin|sertraline|zoloft|prozac|fluoxetine|lithium|seroquel"
    r"|quetiapine|amitriptyline|diphenhydramine|benadryl|melatonin|barbiturates"
)
# An amount that reads as an overdose, not a normal dose: ten or more, a bottle, all of them.
_AMOUNT = (
    r"(?<!\d)\d{2,9}|(?:(?<!\d)\d{1,9}|a|one|two|three|several|few) (?:whole )?(?:bottles?|packs?"
    r"|packets?|boxes"
    r"|box|strips?|blister packs?)(?: of)?|(?:a|the|my) (?:whole|entire|full) (?:bottle|pack"
    r"|packet|box|strip|prescription)(?: of)?|all (?:of )?(?:my|the|his|her|moms|mums|dads)"
    r"|a (?:whole )?handful(?: of)?|handfuls(?: of)?|(?:way )?too many|(?:a )?(?:lot|lots"
    r"|bunch|ton|load|loads) of|dozens of|(?:ten|eleven|twelve|fifteen|twenty|thirty|forty"
    r"|fifty|sixty|seventy|eighty|ninety|hundred|a hundred)\w{0,40}"
)

# ---- tier 1: hopelessness, passive wish to be dead ------------------------------------
_PASSIVE = [
    Rule(
        "en.no_reason_to_live",
        r"\b(?:no|nothing|not (?:a|one|any)|zero) (?:\w{1,40} )?(?:reasons?|point|purpose) (?:to|in|of"
        r"|for) (?:live|living|life|going on|keep(?:ing)? going|be(?:ing)? alive|stay(?:ing)? alive"
        r"|carry(?:ing)? on|exist(?:ing)?|be(?:ing)? here|anything anymore)\b"
        r"|\bnothing (?:left )?to live for\b|\bno (?:will|desire) to (?:live|go on)\b"
        r"|\bwhats the point (?:of|in) (?:living|life|going on|anything|being alive|trying)\b"
        r"|\bno point (?:anymore|in anything|to anything|to life|in life|in living"
        r"|in being alive)\b"
        r"|\b(?:dont|do not|cant|cannot) see (?:the|any) point (?:in|of) (?:living|life|being alive"
        r"|going on|anything|existing)\b",
        1,
        SUICIDE,
    ),
    Rule(
        "en.life_not_worth_living",
        r"\blife (?:is|feels|seems) (?:so |completely |totally |just |utterly )?(?:pointless"
        r"|meaningless|worthless|not worth (?:living|it)|hopeless|unbearable)\b"
        r"|\blife (?:isnt|is not|aint) worth (?:living|it)\b|\bnot worth living\b"
        r"|\btired of (?:living|being alive|life|existing)\b|\bsick of (?:living|being alive)\b"
        r"|\b(?:cant stop|keep|been|always) (?:thinking|think) (?:about|of) (?:dying|death"
        r"|being dead|not being here|not existing)\b",
        1,
        SUICIDE,
    ),
    Rule(
        "en.burden",
        r"\bbetter (?:off )?without me\b|\bbetter off if i (?:was|were|wasnt|werent) (?:dead|gone"
        r"|here|around|never born)\b"
        rf"|\b{_I_AM} (?:just |such |only |nothing but |a total |a huge ){{0,3}}(?:a"
        rf"|an) (?:\w{{1,40}} )?burden\b"
        r"|\bburden (?:to|on|for) (?:everyone|everybody|my|them|you|others|the people)\b",
        1,
        SUICIDE,
        exclude=_neg(r"better off without me|\w{0,40} ?burden"),
    ),
    Rule(
        "en.wish_dead",
        r"\b(?:wish|wishing|wished) (?:that )?i (?:was|were|had been|could be|d be) (?:dead|never"
        r" born|not alive|gone for good)\b|\bwish i (?:had )?never (?:been born|existed)\b"
        r"|\b(?:id|i would) (?:be )?(?:rather|better off) (?:be )?dead\b|\bbetter off dead\b"
        r"|\b(?:id|i would) rather (?:die|not exist|not be alive)\b"
        r"|\b(?:wish i could|want to|wanna) (?:just )?(?:disappear|vanish|stop existing|not exist"
        r"|(?:go to )?sleep forever)\b|\b(?:fall asleep|go to sleep|sleep) and (?:never"
        r"|not) wake up\b|\bwant out\b(?! of)|\bwaste of (?:space|air|oxygen)\b"
        r"|\bhope i (?:dont|do not|never) wake up\b|\b(?:dont|do not) want to wake up\b",
        1,
        SUICIDE,
        exclude=r"(?:disappear|vanish) (?:for|to|on|into|from (?:social|the internet))\b"
        r"|wake up (?:early|at|for|before|so|this|to)|rather die than",
    ),
    Rule(
        "en.hopeless",
        r"\b(?:feel|feeling|felt|so|completely|totally|utterly|just) hopeless\b"
        r"|\beverything (?:is|feels|seems) hopeless\b|\bno hope (?:left|anymore|for me|at all)\b"
        r"|\bgiv(?:e|ing) up on (?:life|living|everything|myself)\b"
        r"|\b(?:cant|cannot|can not) (?:go on|keep going|take (?:it|this|any ?more)"
        r"|do this any ?more"
        r"|carry on|keep living|cope any ?more|handle (?:it|this|life) any ?more)\b"
        r"|\bwant (?:it|everything|the pain|this|it all) (?:all )?to (?:stop|end)\b"
        r"|\b(?:no ?one|nobody) (?:would|will|gonna|is going to) (?:even )?(?:care|notice|miss me)"
        r"\b(?: \w{1,40}){0,3} (?:died|die|dead|gone|disappeared|disappear|killed myself)\b",
        1,
        SUICIDE,
        exclude=r"hopeless (?:at|with|in|romantic|case)|cant go on (?:the|a|this|that|with|holiday"
        r"|vacation|tour|stage)",
    ),
]

# ---- tier 2: active ideation, method-seeking, self-harm --------------------------------
_IDEATION = [
    Rule(
        "en.kill_self",
        _KILL_SELF,
        2,
        SUICIDE,
        exclude=_neg(_KILL_SELF_CORE, _KILL_SELF_IDIOMS),
    ),
    Rule(
        "en.suicidal",
        rf"\b{_I_AM}(?: \w{{1,40}}){{0,2}} suicidal\b|\b(?:feel|feeling|felt|been|get|getting|go|going)"
        r" (?:\w{1,40} ){0,2}suicidal\b|\bsuicidal (?:thoughts|ideation|feelings|urges)\b"
        r"|\bthoughts? (?:of|about) (?:suicide|killing myself|ending (?:my life|it all))\b"
        r"|\b(?:think|thinking|thought|considering|contemplating|obsessing) (?:about |of |over )?"
        r"(?:suicide|ending (?:my life|it all))\b"
        r"|\b(?:to|gonna|wanna|should|could|might|will|would|and|i) commit suicide\b"
        r"|\bkms\b|\bsewer ?slide\b|\bunalive\b",
        2,
        SUICIDE,
        exclude=_neg(r"suicidal|commit suicide|suicide") + r"|no (?:more |longer )?suicidal",
    ),
    Rule(
        # Someone else at risk: the person asking still needs to know where help is.
        "en.other_at_risk",
        r"\b(?:wants?|wanted|going|gonna|planning|plans|trying|tried|threatening|threatened|about)"
        r" to (?:kill|hurt|harm|cut|hang|shoot) (?:himself|herself|themselves|themself)\b"
        r"|\b(?:he|she|they|friend|brother|sister|son|daughter|mom|mum|dad|partner|wife|husband"
        r"|boyfriend|girlfriend)(?: is| s| are| has been| have been| seems"
        r"| feels) (?:\w{1,40} )?suicidal\b",
        2,
        SUICIDE,
        exclude=_neg(r"kill|hurt|harm|cut|hang|shoot|suicidal"),
    ),
    Rule(
        "en.want_to_die",
        r"\b(?:want|wanna|wanted|wish|wishing|need|ready|deserve|deserved|like|longing|long)"
        r" (?:\w{1,40} ){0,3}(?:to )?die\b|\bwant to be dead\b|\blet me die\b"
        r"|\bi (?:should|must) (?:just )?(?:die|be dead)\b|\bshould have died\b",
        2,
        SUICIDE,
        exclude=_neg(r"die|be dead")
        + r"|(?:want|wish|need|like) (?:him|her|them|you|it|that|this|those|these|my \w{1,40}|the \w{1,40})"
        r" to die|die (?:of|from) (?:embarrassment|shame|cringe|laughter|laughing|boredom|happiness"
        r"|cuteness|jealousy|old age)|die laughing|die (?:on|for) (?:this|that) hill"
        r"|to die for|like to die (?:peacefully|in my sleep|old)|dying to",
    ),
    Rule(
        "en.dont_want_to_live",
        r"\b(?:dont|do not|no longer|not) (?:really |even |wanna |want to |want |wish to "
        r"|feel like )"
        r"(?:to )?(?:live|be alive|stay alive|keep living|be here any ?more|be here any longer"
        r"|exist|go on any ?more|be around any ?more)\b|\b(?:dont|do not) wanna live\b"
        rf"|\b{_I_AM} (?:so |just |really )?done (?:with )?(?:life|living|being alive|existing)\b",
        2,
        SUICIDE,
        exclude=r"live (?:with|in|at|there|near|alone|together|abroad|on|far|close|somewhere"
        r"|like (?:that|them|him|her)|here|next)|(?:dont|do not) want (?:to )?exist"
        r"|(?:not|dont) even (?:want to |wanna )?(?:live|exist) (?:with|in|near)",
    ),
    Rule(
        "en.end_my_life",
        r"\b(?:end|ending|take|taking) (?:my|my own) life\b|\bend(?:ing)? it all\b"
        r"|\bend(?:ing)? (?:everything|my existence|my suffering|my pain for good)\b"
        rf"|\b(?:want|wanna|need|ready|tempted|thinking about|think about|going) (?:to )?{_END_IT}"
        rf"|^(?:just )?{_END_IT}(?: (?:all|tonight|today|now))?\b"
        r"|\b(?:wont|will not) be (?:here|around|alive) (?:much longer|for (?:much )?longer"
        r"|any ?more|by (?:tomorrow|morning|next week))\b",
        2,
        SUICIDE,
        exclude=_neg(r"(?:end|ending|take|taking) (?:my|my own) life|end(?:ing)? it all")
        + r"|end everything (?:with|between)",
    ),
    Rule(
        "en.method_ideation",
        r"\b(?:jump|jumping|throw myself|step|stepping|leap|leaping|walk|walking) (?:off|from|in"
        r" front of|into) (?:a|the|this|that|some) (?:bridge|building|roof|rooftop|cliff|balcony"
        r"|ledge|window|tower|train|bus|car|truck|car park|parking garage|overpass|traffic)\b"
        r"|\bwalk(?:ing)? into traffic\b|\bcrash my car (?:on purpose|into)\b"
        r"|\bdrive (?:my car )?off (?:a|the) (?:road|cliff|bridge)\b"
        r"|\b(?:want|wanna|going|gonna|thinking about|plan|planning|tempted|urge|urges) (?:to )?"
        r"(?:overdose|tak(?:e|ing) all (?:of )?(?:my|the) (?:pills|meds|tablets|medication)"
        r"|swallow(?:ing)? all (?:of )?(?:my|the) (?:pills|meds|tablets)|slit my (?:wrists?|throat)"
        r"|bleed out|drink (?:bleach|poison))\b|\bslit my (?:wrists?|throat)\b"
        rf"|\b(?:use|using) (?:it|that|this|them|the \w{{1,40}}|a \w{{1,40}}|my \w{{1,40}}) on {_SELF}\b",
        2,
        SUICIDE,
        exclude=r"bungee (?:jump|jumping|jumped)|jump(?:ing)? (?:off|from) (?:a"
        r"|the) (?:\w{1,40} )?into the"
        r" (?:water|lake|pool|sea|river)|(?:base|parachute|skydive|skydiving) (?:jump|jumping)|"
        + _NEG
        + r"(?:jump|overdose|slit)",
    ),
    Rule(
        "en.method_seeking",
        r"\b(?:lethal|fatal|deadly|overdose|toxic) (?:dose|doses|dosage|amount|quantity|level)\b"
        r"|\b(?:painful|hurt|quick|fast|slow|peaceful) to (?:hang|drown|overdose|shoot|kill|poison"
        r"|suffocate|bleed out) (?:yourself|oneself|myself|your ?self)?"
        r"|\bdoes (?:hanging|drowning|overdosing|jumping|bleeding out|an overdose|dying) (?:\w{1,40} )?"
        r"(?:hurt|painful|take long)\b"
        r"|\bhow (?:many|much) (?:\w{1,40} ){0,4}(?:to|would|will|does it take to|do i need to|until|is"
        r"|are)"
        r" (?:die|kill|be (?:lethal|fatal|deadly)|lethal|fatal|deadly|overdose|stop (?:my|your|a)"
        r" heart)\b"
        rf"|\bhow (?:do|can|would|should|could|to) (?:i )?(?:kill|hang|drown|poison|suffocate|shoot"
        rf"|electrocute|gas|unalive) (?:{_SELF}|yourself|oneself|themselves)\b"
        r"|\bhow to (?:die|commit suicide|end (?:my|your|ones|one s) life|overdose)\b"
        r"|\bhow (?:do|can|would|could|should) (?:i|you|one|someone|people|a person)"
        r" (?:die|commit suicide|overdose)\b"
        r"|\b(?:painless|quick|quickest|fast|fastest|easy|easiest|best|surest|peaceful|effective"
        r"|reliable|least painful|most painless) (?:way|ways|method|methods|means) (?:to|of)"
        r" (?:die|dying|kill (?:my|your|one)self|suicide|commit suicide|end (?:it|my life"
        r"|it all))\b"
        r"|\bhow (?:high|tall|far) (?:\w{1,40} ){0,5}(?:to die|to kill|fatal|lethal|be deadly)\b"
        r"|\bwhat (?:\w{1,40} ){0,3}(?:happens|would happen|will happen) if i (?:take|took|swallow"
        r"|swallowed|drink|drank|overdose) (?:all|a (?:whole )?bottle|(?<!\d)\d{2,9}|too many"
        r"|the whole)"
        r"|\bcan (?:you|i|someone|a person) (?:\w{1,40} ){0,2}die (?:from|of|by) (?:taking|an overdose"
        r"|overdosing|too many|swallowing|drinking)"
        r"|\b(?:which|what) (?:pills?|drugs?|medications?|meds|medicine|poisons?|chemicals?)"
        r" (?:\w{1,40} ){0,3}(?:kill|overdose|lethal|fatal|to die)\b"
        r"|\b(?:tie|make) a noose\b|\bhow long (?:does it|would it|will it|until) (?:\w{1,40} ){0,3}"
        r"(?:to die|to bleed out|die)\b|\bbleed out\b"
        r"|\benough (?:\w{1,40} ){0,2}to (?:die|kill (?:me|myself|someone|a person)|overdose|od|be"
        r" (?:lethal|fatal|deadly))\b",
        2,
        METHOD,
        exclude=r"(?:caffeine|coffee|chocolate|water|sugar|salt) (?:for|in) (?:a|my|the) (?:dog|cat"
        r"|pet)|how long (?:does it|would it|will it) take (?:for )?(?:a|my|the) (?:plant|plants"
        r"|fish|battery|cells?) to die",
    ),
]

_SELF_HARM = [
    Rule(
        "en.hurt_self",
        r"\b(?:cut|cutting|cuts|burn|burning|burned|burnt|hurt|hurting|hurts|harm|harming|harmed"
        r"|scratch|scratching|carve|carving|carved|starve|starving|starved|bruise|bruising|hit"
        rf"|hitting|punch|punching|choke|choking|strangle|strangling) {_SELF}\b",
        2,
        SELF_HARM,
        exclude=_neg(
            rf"\w{{1,40}} {_SELF}",
            rf"(?:cut|cutting|burn(?:ed|t|ing)?|hurt(?:ing)?|hit|hitting|scratch(?:ed|ing)?|bruis\w{{1,40}})"
            rf" {_SELF} (?:shaving|cooking|chopping|while|when|on (?:a|the|some|my)|with (?:a|the)"
            r" (?:knife|kitchen|paper|can|iron|stove|oven|pan|kettle)|by accident|accidentally"
            r"|at (?:the )?(?:gym|work|practice)|playing|during|lifting|running|falling|slicing"
            r"|opening|in (?:the|a) (?:kitchen|accident|game|match)|a (?:slice|piece)|some|another"
            r"|off|out|short|loose|free|up|down|into|in half)|accidentally \w{1,40} "
            + _SELF
            + rf"|(?:fell|tripped|slipped|crashed|accident) (?:\w{{1,40}} ){{0,2}}(?:and )?hurt {_SELF}",
        ),
    ),
    Rule(
        "en.self_harm",
        r"\bself ?(?:harm|harming|harmed|injur(?:y|e|ed|ing)|mutilat(?:e|ion|ing)|inflicted)\b"
        r"|\burges? to (?:cut|self ?harm|hurt myself|burn)\b|\bcutting again\b"
        r"|\b(?:started|start|been|keep|kept|back to|relapsed and|relapsed into) cutting\b"
        r"|\b(?:razor|blade|blades|knife) (?:\w{1,40} )?(?:on|to|against|into|across) my (?:skin|arms?"
        r"|wrists?|legs?|thighs?|stomach)\b|\bfresh cuts\b|\bnew cuts\b"
        r"|\bcuts? on my (?:arms?|wrists?|thighs?|legs?|stomach)\b"
        r"|\bi (?:\w{1,40} )?(?:cut|burned|burnt) again\b|\brelapsed (?:and|&) (?:cut|burned"
        r"|self ?harmed)"
        r"|\b(?:scratch|punch|hit|bit|bite|pick|claw)\w{0,40} (?:\w{1,40} ){0,4}until (?:i|it|they|my \w{1,40})"
        r" (?:bleed|bled|bleeds)\b",
        2,
        SELF_HARM,
        exclude=r"self ?harm (?:awareness|prevention|charity|research|support group|resources"
        r"|hotline|policy|policies)|(?:stopped|quit|clean from|recovered from|recovery from|free"
        r" from) (?:\w{1,40} )?self ?harm|cutting (?:back|down|out|off|carbs|sugar|costs|class|classes"
        r"|school|corners|ties|hair|my hair|the|it)|" + _NEG + r"(?:self ?harm|cutting)",
    ),
]

# ---- tier 3: intent, plan, preparation, recent attempt ---------------------------------
_INTENT = [
    Rule(
        "en.intent",
        r"\b(?:going to|gonna|will|ill|plan to|plan on|planning to|planning on|decided to|ready to"
        r"|about to|intend to|intending to|made up my mind to|determined to|finally going to"
        rf"|tonight i|tonight im|today im) (?:\w{{1,40}} ){{0,2}}(?:{_SUICIDE_ACTS})\b"
        r"|\b(?:im|i am|i m) (?:\w{1,40} )?(?:jumping (?:off|from)|walking into (?:the )?(?:sea|ocean"
        r"|river|lake|traffic)|hanging myself|killing myself|ending (?:it all|my life)"
        r"|overdosing)\b"
        r"|\b(?:going to|gonna|will|ill) walk into (?:the )?(?:sea|ocean|river|lake|traffic)\b"
        r"|\b(?:i|ive|i have) (?:got |made |have )?(?:a|the|my) plan (?:to|for|of how|how) (?:to )?"
        r"(?:kill|die|end|do it|suicide)",
        3,
        SUICIDE,
        exclude=_neg(
            r"(?:ready to |about to )?(?:kill|end|commit|take|hang|jump|overdose|unalive|shoot)"
        )
        + r"|(?:what|how) (?:will|would) (?:\w{1,40} ){0,2}(?:kill|end)"
        # "if they book one more meeting I'm jumping off a bridge": a complaint, not a plan
        r"|\bone more (?:\w{1,40} ){0,8}(?:im|i am|i will|ill|i m|i)(?: \w{1,40}){0,2} (?:jumping|jump|walk"
        r"|walking|kill|killing|gonna|going to)",
    ),
    Rule(
        "en.attempt",
        r"\b(?:tried|attempted|try|trying|attempting|tried again) (?:\w{1,40} )?to (?:kill myself|end"
        r" (?:my (?:own )?life|it all)|commit suicide|take my (?:own )?life|hang myself|overdose"
        r"|drown myself)\b|\b(?:my|i) (?:\w{1,40} )?(?:suicide attempt|attempted suicide)"
        r"|\bsurvived (?:a|my|an) (?:suicide attempt|overdose)\b"
        r"|\b(?:i|ive|i have|i had) (?:\w{1,40} )?overdosed\b|\btook an overdose\b"
        r"|\b(?:got|had) my stomach pumped\b",
        3,
        SUICIDE,
        exclude=_neg(r"kill|end|commit|take|hang|overdose|drown|attempted|overdosed|tried")
        # C-SSRS counts an attempt in the past three months; one long past, told as a
        # recovery, is history.
        + r"|(?:tried|attempted|overdosed|attempt)\w{0,40} (?:\w{1,40} ){0,6}(?:years?|yrs|decades?) ago"
        r"|(?:years?|yrs|decades?) ago,? i (?:\w{1,40} ){0,3}(?:tried|attempted|overdosed)"
        + r"|overdosed on (?:coffee|caffeine|sugar|chocolate|netflix|tv|candy|memes|anime|cake"
        r"|sunshine|cuteness|social media|carbs)",
    ),
    Rule(
        "en.preparation",
        r"\bsuicide (?:note|letter)s?\b|\b(?:wrote|written|writing|write|left|leaving|finished)"
        r" (?:\w{1,40} ){0,2}(?:goodbye|farewell|final|last) (?:note|notes|letter|letters|message"
        r"|messages|video)\b|\b(?:stockpil(?:e|ed|ing)|hoard(?:ed|ing)?|sav(?:e|ed|ing) up"
        r"|collect(?:ed|ing)|stash(?:ed|ing)?) (?:\w{1,40} ){0,2}(?:pills|tablets|meds|medication"
        r"|sleeping pills|painkillers)\b|\b(?:tied|made|tying|making|bought) (?:a|the) noose\b"
        r"|\bby the time you read this\b|\bwhen you read this i (?:will|ll|wont|am)\b"
        r"|\b(?:letters?|notes?|messages?) (?:\w{1,40} ){0,4}saying goodbye\b"
        r"|\b(?:rope|noose|pills|tablets|gun|knife|charcoal|blade) (?:is|are|all) (?:ready|set up"
        r"|tied|loaded|counted out|lined up)\b|\bhave the (?:rope|noose|pills|gun|knife|charcoal"
        r"|blade) (?:ready|set up|tied|loaded|counted out|lined up|here)\b"
        r"|\b(?:pills|tablets|meds) (?:\w{1,40} ){0,2}lined up\b",
        3,
        SUICIDE,
    ),
    Rule(
        "en.giving_away",
        r"\bgiv(?:e|en|ing)? away (?:all )?(?:of )?my (?:stuff|things|belongings|possessions|pets?"
        r"|cat|dog)\b|\bgave away (?:all )?(?:of )?my (?:stuff|things|belongings|possessions|pets?"
        r"|cat|dog)\b|\byou (?:wont|will not|ll never) (?:ever )?hear from me again\b"
        r"|\blast time (?:youll|you will|anyone will) (?:ever )?(?:hear from|see|talk to) me\b"
        r"|\bthis is (?:my )?goodbye\b(?! (?:to|for) (?:the|this|my|our) (?:job|city|town|house"
        r"|school|team|old))",
        2,
        SUICIDE,
    ),
    Rule(
        "en.threat_to_others",
        r"\b(?:shoot up|bomb|blow up|attack) (?:the|my|a|our) (?:school|office|workplace|work"
        r"|class|classroom|mall|church|mosque|synagogue|temple|company|campus)\b"
        r"|\bbring (?:a|my) (?:gun|knife|weapon) to (?:school|work|class|the office)\b",
        3,
        OTHERS,
    ),
]

# ---- tier 4: imminent ----------------------------------------------------------------
_IMMINENT = [
    Rule(
        "en.overdose_taken",
        r"\b(?:ive|i have|i|just|already) (?:just |already |now |actually )?(?:taken|took|swallowed"
        rf"|downed|ate|popped|injected) (?:\w{{1,40}} ){{0,2}}(?:{_AMOUNT}) (?:\w{{1,40}} ){{0,3}}(?:{_PILLS})"
        r"|\b(?:ive|i have|i) (?:just |already )?(?:taken|took|swallowed) (?:an|a) overdose\b"
        r"|\b(?:just|already) overdosed\b"
        r"|\b(?:the )?(?:pills|meds|tablets) (?:are|r) (?:starting to )?(?:kick|kicking|work"
        r"|working) in\b",
        4,
        OVERDOSE,
        exclude=_neg(r"(?:taken|took|swallowed)"),
    ),
    Rule(
        "en.poison_taken",
        r"\b(?:i|ive|i have|just) (?:just |already )?(?:drank|drunk|drink|swallowed|ingested|took)"
        r" (?:some |a bottle of |the |a cup of )?(?:bleach|pesticide|antifreeze|poison|rat poison"
        r"|weed ?killer|drain cleaner|paraquat|sodium nitrite)\b",
        4,
        OVERDOSE,
        exclude=_neg(r"(?:drank|drunk|drink|swallowed|ingested|took)"),
    ),
    Rule(
        "en.at_the_edge",
        r"\b(?:standing|sitting|stood|sat|climbed|climbing) (?:on|onto|over) (?:the|a) (?:ledge"
        r"|railing|parapet|edge of the (?:roof|bridge|building|cliff|platform|balcony))\b"
        r"|\b(?:rope|noose) is (?:around my neck|round my neck)\b|\bnoose (?:around"
        r"|round) my neck\b|\b(?:just|already|have|ive|i) (?:just |already )?"
        r"(?:slit|sliced|slashed) (?:open )?my (?:wrists?|veins?|throat)\b",
        4,
        SUICIDE,
    ),
    Rule(
        "en.bleeding",
        r"\bbleeding (?:a lot|heavily|badly|so much|everywhere|out|wont stop|will not stop|isnt"
        r" stopping|really bad)\b|\b(?:cant|cannot|can not|wont) stop (?:the )?bleeding\b"
        r"|\bblood (?:everywhere|wont stop|is everywhere)\b|\bcut (?:too|really|very"
        r"|way too) deep\b|\b(?:lost|losing) (?:a lot of|so much|too much) blood\b"
        r"|\b(?:bleeding|blood|it) (?:\w{1,40} ){0,3}(?:wont|will not|doesnt|does not|cant|isnt) stop\b"
        r"|\bwrists? (?:is|are|keeps?) bleeding\b",
        4,
        MEDICAL,
    ),
]

# ---- harm to others and abuse ----------------------------------------------------------
_PEOPLE = (
    r"him|her|them|someone|somebody|people|everyone|everybody|all of them|my (?:\w{1,40} )?(?:boss"
    r"|teacher|dad|father|mom|mum|mother|wife|husband|boyfriend|girlfriend|brother|sister|son"
    r"|daughter|kids?|baby|neighbou?r|roommate|classmates?|coworkers?|ex|parents|family|partner"
    r"|stepdad|stepmom|bully|bullies)"
)
_ABUSER = (
    r"he|she|they|my (?:\w{1,40} )?(?:dad|father|mom|mum|mother|stepdad|stepfather|stepmom|stepmother"
    r"|husband|wife|boyfriend|girlfriend|partner|ex|brother|sister|uncle|aunt|grandpa|grandfather"
    r"|teacher|coach|boss|parents|bf|gf|carer)"
)
_OTHERS = [
    Rule(
        "en.harm_others",
        r"\b(?:want|wanna|going|gonna|plan|planning|about|ready|decided|thinking about|urge|urges)"
        r" (?:to )?(?:really |seriously |actually )?(?:kill|murder|stab|shoot|strangle|poison|hurt"
        rf"|beat up|attack) (?:{_PEOPLE})\b",
        2,
        OTHERS,
        exclude=_neg(r"kill|murder|stab|shoot|strangle|poison|hurt|beat up|attack")
        + r"|(?:kill|murder) (?:him|her|them) (?:with kindness|in (?:the )?(?:game|match|round))"
        r"|(?:hurt|attack) (?:his|her|their|someones|my \w{1,40}s) feelings"
        rf"|(?:kill|murder) (?:{_PEOPLE}) (?:for|if) (?:\w{{1,40}}ing|not|ever|he|she|they)\b",
    ),
    Rule(
        "en.abuse",
        rf"\b(?:{_ABUSER})(?: \w{{1,40}})? (?:hits|hit|beats|beat|kicks|kicked|chokes|choked|strangles"
        r"|strangled|slaps|slapped|punches|punched|abuses|abused|rapes|raped|molests|molested"
        r"|touches|touched|burns|burned|locks|locked|threatens|threatened) me\b"
        r"|\bi (?:was|got|am being|have been|ve been|was being) (?:\w{1,40} )?(?:raped|molested"
        r"|sexually (?:assaulted|abused)|abused|beaten up|assaulted|groomed|trafficked)\b"
        r"|\b(?:experiencing|suffering|victim of|living with|escape|escaping|in) (?:\w{1,40} )?domestic"
        r" (?:violence|abuse)\b",
        2,
        ABUSE,
        exclude=r"beats? me (?:at|in|to|by)|hits? me (?:up|with|back)|hit me (?:that|like|hard)"
        r"|touche[sd]? me (?:deeply|emotionally|so much)|locks? me out of (?:the|my) (?:account"
        r"|phone|computer)"
        rf"|(?:{_ABUSER}) (?:doesnt|does not|didnt|did not|never|wont|would never|has never|hasnt"
        r"|isnt|dont|do not) (?:\w{1,40} )?me",
    ),
    Rule(
        "en.abuse_danger",
        r"\bthreaten(?:ed|s|ing)? to kill me\b|\b(?:afraid|scared|terrified|worried) (?:that )?"
        rf"(?:{_ABUSER})(?: ll| will| is going to| might| would| is gonna) (?:kill|hurt|hit"
        rf"|beat) me\b"
        rf"|\b(?:{_ABUSER}) (?:tried|tries|is trying) to (?:kill|strangle|choke|drown) me\b",
        3,
        ABUSE,
    ),
]

# ---- modifiers -----------------------------------------------------------------------
_MODIFIERS = [
    Rule(
        "en.means",
        rf"\b(?:{_PILLS})\b|\b(?:rope|noose|gun|guns|pistol|rifle|shotgun|firearm"
        r"|bullets?|knife|knives|blade|blades|razor|razors|bridge|roof|rooftop|ledge|cliff|balcony"
        r"|tall building|train tracks|railway|bleach|pesticide|antifreeze|poison|charcoal"
        r"|carbon monoxide|exhaust|helium|nitrogen|sodium nitrite|lethal dose|overdose)\b"
        r"|\b(?<!\d)\d{1,9} ?(?:mg|milligrams?|g|grams?)\b|\b(?:hang|hanging|shoot|shooting) myself\b"
        r"|\b(?:have|has|got|ve got) (?:it|everything) (?:all )?(?:planned|figured out|ready"
        r"|worked out|sorted|set)\b|\bi (?:have|ve got|ve|got) a plan\b",
        role="means",
    ),
    Rule(
        "en.timing",
        r"\b(?:tonight|today|right now|this (?:evening|morning|afternoon|weekend|week)"
        r"|tomorrow(?: (?:morning|night|evening))?|tmrw|tmr|(?:on |this |next )(?:monday|tuesday"
        r"|wednesday|thursday|friday|saturday|sunday)(?: (?:night|morning|evening))?|on my birthday"
        r"|(?:in|within) (?:an?|one|two|few|a few"
        r"|(?<!\d)\d{1,9}) (?:hours?|hrs?|minutes?|mins?)|at (?:midnight|\d{1,2}(?: ?[ap]m)?)|before"
        r" (?:morning|dawn|sunrise)|when (?:everyone|they|my (?:\w{1,40} )?(?:parents|family"
        r"|roommates?)) (?:is|are|goes|go) (?:asleep|to (?:sleep|bed)|out|away)|once (?:everyone"
        r"|they) (?:is|are) asleep)\b",
        role="timing",
    ),
    Rule(
        "en.farewell",
        r"\b(?:goodbye|good bye|farewell|bye forever|goodbye forever)\b"
        r"|\bthis is (?:my|the) last (?:message|text|time|goodbye|thing)\b"
        r"|\bmy last (?:message|words|goodbye|text|night)\b"
        r"|\bsee you (?:on the other side|in (?:another|the next) life)\b"
        r"|\btake care of (?:my|the) (?:cat|dog|pets?|kids|children|family|mum|mom|plants|sister"
        r"|brother)\b|\btell (?:my|them|everyone|everybody|her|him) (?:\w{1,40} ){0,2}(?:i love|that i"
        r" love|im sorry|i am sorry)\b|\b(?:im|i am) sorry for everything\b|\bforgive me\b"
        r"|\bthanks? (?:you )?for everything\b|\bit (?:was|has been) nice knowing (?:you"
        r"|everyone)\b"
        r"|\b(?:wont|will not) be (?:here|around) (?:tomorrow|any ?more|much longer|for long)\b",
        role="farewell",
    ),
]

RULES: list[Rule] = [
    *_PASSIVE,
    *_IDEATION,
    *_SELF_HARM,
    *_INTENT,
    *_IMMINENT,
    *_OTHERS,
    *_MODIFIERS,
]
