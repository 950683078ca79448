"""A content library for a deployment with three regions and three approved languages.

The shipped library has one region; these tests need more, so they build it: the
starter library with Spanish left as a draft (three languages), two more regions,
and a few items left untranslated so the fallback order shows (the demo region then
requires only English, so the missing texts are allowed).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import yaml

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"

# demo (shipped) lists KE, TZ and UG; north shares TZ with it; south alone lists ZA.
REGIONS = {
    "north.yaml": """
        kind: region
        id: north
        name: North Coast
        country_codes: [TZ]
        time_zone: Africa/Dar_es_Salaam
        default_locale: fr
        locales: [en, fr, sw]
        helplines:
          - name: NORTH LINE
            number: "+1 202 555 0111"
            hours: 24 hours
            placeholder: true
    """,
    "south.yaml": """
        kind: region
        id: south
        name: South Valley
        country_codes: [ZA]
        time_zone: Africa/Johannesburg
        default_locale: en
        locales: [en, sw]
        helplines:
          - name: SOUTH LINE
            number: "+1 202 555 0122"
            placeholder: true
    """,
}
# Items with no text in a locale, so a reply has to fall back: BOT in Swahili, DATA in French.
UNTRANSLATED = {"sw": ("keywords.bot",), "fr": ("keywords.data",)}


def build(target: Path) -> Path:
    """Write the regional library under ``target`` and return its path."""
    shutil.copytree(LIBRARY, target)
    for path in (target / "es").glob("*.yaml"):
        if yaml.safe_load(path.read_text(encoding="utf-8")).get("kind") in {"crisis_lexicon", "keywords"}:
            continue
        path.write_text(path.read_text(encoding="utf-8").replace("status: approved", "status: draft"),
                        encoding="utf-8")
    demo = target / "regions" / "demo.yaml"
    demo.write_text(re.sub(r"(?m)^required_locales: .*$", "required_locales: [en]", demo.read_text(encoding="utf-8")),
                    encoding="utf-8")
    for locale, item_ids in UNTRANSLATED.items():
        path = target / locale / "messages.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item_id in item_ids:
            del data["messages"][item_id]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for name, text in REGIONS.items():
        (target / "regions" / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return target
