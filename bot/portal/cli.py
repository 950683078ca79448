"""``flask --app bot users ...``: staff accounts from the command line.

This is how the first admin is made (the portal has no sign-up page); later accounts can
be added here or by an admin in the portal. Passwords are prompted for (hidden, twice)
or read from stdin with ``--password-stdin`` for scripts, never taken as an argument,
which would leave them in shell history and process lists.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from bot.portal import accounts
from bot.portal.errors import AccountError
from bot.portal.models import User
from bot.portal.roles import ROLES

users_cli = AppGroup("users", help="Portal staff accounts.")


def _database():
    return current_app.extensions["tumaini.services"].db


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="How the person is shown to colleagues.")
@click.option("--locale", default="en", show_default=True, help="The portal's language for them.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create(email: str, role: str, name: str, locale: str, password_stdin: bool) -> None:
    """Create an account (the first admin is made this way)."""
    password = _password(password_stdin)
    try:
        with _database().session() as session:
            user = accounts.create_user(session, email, password, role, name=name, locale=locale)
            user_id, saved_email = user.id, user.email
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {saved_email} (id {user_id})")


@users_cli.command("list")
def list_users() -> None:
    """Every account: id, email, role, whether active, last sign-in."""
    with _database().session() as session:
        for user in session.scalars(select(User).order_by(User.id)):
            last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"
            state = "active" if user.active else "inactive"
            click.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}\t{last}")


def _find(session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def set_password(email: str, password_stdin: bool) -> None:
    """Set a new password; the person is signed out everywhere."""
    password = _password(password_stdin)
    try:
        with _database().session() as session:
            accounts.set_password(session, _find(session, email), password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password changed for {email}")


@users_cli.command("deactivate")
@click.option("--email", required=True)
def deactivate(email: str) -> None:
    """Block an account and end its sessions (records keep its id)."""
    with _database().session() as session:
        accounts.deactivate(_find(session, email))
    click.echo(f"deactivated {email}")


@users_cli.command("reset-2fa")
@click.option("--email", required=True)
def reset_two_factor(email: str) -> None:
    """Forget a lost authenticator: the person enrols a new one at their next sign-in."""
    from bot.portal import twofactor

    with _database().session() as session:
        twofactor.reset(_find(session, email))
    click.echo(f"two-factor reset for {email}; they are signed out and enrol again at the next sign-in")
