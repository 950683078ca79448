"""Equal standing: every starter locale is demonstration content, served by the demo; production
serves a locale only once this deployment's own sign-offs are recorded for it, English included."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import create_app
from bot.cli import release
from bot.conversation import Profile, Turn
from content.db import ContentVersion
from content.readiness import served_library
from content.review import SIGNOFF_KINDS, SignOff, text_digest
from content.serving import candidate_locales, decide
from tests.conftest import make_config

FULL = {"en", "sw", "es", "fr", "hi", "ar"}
LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"


def test_every_starter_locale_has_the_same_standing(starter_content) -> None:
    library = starter_content.library
    assert FULL <= set(candidate_locales(library))
    for locale in FULL:
        texts = [m.text(locale, approved_only=False) for m in library.messages]
        statuses = {t.status.value for t in texts if t is not None}
        assert statuses == {"approved"}, locale
        provenance = {(t.provenance.language_reviewer or "").split(":")[0] for t in texts if t is not None}
        assert provenance == {"pending"}, locale  # nobody signed the starter text, in any language


def deployment_library(target: Path) -> Path:
    """The starter library as a deployment holds it: its region's services verified (the release
    refuses placeholder numbers in production), every text still as the starter ships it."""
    shutil.copytree(LIBRARY, target)
    region = target / "regions" / "demo.yaml"
    region.write_text(region.read_text(encoding="utf-8").replace("placeholder: true", "placeholder: false"),
                      encoding="utf-8")
    return target


@pytest.fixture()
def production(tmp_path: Path, database_url: str, redis_url: str):
    config = make_config(tmp_path, ENV="production", DATABASE_URL=database_url, REDIS_URL=redis_url,
                         SIMULATOR_ENABLED=False, TWILIO_SMS_FROM="+15550001000",
                         CONTENT_DIR=str(deployment_library(tmp_path / "library")))
    app = create_app(config)
    yield app
    app.extensions["tumaini.services"].close()


def sign_off(app, locale: str) -> int:
    """Record the three sign-offs on every text of ``locale``, as its reviewers would in the portal."""
    services = app.extensions["tumaini.services"]
    with services.db.session() as session:
        versions = session.scalars(select(ContentVersion).where(ContentVersion.locale == locale)).all()
        for version in versions:
            for kind in SIGNOFF_KINDS:
                session.add(SignOff(version_id=version.id, kind=kind, signer=f"{locale} {kind} reviewers",
                                    text_digest=text_digest(version.sms, version.whatsapp)))
        return len(versions)


def test_production_release_refuses_every_unsigned_locale_english_too_and_names_what_is_missing(production):
    result = production.test_cli_runner().invoke(release)
    assert result.exit_code != 0
    for locale in sorted(FULL):
        line = next(x for x in result.output.splitlines() if x.startswith(f"locale {locale}:"))
        assert "NOT served" in line
        assert "language sign-off on" in line and "clinical sign-off on" in line
        assert "lived-experience sign-off on" in line
    assert "no locale can be served in production" in result.output


def test_a_signed_off_locale_is_served_in_production_and_english_is_not(production):
    runner = production.test_cli_runner()
    runner.invoke(release)  # loads the library into the database
    assert sign_off(production, "sw") > 150
    result = runner.invoke(release)
    assert result.exit_code == 0, result.output
    assert "locale sw: served" in result.output and "locale en: NOT served" in result.output

    services = production.extensions["tumaini.services"]
    with services.db.session() as session:
        decisions = {d.locale: d for d in decide(session, served_library(session, services.library.library))}
    assert decisions["sw"].served and not decisions["en"].served

    from workers import runtime

    engine = runtime.install(services).engine()
    assert engine.enabled_locales() == ["sw"]
    outcome = engine.step({}, Turn("Hi", "sms"), Profile())  # an English greeting still gets Swahili
    assert [(r.item_id, r.locale) for r in outcome.replies] == [("onboarding.welcome", "sw"),
                                                                ("onboarding.consent", "sw")]
    outcome = engine.step({"flow": "menu"}, Turn("HELP", "sms"), Profile(locale="en", consented=True))
    assert outcome.replies[0].locale == "sw"  # a stored English choice is not served either
