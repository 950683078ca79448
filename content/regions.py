"""Reading region files and the library settings file."""

from __future__ import annotations

from content.schema import Emergency, Helpline, Pathway, Region, Settings
from content.yamlnodes import Node


def read_settings(document: Node) -> Settings:
    """Library-wide settings; every field has a default so the file may be short."""
    top = document.mapping(
        {
            "kind",
            "source_locale",
            "default_locale",
            "default_region",
            "sms_segment_budget",
            "placeholder_examples",
            "pathways",
        }
    )
    return Settings(
        source_locale=top["source_locale"].text() if "source_locale" in top else "en",
        default_locale=top["default_locale"].text() if "default_locale" in top else "en",
        default_region=top["default_region"].optional_text() if "default_region" in top else None,
        sms_segment_budget=top["sms_segment_budget"].integer() if "sms_segment_budget" in top else 3,
        placeholder_examples=tuple((k, v.text()) for k, v in top["placeholder_examples"].mapping().items())
        if "placeholder_examples" in top
        else (),
        pathways=tuple(_pathway(category, node) for category, node in top["pathways"].mapping().items())
        if "pathways" in top
        else (),
    )


def _pathway(category: str, node: Node) -> Pathway:
    """One category's pathway: ``reply`` and ``followup`` default to ``crisis.<category>[.followup]``."""
    p = node.mapping({"severity", "services", "reply", "followup", "steps"}, ("severity", "services"))
    return Pathway(
        category=category,
        severity=p["severity"].text(),
        services=p["services"].texts(),
        reply=p["reply"].text() if "reply" in p else f"crisis.{category}",
        followup=p["followup"].text() if "followup" in p else f"crisis.{category}.followup",
        steps=p["steps"].texts() if "steps" in p else (),
    )


def read_region(document: Node, stem: str) -> Region:
    """A region; its id defaults to the file name so regions/kenya.yaml is region 'kenya'."""
    top = document.mapping(
        {
            "kind",
            "id",
            "name",
            "country_codes",
            "time_zone",
            "default_locale",
            "locales",
            "required_locales",
            "emergency",
            "helplines",
            "allow",
        },
        ("name", "time_zone", "default_locale", "locales", "helplines"),
    )
    helplines = []
    for node in top["helplines"].items():
        h = node.mapping(
            {"name", "number", "hours", "placeholder", "description", "serves", "opening_hours"}, ("name", "number")
        )
        helplines.append(
            Helpline(
                h["name"].text(),
                h["number"].text(),
                h["hours"].text() if "hours" in h else "",
                h["placeholder"].boolean() if "placeholder" in h else False,
                h["description"].text() if "description" in h else "",
                h["serves"].texts() if "serves" in h else ("crisis",),
                h["opening_hours"].text() if "opening_hours" in h else "",
            )
        )
    emergency = None
    if "emergency" in top:
        e = top["emergency"].mapping({"name", "number", "placeholder"}, ("number",))
        emergency = Emergency(
            e["number"].text(),
            e["name"].text() if "name" in e else "",
            e["placeholder"].boolean() if "placeholder" in e else False,
        )
    allow = top["allow"].mapping({"numbers", "domains"}) if "allow" in top else {}
    return Region(
        id=top["id"].text() if "id" in top else stem,
        name=top["name"].text(),
        country_codes=top["country_codes"].texts() if "country_codes" in top else (),
        time_zone=top["time_zone"].text(),
        default_locale=top["default_locale"].text(),
        locales=top["locales"].texts(),
        required_locales=top["required_locales"].texts() if "required_locales" in top else (),
        helplines=tuple(helplines),
        allowed_numbers=allow["numbers"].texts() if "numbers" in allow else (),
        allowed_domains=allow["domains"].texts() if "domains" in allow else (),
        origin=document.origin,
        emergency=emergency,
    )
