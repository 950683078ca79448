"""English inflections: a pattern word written ``kill+`` matches kills, killed, killing.

People rarely write a crisis in the tense a curator thought of: "stopped
existing", "saving up my meds", "he's hurting me", "she overdosed". A curator
writes the base form with a ``+`` and every regular inflection matches, as do
the irregular forms listed below ("took", "taken" for ``take+``).

It works from the message side: each distinct word of a message is read as
the base forms it could be an inflection of, once, so matching stays linear.
Both sides are normalised first, so the rules see squeezed letters ("kill"
is "kil", "stopped" is "stoped") and never need to undo a doubled consonant.

The rules over-generate on purpose ("sheds" may be "shed" or "she"), which
is harmless: a reading only counts when a pattern asks for that base form
with ``+``, and a base form is never shorter than ``MIN_BASE`` letters, so
"is" is never read as "i" nor "us" as "u".
"""

from __future__ import annotations

from bot.safety.normalize import normalise

MIN_BASE = 3

# Irregular past tenses and participles, by base form. Only verbs a crisis
# message might turn on; a regular form needs no entry.
_IRREGULAR = {
    "be": "was were been being am is are",
    "beat": "beaten",
    "bite": "bit bitten",
    "bleed": "bled",
    "break": "broke broken",
    "bring": "brought",
    "burn": "burnt",
    "buy": "bought",
    "catch": "caught",
    "choose": "chose chosen",
    "come": "came",
    "cut": "cut",
    "do": "did done does",
    "drink": "drank drunk",
    "drive": "drove driven",
    "eat": "ate eaten",
    "fall": "fell fallen",
    "feel": "felt",
    "fight": "fought",
    "find": "found",
    "forget": "forgot forgotten",
    "get": "got gotten",
    "give": "gave given",
    "go": "went gone goes",
    "grab": "grabbed",
    "hang": "hung",
    "have": "had has",
    "hear": "heard",
    "hide": "hid hidden",
    "hit": "hit",
    "hold": "held",
    "hurt": "hurt",
    "keep": "kept",
    "leave": "left",
    "lie": "lay lain",
    "lose": "lost",
    "make": "made",
    "mean": "meant",
    "say": "said",
    "see": "saw seen",
    "sell": "sold",
    "send": "sent",
    "shake": "shook shaken",
    "shoot": "shot",
    "shut": "shut",
    "sleep": "slept",
    "slit": "slit",
    "speak": "spoke spoken",
    "stand": "stood",
    "steal": "stole stolen",
    "stick": "stuck",
    "swear": "swore sworn",
    "take": "took taken",
    "teach": "taught",
    "tell": "told",
    "tear": "tore torn",
    "think": "thought",
    "throw": "threw thrown",
    "wake": "woke woken",
    "wear": "wore worn",
    "write": "wrote written",
}


def _norm(word: str) -> str:
    return normalise(word).strip()


IRREGULAR: dict[str, tuple[str, ...]] = {}
for _base, _forms in _IRREGULAR.items():
    for _form in _forms.split():
        IRREGULAR[_norm(_form)] = (*IRREGULAR.get(_norm(_form), ()), _norm(_base))


IRREGULAR_BASES = frozenset(base for found in IRREGULAR.values() for base in found)


def base_form(word: str) -> str:
    """The normalised base form a pattern names with ``kill+``."""
    return _norm(word)


def bases(word: str) -> tuple[str, ...]:
    """Every base form a normalised message word could inflect, itself included.

    ``kils`` (kills), ``kiled`` (killed), ``kiling`` (killing) -> ``kil``;
    ``dying``, ``died``, ``dies`` -> ``die``; ``tried`` -> ``try``;
    ``saving`` -> ``save``; ``took`` -> ``take``.
    """
    out = [word, *IRREGULAR.get(word, ())]

    def add(candidate: str) -> None:
        if len(candidate) >= MIN_BASE:
            out.append(candidate)

    if word.endswith("ies"):
        add(word[:-3] + "y")
        add(word[:-1])  # dies -> die, lies -> lie
    elif word.endswith("es"):
        add(word[:-2])  # wishes -> wish
        add(word[:-1])  # hides -> hide
    elif word.endswith("s") and not word.endswith("ss"):
        add(word[:-1])
    if word.endswith("ied"):
        add(word[:-3] + "y")  # tried -> try
        add(word[:-1])  # tied -> tie
    elif word.endswith("ed"):
        add(word[:-2])  # kiled -> kil, stoped -> stop
        add(word[:-1])  # saved -> save, died -> die
    if word.endswith("ying"):
        add(word[:-4] + "ie")  # dying -> die
    if word.endswith("ing"):
        add(word[:-3])  # kiling -> kil, trying -> try
        add(word[:-3] + "e")  # saving -> save
    if word.endswith("in") and len(word) > 4:
        add(word[:-2])  # SMS "killin", "cuttin"
        add(word[:-2] + "e")  # "takin"
    return tuple(dict.fromkeys(out))
