"""The gate's decisions, language by language, with the negatives that must stay quiet."""

import pytest

from bot.safety.gate import SafetyGate
from bot.safety.levels import Level, choose_category

IMMINENT, HIGH, CONCERN, NONE = Level.IMMINENT, Level.HIGH, Level.CONCERN, Level.NONE

# (lang, text, expected level). Written apart from the red-team CSV, so these
# also check that the lexicons generalise a little beyond the rows they were tuned on.
TABLE = [
    ("en", "I want to kill myself", HIGH),
    ("en", "i wanna dieee", HIGH),
    ("en", "kms fr", HIGH),
    ("en", "thinking of unaliving myself", HIGH),
    ("en", "I'm going to hang myself", IMMINENT),
    ("en", "I want to die tonight", IMMINENT),
    ("en", "i want 2 die 2nite", IMMINENT),
    ("en", "I'm so stressed, I can't cope", CONCERN),
    ("en", "nobody cares about me", CONCERN),
    ("en", "my husband beats me", HIGH),
    ("en", "This traffic is killing me", NONE),
    ("en", "I'm dying to see you", NONE),
    ("en", "this homework will be the death of me", NONE),
    ("en", "I killed it at the exam", NONE),
    ("en", "my phone is dead", NONE),
    ("en", "i feel trapped", CONCERN),  # never French t' + "raped"
    ("en", "he trapped me in the room and raped me", HIGH),
    ("sw", "nataka kujiua", HIGH),
    ("sw", "nitajiua leo usiku", IMMINENT),
    ("sw", "nitakunywa sumu", IMMINENT),
    ("sw", "sitaki kuishi tena", HIGH),
    ("sw", "nina mawazo mengi sana", CONCERN),
    ("sw", "nataka kufa na kicheko", NONE),
    ("sw", "simu yangu imekufa", NONE),
    ("sw", "nataka kujua kuhusu usingizi", NONE),  # kujua (to know) is not a misspelt kujiua
    ("es", "me quiero morir", HIGH),
    ("es", "me voy a matar esta noche", IMMINENT),
    ("es", "me muero de hambre", NONE),
    ("fr", "je veux mourir", HIGH),
    ("fr", "je suis mort de rire", NONE),
    ("fr", "jveux plus me reveiller le matin", HIGH),  # j' before a consonant, as texted
    ("fr", "tas envie de mourir toi aussi?", HIGH),
    ("pt", "quero morrer", HIGH),
    ("pt", "morri de rir", NONE),
    ("hi", "मैं मरना चाहती हूँ", HIGH),
    ("hi", "भूख से मर रहा हूँ", NONE),
    ("hi-Latn", "mar jaana chahta hoon", HIGH),
    ("hi-Latn", "khudkushi kar lunga", HIGH),
    ("hi-Latn", "jeena nahi chahta", HIGH),
    ("hi-Latn", "hasi se mar gaya", NONE),
    ("hi-Latn", "pati ne mujhe phir se peeta", HIGH),  # past tense: he beat me again
    ("hi-Latn", "abbu ammi ko bahut marte hain", HIGH),  # a child sees their mother beaten
    ("hi", "ससुर ने मुझे थप्पड़ मारा", HIGH),
    ("ar", "بدي موت", HIGH),
    ("ar", "أموت من الضحك", NONE),
    ("am", "መሞት እፈልጋለሁ", HIGH),
    ("ha", "zan kashe kaina", HIGH),
    ("ha", "ba zan iya daukar wannan ba, zan kashe kaina", HIGH),  # the closing "ba" ends the first clause
    ("ha", "ba zan taba kashe kaina ba", CONCERN),
    ("ha", "ban san abin da zan yi ba zan kashe kaina", HIGH),
    ("yo", "mo fe pa ara mi", HIGH),
    ("yo", "e ku aaro", NONE),
    ("zu", "ngizozibulala", HIGH),
    ("so", "waan is dili doonaa", HIGH),
    # Negation that denies the act: "impossible that I...", Arabizi "mish", Hausa "bazan"
    ("ar", "مستحيل اقتل نفسي، بس زهقان من الشغل", CONCERN),
    ("ar", "mish 3ayez a2tol nafsi, ana bas za3lan", CONCERN),
    ("ar", "msh 2ader akammel, 3ayez amoot", HIGH),  # "mish" on other words negates nothing
    ("ar", "مش عايزه اموت، انا بس مخنوقه من الدراسه", CONCERN),
    ("ar", "مش عايزه اعيش خلاص", HIGH),  # the negative is the crisis: an entry, not a negation
    ("ha", "bazan taba kashe kaina ba, damuwa ce kawai", CONCERN),
    # The past in the verb or the clause, and a recovery said after
    ("ar", "كنت اقطع ايدي بالموس ايام الثانوي، هلق الحمد لله منيح", CONCERN),
    ("ar", "امبارح كنت اجرح نفسي", HIGH),  # "yesterday I was...": not the habitual past
    ("ar", "كنت رح انتحر امبارح", HIGH),  # "I was going to": an intent, not a habit
    ("ha", "da ina cutar da kaina, amma yanzu lafiya lau", CONCERN),
    ("yo", "nigba ti mo wa ni jss2, mo maa n ge ara mi", CONCERN),
    ("zu", "ngangizisika ngisafunda, kodwa sengayeka", CONCERN),
    ("zu", "sengayeka ukuzilimaza", CONCERN),
    ("zu", "bengizisika izolo", HIGH),  # the recent past (bengi-) is not a cue
    # A finger cut while cooking; an arm or a wrist is still read
    ("es", "me corté el pulgar pelando papas y sangra mucho", NONE),
    ("es", "me corté las muñecas, no para de sangrar", IMMINENT),
    ("so", "anigoo hilib jarjaraya ayaan suulka iska jaray", NONE),
    ("zu", "ngizisikile emunweni ngipheka inyama", NONE),
    # "en finir avec" a habit or a debt; life, oneself and everything are still read
    ("fr", "je vais en finir avec mes dettes cette année", NONE),
    ("fr", "jveux en finir avec le tabac", NONE),
    ("fr", "jveux en finir avec moi", HIGH),
    ("fr", "je veux en finir avec tout", HIGH),
    # A parent's threat over marks is a scolding feared; kept to hide a secret, it is violence
    ("hi", "कल रिजल्ट है, नंबर कम आए तो पापा मार देंगे", NONE),
    ("hi-Latn", "kisi ko bataya to papa maar denge, wo raat ko mere kamre me aate hain", HIGH),
    # Medicine as prescribed is treatment; all of a prescription swallowed is an overdose
    ("ar", "كنت باخد الحبوب زي ما قال الدكتور", NONE),
    ("ar", "bla3t kol el 7boob elli katabha el doctor", HIGH),
    ("ar", "بلعت كل الحبوب اللي كتبها الدكتور مرة وحدة", IMMINENT),
    # Ceremonies, sweets and goodbyes with a time to meet again; the bare forms are still read
    ("am", "የልጄ ግርዛት በዓል ነገ ነው", NONE),  # a boy's circumcision feast
    ("am", "ሊገርዙኝ ነው እርዱኝ", HIGH),  # "they are going to cut me, help"
    ("am", "ደህና ሁኑ ሁላችሁም ነገ እንገናኝ", NONE),
    ("fr", "il a mangé toute la boîte de chocolats ce gourmand", NONE),
    ("fr", "il a avalé toute la boîte de médicaments", IMMINENT),
]


@pytest.mark.parametrize(("lang", "text", "level"), TABLE)
def test_levels_per_language(gate: SafetyGate, lang: str, text: str, level: Level) -> None:
    assert gate.assess(text, lang).level == level


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I would never kill myself"),
        ("en", "I'm not suicidal"),
        ("en", "I don't want to die"),
        ("en", "I used to want to die, not anymore"),
        ("sw", "Sitaki kujiua"),
        ("es", "Nunca me suicidaría"),
        ("fr", "Je n'ai pas de pensées suicidaires"),
        ("hi", "मैं कभी आत्महत्या नहीं करूंगा"),
        ("hi-Latn", "main kabhi suicide nahi karunga"),
        ("ar", "لا أفكر في الانتحار"),
        ("ha", "ba zan taba kashe kaina ba"),
        ("yo", "mi o ni pa ara mi lae"),
        ("zu", "angisoze ngazibulala"),
        ("so", "weligay is dili maayo"),
    ],
)
def test_negation_lowers_to_concern_not_to_none(gate: SafetyGate, lang: str, text: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.level == CONCERN
    assert any(rule.startswith("neg:") for rule in assessment.rules)


@pytest.mark.parametrize(
    "text",
    [
        "I don't know, I just want to die",  # "don't" negates "know", not the wish
        "I'm not ok, I want to die",
        "I'm not suicidal, I just want to die",
        "no one would care if I killed myself",
        "yaar I just want to die na",  # Hinglish tag question, not a negation
    ],
)
def test_negation_scope_stays_local(gate: SafetyGate, text: str) -> None:
    assert gate.assess(text, "en").level >= HIGH


def test_negation_follows_the_message_language_across_lexicons(gate: SafetyGate) -> None:
    # "suicid*" is in the French lexicon too; English negation still applies.
    assessment = gate.assess("I'm not suicidal", "en")
    assert assessment.level == CONCERN
    assert "fr.suicide.me_suicider" not in assessment.rules


def test_method_plus_time_is_imminent_but_signals_alone_are_not(gate: SafetyGate) -> None:
    assert gate.assess("I want to die, I have the rope", "en").level == IMMINENT
    assert gate.assess("remind me to take my pills tonight", "en").level == NONE
    assert gate.assess("I want to die but not tonight", "en").level == HIGH


def test_goodbye_forever_counts_as_time_with_an_intent(gate: SafetyGate) -> None:
    assert gate.assess("goodbye forever", "en").level == HIGH
    assert gate.assess("I can't go on living. Goodbye forever", "en").level == IMMINENT


def test_farewell_preparations_need_a_second_sign(gate: SafetyGate) -> None:
    assert gate.assess("I gave away all my things", "en").level == NONE
    assert gate.assess("I gave away all my things, tonight is the night", "en").level == HIGH


def test_farewell_signs_add_up_with_distress_or_with_each_other(gate: SafetyGate) -> None:
    assert gate.assess("I've said my goodbyes", "en").level == NONE
    assert gate.assess("it's not worth it anymore", "en").level == CONCERN
    assert gate.assess("it's not worth it anymore, I've said my goodbyes", "en").level == HIGH
    assert gate.assess("giving my stuff away, I won't need it soon", "en").category == "suicide"
    assert gate.assess("giving my stuff away to charity", "en").level == NONE


@pytest.mark.parametrize("text", ["I want to DIE", "i want to dieeeee", "w4nna k1ll mys3lf", "I want... to die!!!"])
def test_normalisation_reaches_the_gate(gate: SafetyGate, text: str) -> None:
    assert gate.assess(text, "en").level >= HIGH


def test_accents_optional(gate: SafetyGate) -> None:
    assert gate.assess("penso em suicídio", "pt").level >= HIGH
    assert gate.assess("penso em suicidio", "pt").level >= HIGH


def test_translation_path_catches_what_the_source_lexicon_misses(gate: SafetyGate) -> None:
    text = "Sina hamu ya kuendelea na maisha haya"  # "I have no wish to go on with this life"
    assert gate.assess(text, "sw").level < HIGH
    translated = gate.assess(text, "sw", translated_en="I have no reason to go on living")
    assert translated.level >= HIGH
    assert "en.suicide.no_will_to_live" in translated.rules


def test_translation_never_lowers_the_original(gate: SafetyGate) -> None:
    assert gate.assess("nataka kujiua", "sw", translated_en="I want to rest").level >= HIGH


def test_unknown_or_missing_language_still_checks_every_lexicon(gate: SafetyGate) -> None:
    assert gate.assess("nataka kujiua", None).level >= HIGH
    assert gate.assess("nataka kujiua", "en").level >= HIGH  # stored preference is wrong
    assert gate.assess("nataka kujiua", "xx").level >= HIGH
    assert set(gate.assess("hello", "sw").lang_checked) >= {"sw", "en", "hi"}
    assert gate.assess("hello", "sw").lang_checked[0] == "sw"


def test_assessments_name_rules_never_the_text(gate: SafetyGate) -> None:
    assessment = gate.assess("Wanjiru here, I want to kill myself tonight", "en")
    assert assessment.rules == ("combo:suicide+time", "en.suicide.kill_myself", "en.time.soon")
    assert assessment.categories == ("suicide",)
    assert not any("wanjiru" in repr(value).lower() for value in vars(assessment).values())


def test_same_input_same_output(gate: SafetyGate) -> None:
    text = "nimechoka na maisha, nataka kujiua leo"
    assert len({gate.assess(text, "sw") for _ in range(5)}) == 1


def test_violence_is_its_own_pathway(gate: SafetyGate) -> None:
    threat = gate.assess("my husband says he will kill me", "en")
    assert threat.is_crisis and threat.category == "violence"
    assert gate.assess("I'm scared I'll hurt my baby", "en").category == "violence"


def test_one_pathway_category_by_severity_then_precedence() -> None:
    assert choose_category({}) is None
    assert choose_category({"suicide": Level.CONCERN}) == "distress"
    assert choose_category({"suicide": Level.HIGH, "violence": Level.HIGH}) == "suicide"
    assert choose_category({"suicide": Level.HIGH, "violence": Level.IMMINENT}) == "violence"
    assert choose_category({"child_safeguarding": Level.HIGH, "sexual_violence": Level.HIGH}) == "child_safeguarding"
    assert choose_category({"third_party": Level.HIGH, "self_harm": Level.HIGH}) == "self_harm"
    # harm already under way wins over a higher-ranked category that is only feared
    assert choose_category({"suicide": Level.IMMINENT, "self_harm": Level.IMMINENT}, {"self_harm"}) == "self_harm"


def test_assessment_carries_category_and_in_progress(gate: SafetyGate) -> None:
    calm = gate.assess("good morning", "en")
    assert (calm.category, calm.in_progress) == (None, False)
    worried = gate.assess("I feel so hopeless", "en")
    assert worried.level == Level.CONCERN and worried.category == "distress"
    ideation = gate.assess("I want to kill myself", "en")
    assert ideation.category == "suicide" and not ideation.in_progress


def test_hinglish_tag_question_is_not_a_negation(gate: SafetyGate) -> None:
    assert gate.assess("yaar I just want to die na", "hi-Latn").level >= HIGH
    assert gate.assess("marna chahta hoon na", "hi-Latn").level >= HIGH


def test_a_childs_disclosure_and_command_voices_choose_the_pathway() -> None:
    levels = {"suicide": Level.IMMINENT, "command_hallucination": Level.HIGH}
    assert choose_category(levels) == "command_hallucination"
    assert choose_category({"violence": Level.IMMINENT, "child_safeguarding": Level.HIGH}) == "child_safeguarding"
    # harm under way still comes first: the emergency number before anything else
    assert choose_category({**levels, "self_harm": Level.IMMINENT}, {"self_harm"}) == "self_harm"


@pytest.mark.parametrize(
    ("lang", "text", "category"),
    [
        ("fr", "mon frère veut se pendre", "third_party"),
        ("es", "mi hermana dice que se va a matar", "third_party"),
        ("pt", "meu amigo quer se matar", "third_party"),
        ("sw", "kaka yangu anataka kujiua", "third_party"),
        ("es", "me quiero matar", "suicide"),
        ("pt", "eu quero me matar", "suicide"),
        ("fr", "les voix me disent de sauter du pont", "command_hallucination"),
        ("sw", "nina miaka 14 na mwalimu ananigusa", "child_safeguarding"),
        ("fr", "on m'a violée", "sexual_violence"),
        ("es", "mi novio me amenazó de muerte", "violence"),
    ],
)
def test_pathway_categories_beyond_english(gate: SafetyGate, lang: str, text: str, category: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.is_crisis and assessment.category == category, assessment.rules


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I'd never do anything to myself, I'm only exhausted"),
        ("en", "the urge has passed, I'm fine now"),
        ("en", "the urge to cut myself has passed and I'm fine now"),
        ("sw", "hamu ya kujidhuru imepita, niko sawa sasa"),
        ("fr", "l'envie de me couper est passée, ça va mieux maintenant"),
        ("es", "las ganas de cortarme ya se me pasaron, ahora estoy bien"),
        ("pt", "a vontade de me cortar já passou, agora estou bem"),
        ("hi-Latn", "khud ko hurt karne ki ichha ab chali gayi, ab theek hoon"),
        ("ar", "فكرت بالانتحار قبل سنين بس هلق أنا منيح"),
    ],
)
def test_passed_urges_and_exhaustion_are_not_a_crisis(gate: SafetyGate, lang: str, text: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.level < HIGH, assessment.rules
    assert not any(rule.startswith("combo:") for rule in assessment.rules)  # "now" is no time signal here


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I can't go on"),
        ("en", "I don't want to live"),
        ("en", "my daughter wrote a goodbye letter and is gone"),
        ("en", "I'm going to end it all, it's over"),
        ("pt", "minha irmã escreveu uma carta de despedida e foi embora"),
        ("fr", "mon fils a laissé une lettre d'adieu et il est parti"),
        ("es", "me voy a matar, se acabó"),
        ("sw", "nataka kujiua, maisha yameisha"),
        ("hi-Latn", "marna chahta hoon, sab khatam ho gaya"),
        ("ar", "بدي موت خلص"),
    ],
)
def test_words_for_leaving_or_the_end_never_negate_a_crisis(gate: SafetyGate, lang: str, text: str) -> None:
    assert gate.assess(text, lang).is_crisis, gate.assess(text, lang).rules


@pytest.mark.parametrize(
    ("lang", "text", "category"),
    [
        ("en", "my brother says he can't take it anymore and wants to end it all", "third_party"),
        ("en", "my brother tried to kill himself and I want to die too", "suicide"),
        ("ha", "muryoyi suna ce min in kashe kaina", "command_hallucination"),
        ("en", "the voices tell me to kill myself", "command_hallucination"),
    ],
)
def test_whose_risk_it_is(gate: SafetyGate, lang: str, text: str, category: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.is_crisis and assessment.category == category, assessment.rules


@pytest.mark.parametrize(
    ("text", "in_progress"),
    [
        ("my sister overdosed and won't wake up", True),
        ("my mum swallowed a whole box of sleeping pills", True),
        ("my girlfriend cuts herself", False),
        ("my neighbour's husband beats her every night", False),
    ],
)
def test_someone_else_at_risk_with_harm_under_way(gate: SafetyGate, text: str, in_progress: bool) -> None:
    assessment = gate.assess(text, "en")
    assert assessment.category == "third_party" and assessment.in_progress == in_progress, assessment.rules


@pytest.mark.parametrize(
    "text", ["he drank a beer last night", "she took her pills this morning", "my son won't wake up"]
)
def test_ordinary_news_of_someone_else_is_calm(gate: SafetyGate, text: str) -> None:
    assert gate.assess(text, "en").level < HIGH
