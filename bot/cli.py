"""Command-line tools under ``flask --app bot ...``.

Each room brings its own command group; this module registers them, plus the
service-level commands: database migrations, the release step, a one-off
``simulate`` and the one-command ``demo``.
"""

from __future__ import annotations

import importlib
import json
import secrets
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from bot import migrate

db_cli = AppGroup("db", help="Database migrations.")

# (module, attribute) of each room's command group.
COMMAND_GROUPS = (
    ("content.cli", "content_cli"),
    ("translation.cli", "langid_cli"),
    ("translation.cli", "translate_cli"),
    ("translation.store_cli", "models_cli"),
    ("bot.safety.cli", "safety_cli"),
    ("bot.erasure_cli", "erasure_cli"),
)


def _services():
    return current_app.extensions["tumaini.services"]


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (safe to run while the previous version still serves)."""
    migrate.upgrade(current_app.config["TUMAINI_CONFIG"].database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(current_app.config["TUMAINI_CONFIG"].database_url, message)


def _refuse_placeholder_regions(library) -> None:
    """Production never goes live with the demo's placeholder helplines or emergency number."""
    from content.golive import region_blockers

    blockers = region_blockers(library)
    for blocker in blockers:
        click.echo(f"not ready: {blocker}", err=True)
    if blockers:
        raise click.ClickException(
            f"{len(blockers)} region problem(s) above: people in crisis would be given placeholder numbers; "
            "fix the region files, then run the release again")


@click.command("release")
@with_appcontext
def release() -> None:
    """The release step: migrate the database, replay recorded erasures, then load the content
    library into it.

    Loading is idempotent and never overwrites a version already in the database,
    so a release cannot undo a review made in the portal; nor can it approve anything: a new
    version the library marks approved is held for review (see ``content load``). Replaying the erasure ledger finds
    nobody in normal running; after a database was restored by hand, it erases again whoever
    the backup brought back. A broken ledger line is reported here, not fatal: the service
    must still start; `flask --app bot erasure replay` fails on it.
    """
    from bot.erasure_cli import replay_ledgers
    from content.db import load_library_into

    migrate.upgrade(current_app.config["TUMAINI_CONFIG"].database_url)
    if _services().erasure_ledger.path.exists() and replay_ledgers():
        click.echo("warning: the erasure ledger has lines that could not be trusted (above): run "
                   "`flask --app bot erasure replay` and find out why", err=True)
    services = _services()
    library = services.library  # validates the library; an invalid one fails the release
    if current_app.config["TUMAINI_CONFIG"].production:
        _refuse_placeholder_regions(library.library)
    with services.db.session() as session:
        result = load_library_into(session, library.library)
    for where in result.held:
        click.echo(f"held for review (in_review, not sent until approved): {where}")
    click.echo(f"database migrated; content: {result.versions_created} new versions, "
               f"{result.versions_kept} kept, {len(result.differing)} differ from the library, "
               f"{len(result.held)} held for review")
    if result.first_load:
        click.echo("first content load into this database: the library's statuses were taken as written")
    elif result.held:
        click.echo("the library marks the texts above approved; they wait for review in the portal (the approved "
                   "versions keep being sent), or an admin loads them: flask --app bot content load --approved-by EMAIL")
    if current_app.config["TUMAINI_CONFIG"].production:
        _check_served_locales(services)


def _check_served_locales(services) -> None:
    """Production serves a locale only once this deployment's own sign-offs are recorded for it.

    Prints the decision per locale and what each refused one is missing; fails when none can
    be served (the workers apply the same decision: content.serving).
    """
    from content.readiness import served_library
    from content.serving import decide

    with services.db.session() as session:
        decisions = decide(session, served_library(session, services.library.library))
    for decision in decisions:
        if decision.served:
            click.echo(f"locale {decision.locale}: served")
        else:
            click.echo(f"locale {decision.locale}: NOT served in production; missing: {decision.missing()}")
    if not any(d.served for d in decisions):
        raise click.ClickException(
            "no locale can be served in production: record the language, clinical and lived-experience "
            "sign-offs for a locale in the portal (Review rounds), then run the release again")


@click.command("simulate")
@click.argument("text")
@click.option("--phone", default="+254700000001", show_default=True)
@click.option("--channel", type=click.Choice(["sms", "whatsapp"]), default="sms", show_default=True)
@click.option("--timeout", default=20.0, show_default=True, help="seconds to wait for replies")
@with_appcontext
def simulate(text: str, phone: str, channel: str, timeout: float) -> None:
    """Send TEXT through the pipeline as a person would, and print the replies.

    Needs a running worker (the demo starts one). The message is stored and
    queued exactly as a Twilio webhook would be.
    """
    from bot.channels.base import InboundForm, address_for
    from bot.ingest import ingest
    from core.tables import InboundMessage, InboundStatus, OutboxMessage

    services = _services()
    form = InboundForm(message_sid="SM" + secrets.token_hex(16), channel=channel, from_number=phone,
                       to_address=address_for(channel, "+15550001000"), body=text, num_media=0)
    result = ingest(services, form)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.db.session() as session:
            message = session.get(InboundMessage, result.message_id)
            if message.status == InboundStatus.DONE:
                rows = session.scalars(select(OutboxMessage).where(OutboxMessage.inbound_id == message.id)
                                       .order_by(OutboxMessage.id)).all()
                for row in rows:
                    body = services.cipher.decrypt(row.body_enc, b"body") if row.body_enc else ""
                    click.echo(json.dumps({"content": row.content_ref, "status": row.status, "text": body},
                                          ensure_ascii=False))
                return
        time.sleep(0.2)
    raise click.ClickException("no reply in time: is a worker running? (python -m workers)")


def init_app(app: Flask) -> None:
    from bot.demo import demo
    from bot.keys import keys_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(release)
    app.cli.add_command(simulate)
    app.cli.add_command(demo)
    for module_name, attribute in COMMAND_GROUPS:
        app.cli.add_command(getattr(importlib.import_module(module_name), attribute))
