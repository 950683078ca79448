"""The output guard: deterministic rules every generated reply must pass before anyone reads it.

A 135M-parameter model will sometimes say things a supportive-listening service must never
say: name a medicine or a dose, diagnose, give diet or weight advice, promise an outcome, claim
to be a person or a clinician, or invent a link or phone number. These rules are plain lexicons
and regular expressions, so a reviewer can read exactly what is blocked and a test can pin it.

The guard returns only the name of the rule that fired, never the text: the caller sends an
approved fallback message and the audit log records the rule. Rules err towards blocking: a
false block costs one approved fallback message, a false pass can hurt someone.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

RULES = ("empty", "overlong", "repetitive", "medication", "dose", "diagnosis", "diet_weight", "promise",
         "availability", "human_claim", "condolence", "refusal", "link", "phone", "safety_flag")


def _words(*terms: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(terms) + r")\b", re.IGNORECASE)


_MEDICATION = _words(
    r"medications?", r"medicines?", r"meds", r"pills?", r"tablets?", r"capsules?", r"prescri\w*", r"dosage",
    r"antidepressants?", r"anti-?anxiety", r"antipsychotics?", r"sedatives?", r"tranquill?i[sz]ers?",
    r"sleeping pills?", r"painkillers?", r"ssris?", r"snris?", r"benzo\w*",
    # common psychotropics and painkillers, generic names
    r"sertraline", r"fluoxetine", r"paroxetine", r"citalopram", r"escitalopram", r"fluvoxamine", r"venlafaxine",
    r"duloxetine", r"mirtazapine", r"bupropion", r"trazodone", r"amitriptyline", r"imipramine", r"nortriptyline",
    r"clomipramine", r"diazepam", r"lorazepam", r"alprazolam", r"clonazepam", r"chlordiazepoxide", r"zolpidem",
    r"haloperidol", r"chlorpromazine", r"olanzapine", r"risperidone", r"quetiapine", r"aripiprazole",
    r"clozapine", r"lithium", r"valproate", r"carbamazepine", r"lamotrigine", r"methylphenidate",
    r"paracetamol", r"acetaminophen", r"ibuprofen", r"aspirin", r"tramadol", r"codeine", r"morphine",
    r"diphenhydramine", r"melatonin", r"prozac", r"zoloft", r"xanax", r"valium", r"lexapro",
)
_DOSE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|milligrams?|micrograms?|ml|millilit(?:er|re)s?|g|grams?|iu|units?"
    r"|tablets?|pills?|capsules?|drops?|doses?|spoons?|teaspoons?|tablespoons?)\b"
    r"|\b(?:once|twice|three times|\d+ times) (?:a|per) day\b|\bdaily dose\b|\bevery \d+ hours\b",
    re.IGNORECASE,
)
_CONDITION = (r"depression|clinical depression|anxiety|an anxiety disorder|ptsd|trauma|bipolar\w*|schizophreni\w*"
              r"|psychosis|ocd|adhd|insomnia|a (?:mental|personality|panic|eating) (?:illness|disorder)"
              r"|(?:a )?mental illness|burnout")
_DIAGNOSIS = re.compile(
    r"\bdiagnos\w*|\bdisorders?\b|\bsyndrome\b|\bpsychotic\b|\bmajor depressive\b"
    r"|\byou(?:'re| are)? (?:might |may |probably |could |clearly |definitely )?(?:have|suffer(?:ing)? from|"
    r"be suffering from|are suffering from|show(?:ing)? signs of|(?:have )?got) (?:" + _CONDITION + r")\b"
    r"|\b(?:this|that|it) (?:is|sounds like|could be|might be|may be|seems like|looks like) (?:" + _CONDITION + r")\b"
    r"|\bsymptoms? of (?:" + _CONDITION + r")\b",
    re.IGNORECASE,
)
_DIET_WEIGHT = _words(
    r"diet(?:s|ing|ary)?", r"calories?", r"caloric", r"lose weight", r"losing weight", r"weight loss",
    r"gain weight", r"gaining weight", r"weight gain", r"bmi", r"body mass", r"fasting", r"fast for",
    r"skip(?:ping)? meals?", r"eat less", r"eating less", r"cut (?:out|down on) (?:sugar|carbs|food)", r"carbs",
    r"overweight", r"underweight", r"slim(?:ming)? down",
)
_PROMISE = re.compile(
    r"\bi promise\b|\bpromise you\b|\bguarantee\w*|\bi assure you\b|\bi swear\b"
    r"|\byou(?:'ll| will) (?:surely |definitely |certainly |absolutely |be sure to )?(?:be|feel|get) "
    r"(?:fine|ok|okay|alright|all right|better|well)\b"
    r"|\beverything (?:will|is going to) (?:be )?(?:fine|ok|okay|alright|all right|work out)\b"
    r"|\b(?:this|it) will (?:definitely |surely )?(?:pass|get better|go away)\b"
    r"|\bi(?:'ll| will) (?:always|never leave|do everything|be (?:here|there) (?:tomorrow|always|forever))\b",
    re.IGNORECASE,
)
# A program cannot be there for anyone: promises of presence, availability or ongoing support,
# in every language a reply may come out in (matched on the text with accents folded away).
_AVAILABILITY = re.compile("|".join((
    # English
    r"\b(?:i'?m|i am|i'?ll|i will)(?: always| still| right)? (?:be )?(?:here|there) (?:for you|to support you|with you)",
    r"\b(?:i'?ll|i will) (?:always )?be (?:here|there|around)\b",
    r"\bevery step of the (?:way|journey)\b", r"\b(?:i'?ll|i will) (?:stay|be) with you\b", r"\bwith you all the way\b",
    r"\b(?:any ?time|whenever) you (?:need|want)\b", r"\b24/7\b", r"\baround the clock\b", r"\bday or night\b",
    r"\b(?:i'?ll|i will) (?:check (?:in|on you)|follow up|keep (?:supporting|checking))",
    r"\bi'?m not going anywhere\b", r"\byou can always (?:talk to|reach|count on|come to|message|text) me\b",
    r"\b(?:i'?m|i am) (?:always )?available\b", r"\balways (?:here|available)\b", r"\bi'?ll never leave you\b",
    # Kiswahili
    r"\b(?:niko|nipo)(?: hapa)? (?:kwa ajili yako|nawe|pamoja nawe)\b", r"\bnitakuwa (?:nawe|pamoja nawe|hapa)\b",
    r"\bkila hatua\b", r"\bwakati wowote\b", r"\bsaa (?:24|ishirini na nne)\b", r"\bsitakuacha\b",
    # French
    r"\bje (?:suis|serai|reste)(?: toujours)? (?:la|ici) pour (?:toi|vous)\b", r"\bje serai (?:toujours )?(?:la|avec)\b",
    r"\ba chaque (?:etape|pas)\b", r"\bje reste (?:avec|aupres de) (?:toi|vous)\b", r"\bn'?importe quand\b",
    r"\ba tout moment\b", r"\b24 ?h ?/ ?24\b", r"\bjour et nuit\b", r"\bje ne (?:te|vous) laisserai\b",
    r"\btoujours disponible\b",
    # Spanish
    r"\bestoy (?:aqui|contigo|siempre) (?:para (?:ti|usted)|contigo)?", r"\bestare (?:aqui|contigo|siempre|a tu lado)\b",
    r"\bsiempre estare\b", r"\b(?:en|a) cada paso\b", r"\bcuando (?:lo )?necesites\b", r"\ba cualquier hora\b",
    r"\blas 24 horas\b", r"\bdia y noche\b", r"\bno te dejare\b", r"\bsiempre disponible\b", r"\bcuenta conmigo\b",
    # Hindi (Devanagari and romanised)
    r"\bhamesha (?:tumhare|aapke) saath\b", r"\b(?:main|mai) (?:hamesha )?(?:yahan|yaha) (?:hoon|hu|hun)\b",
    r"\bhar kadam\b", r"हमेशा (?:तुम्हारे|आपके) साथ", r"मैं (?:हमेशा )?यहाँ (?:हूँ|हूं)", r"हर कदम",
)), re.IGNORECASE)
_ROLE = (r"human|(?:a )?real (?:person|human)|(?:a )?person|(?:a |an )?(?:licensed |qualified |trained )?"
         r"(?:therapist|doctor|nurse|psychologist|psychiatrist|counsell?or|clinician|physician|social worker"
         r"|health worker|medical professional|mental health professional)")
_HUMAN_CLAIM = re.compile(
    r"\bi(?:'m| am)(?: also| really| actually)? (?:" + _ROLE + r")\b"
    r"|\bas (?:a |an |your )(?:therapist|doctor|nurse|psychologist|psychiatrist|counsell?or|clinician)\b"
    r"|\bi(?:'m| am) not (?:a |an )?(?:bot|robot|machine|computer|ai|program|chatbot)\b"
    r"|\bi have (?:feelings|a body|a family)\b"
    # a life only a person has: a career, a family, years of experience
    r"|\bi(?:'ve| have) (?:been|worked as) (?:a|an) (?!computer|program|chatbot|bot)\w+"
    r"|\bmy (?:husband|wife|boyfriend|girlfriend|children|kids|son|daughter|profession|career|colleagues?|patients)\b"
    r"|\b(?:\d+|many) years of experience\b|\bfor \d+ years\b",
    re.IGNORECASE,
)
# Condolences are only right when the person spoke of a loss; a small model offers them at random.
_CONDOLENCE = re.compile(r"\bsorry for (?:your|the) (?:\w+'s )?loss\b|\bcondolences?\b|\bpassed away\b"
                         r"|\brest in peace\b|\bsorry (?:that )?(?:he|she|they) died\b", re.IGNORECASE)
# A refusal or a silencing reads as rejection to someone who has just opened up.
_REFUSAL = re.compile(
    r"\bi(?: can't| cannot| can not| am unable to|'m unable to| won't| am not able to|'m not able to)"
    r" (?:help|assist|talk|discuss|support|respond)\b"
    r"|\b(?:you're|you are) not allowed to\b|\bnot allowed to (?:talk|discuss|say)\b",
    re.IGNORECASE,
)
_LOSS_CONTEXT = _words(r"lost", r"loss", r"died", r"dead", r"death", r"passed", r"funeral", r"killed", r"grie\w*",
                       r"miscarriage", r"buried", r"mourn\w*")
_TLDS = (r"com|org|net|info|io|co|me|ly|app|edu|gov|health|africa|ke|tz|ug|rw|ng|za|gh|et|mw|zm|zw|so|sd|cd"
         r"|in|pk|bd|uk|us|fr|de|es|pt|br")
# Full URLs in any case; bare domains only in lower case ("see findahelpline.com"), so a missing
# space after a full stop ("alone.So") is not taken for a Somali domain.
_LINK = re.compile(
    r"(?i:(?:https?://|www\.)[^\s<>\"')]+)"
    r"|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.(?:" + _TLDS + r")\b(?:/[^\s<>\"')]*)?",
)
_NUMBER_RUN = re.compile(r"\+?\d(?:[\s.\-()]*\d)+")
_CONTACT_CUE = _words(r"call", r"dial", r"text", r"sms", r"phone", r"ring", r"whatsapp", r"contact", r"number",
                      r"hotline", r"helpline", r"line", r"reach")
_TOKEN = re.compile(r"[\w']+")
_CHAR_RUN = re.compile(r"(.)\1{9,}")


@dataclass(frozen=True)
class GuardVerdict:
    """Allowed, or the name of the first rule that blocked; never the text itself."""

    allowed: bool
    rule: str | None = None


def _unaccented(text: str) -> str:
    """Latin accents away (é -> e), apostrophes straightened; other scripts kept as written."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return unicodedata.normalize("NFC", "".join(
        c for c in decomposed if not (unicodedata.combining(c) and ord(c) < 0x0370)))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _normalise_link(link: str) -> str:
    link = link.lower().rstrip(".,;:!?")
    link = re.sub(r"^https?://", "", link)
    link = re.sub(r"^www\.", "", link)
    return link.rstrip("/")


class OutputGuard:
    """Checks one reply against every rule; ``allowlist`` holds the links and numbers we may send.

    The allowlist is the region's approved helplines and links (from the content library), so
    "call 0800 000 000" passes only where 0800 000 000 is a real, reviewed helpline.
    ``safety_flag`` is any extra check, typically the crisis classifier run on our own output.
    """

    def __init__(self, allowlist: Iterable[str] = (), safety_flag: Callable[[str], bool] | None = None,
                 max_chars: int = 480, max_words: int = 90, ngram: int = 3, max_ngram_repeats: int = 2):
        entries = [entry.strip() for entry in allowlist if entry and entry.strip()]
        links = [e for e in entries if _LINK.search(e.lower())]
        self.allowed_links = {_normalise_link(e) for e in links}
        self.allowed_numbers = {_digits(e) for e in entries if e not in links and len(_digits(e)) >= 3}
        self.safety_flag = safety_flag
        self.max_chars = max_chars
        self.max_words = max_words
        self.ngram = ngram
        self.max_ngram_repeats = max_ngram_repeats

    def check(self, text: str, context: str | None = None) -> GuardVerdict:
        """Run the rules in order; log and return the first that fires.

        ``context`` is the person's message (in English) when known: it lets a condolence
        through when they spoke of a loss.
        """
        rule = self._first_rule(text, context)
        if rule is None:
            return GuardVerdict(True)
        log.info("dialogue.guard_blocked", extra={"rule": rule})
        return GuardVerdict(False, rule)

    def _first_rule(self, text: str, context: str | None) -> str | None:
        stripped = text.strip() if text else ""
        words = [w.lower() for w in _TOKEN.findall(stripped)]
        if not words:
            return "empty"
        if len(stripped) > self.max_chars or len(words) > self.max_words:
            return "overlong"
        if self._repetitive(stripped, words):
            return "repetitive"
        for rule, pattern in (("dose", _DOSE), ("medication", _MEDICATION), ("diagnosis", _DIAGNOSIS),
                              ("diet_weight", _DIET_WEIGHT), ("promise", _PROMISE), ("human_claim", _HUMAN_CLAIM)):
            if pattern.search(stripped):
                return rule
        if _CONDOLENCE.search(stripped) and not (context and _LOSS_CONTEXT.search(context)):
            return "condolence"
        if _REFUSAL.search(stripped):
            return "refusal"
        if self._unlisted_link(stripped):
            return "link"
        if self._unlisted_number(stripped):
            return "phone"
        if _AVAILABILITY.search(_unaccented(stripped)):
            return "availability"
        if self.safety_flag is not None and self.safety_flag(stripped):
            return "safety_flag"
        return None

    def _repetitive(self, text: str, words: list[str]) -> bool:
        if _CHAR_RUN.search(text):
            return True
        grams = Counter(tuple(words[i:i + self.ngram]) for i in range(len(words) - self.ngram + 1))
        if grams and max(grams.values()) > self.max_ngram_repeats:
            return True
        return len(words) >= 12 and len(set(words)) / len(words) < 0.4

    def _unlisted_link(self, text: str) -> bool:
        for match in _LINK.finditer(text):
            link = _normalise_link(match.group(0))
            if not any(link == ok or link.startswith(ok + "/") for ok in self.allowed_links):
                return True
        return False

    def _unlisted_number(self, text: str) -> bool:
        """Long digit runs are phone numbers; short ones (helpline short codes) count after a contact cue."""
        for match in _NUMBER_RUN.finditer(text):
            digits = _digits(match.group(0))
            before = text[max(0, match.start() - 40):match.start()]
            looks_like_contact = len(digits) >= 7 or (len(digits) >= 3 and _CONTACT_CUE.search(before))
            if looks_like_contact and digits not in self.allowed_numbers:
                return True
        return False
