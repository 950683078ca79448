"""``flask --app bot erasure replay``: after a restore, erase again whoever the ledger names.

deploy/restore.sh runs it on the restored database, and the release step runs it on every
start, so a database restored by hand is caught too. It prints counts and line numbers,
never a contact key, a number or a message.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

erasure_cli = AppGroup("erasure", help="Erasures (DELETE) and the ledger that outlives backups.")


def replay_ledgers(paths: tuple[Path, ...] = ()) -> int:
    """Replay, print the report; return how many ledger lines could not be trusted.

    A named ledger that does not exist is an error; the default one may be absent (no erasure
    has been recorded on this machine yet), which is said.
    """
    from core.erasure_ledger import ErasureLedger, ledger_key
    from workers.erasure_replay import replay

    services = current_app.extensions["tumaini.services"]
    if paths:
        key = ledger_key(services.config.HMAC_KEY)
        ledgers = [ErasureLedger(path, key) for path in paths]
    else:
        ledgers = [services.erasure_ledger]
    report = replay(services, ledgers)
    for ledger in report.ledgers:
        if not ledger.found:
            if paths:
                raise click.ClickException(f"no erasure ledger at {ledger.path}")
            click.echo(f"warning: no erasure ledger at {ledger.path}: no erasure was recorded here; if this "
                       "server had erasures, find the ledger (ERASURE_LEDGER) and run this again with --ledger",
                       err=True)
            continue
        click.echo(f"ledger {ledger.path}: {ledger.entries} erasure(s) recorded")
        for problem in ledger.problems:
            click.echo(f"ledger {ledger.path} line {problem.line}: {problem.reason}; not replayed", err=True)
    click.echo(f"erasures replayed: {report.people} people in the ledger; {report.erased} erased again, "
               f"{report.gone} already gone, {report.kept} kept (wrote again after their erasure), "
               f"{report.stray_messages} stored message(s) erased")
    return report.problems


@erasure_cli.command("replay")
@click.option("--ledger", "ledgers", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="a ledger file; repeat for each machine's (default: ERASURE_LEDGER, or "
                   "erasure-ledger.jsonl in INSTANCE_DIR)")
def replay_command(ledgers: tuple[Path, ...]) -> None:
    """Erase again everyone the erasure ledger names who is back in the database.

    Run it after restoring a backup, before the service starts (deploy/restore.sh does).
    Safe to run any number of times. Lines that fail their integrity check are named and
    never acted on, and the command then fails.
    """
    problems = replay_ledgers(ledgers)
    if problems:
        raise click.ClickException(
            f"{problems} ledger line(s) could not be trusted and were not replayed (see above). Every sound "
            "line was. An altered line may be an attempt to erase someone who never asked, or to hide an "
            "erasure: find out which before the service starts")
