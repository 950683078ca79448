"""Reading content: browse and search, one item across locales, one version, history and diffs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, or_, select

from bot.portal import machine, rounds, workflow
from bot.portal.checks import problems_for, sms_preview
from bot.portal.diffing import word_diff
from bot.portal.models import User
from bot.portal.roles import CONTENT_VIEW
from bot.portal.web import db, require, services
from content.db import ContentItem, ContentVersion
from content.review import SIGNOFF_KINDS
from content.schema import Status

bp = Blueprint("content", __name__, url_prefix="/content")
PAGE_SIZE = 20  # a page is about 18 KB of HTML, under 3 KB gzip-compressed: half a second at 50 kbps
STATUSES = tuple(s.value for s in Status)


def base_library() -> Any:
    """The YAML library's structures, regions and settings (loaded once per process)."""
    return services().library.library


def user_names(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.display_name for u in db().scalars(select(User).where(User.id.in_(wanted)))}


def get_item(item_id: str) -> ContentItem:
    item = db().get(ContentItem, item_id)
    if item is None:
        abort(404)
    return item


def get_version(item_id: str, locale: str, number: int) -> ContentVersion:
    version = (
        db()
        .scalars(
            select(ContentVersion).where(
                ContentVersion.item_id == item_id, ContentVersion.locale == locale, ContentVersion.version == number
            )
        )
        .first()
    )
    if version is None:
        abort(404)
    return version


@bp.get("/")
@require(CONTENT_VIEW)
def browse() -> Any:
    q = request.args.get("q", "").strip()
    locale = request.args.get("locale", "").strip()
    status = request.args.get("status", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = select(ContentItem).order_by(ContentItem.id)
    matching = select(ContentVersion.item_id)
    filtered = False
    if q:
        matching = matching.where(
            or_(
                func.lower(ContentVersion.sms).contains(q.lower(), autoescape=True),
                func.lower(ContentVersion.item_id).contains(q.lower(), autoescape=True),
            )
        )
        filtered = True
    if locale:
        matching, filtered = matching.where(ContentVersion.locale == locale), True
    if status in STATUSES:
        matching, filtered = matching.where(ContentVersion.status == status), True
    if filtered:
        query = query.where(ContentItem.id.in_(matching))
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db().scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    newest: dict[tuple[str, str], ContentVersion] = {}
    if items:
        rows = db().scalars(
            select(ContentVersion)
            .where(ContentVersion.item_id.in_([i.id for i in items]))
            .order_by(ContentVersion.version)
        )
        for row in rows:
            newest[(row.item_id, row.locale)] = row
    locales = sorted(db().scalars(select(ContentVersion.locale).distinct()))
    return render_template(
        "portal/content_list.html",
        items=items,
        newest=newest,
        locales=locales,
        statuses=STATUSES,
        q=q,
        locale=locale,
        status=status,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        total=total,
    )


@bp.get("/<item_id>")
@require(CONTENT_VIEW)
def item(item_id: str) -> Any:
    found = get_item(item_id)
    rows = list(
        db().scalars(
            select(ContentVersion)
            .where(ContentVersion.item_id == item_id)
            .order_by(ContentVersion.locale, ContentVersion.version.desc())
        )
    )
    by_locale: dict[str, list[ContentVersion]] = {}
    for row in rows:
        by_locale.setdefault(row.locale, []).append(row)
    order = sorted(by_locale, key=lambda loc: (loc != found.source_locale, loc))
    return render_template("portal/content_item.html", item=found, by_locale=by_locale, order=order)


@bp.get("/<item_id>/<locale>/<int:number>")
@require(CONTENT_VIEW)
def version(item_id: str, locale: str, number: int) -> Any:
    found = get_item(item_id)
    shown = get_version(item_id, locale, number)
    source = None
    if locale != found.source_locale:
        source = (
            get_version(item_id, found.source_locale, shown.source_version)
            if shown.source_version
            else workflow.newest(db(), item_id, found.source_locale)
        )
    back_possible = machine.wanted(locale, found.source_locale)
    back = machine.back(shown.sms, found.source_locale, locale) if back_possible else None
    problems = problems_for(db(), base_library(), shown) if shown.status != Status.RETIRED.value else []
    notes = workflow.comments(db(), shown.id)
    signed = rounds.signoffs_for(db(), [shown.id])[shown.id]
    names = user_names(
        {
            shown.created_by,
            shown.reviewed_by,
            *(shown.editors or []),
            *(c.author_id for c in notes),
            *(s.recorded_by for s in signed),
        }
    )
    return render_template(
        "portal/content_version.html",
        item=found,
        version=shown,
        source=source,
        back=back,
        back_possible=back_possible,
        problems=problems,
        comments=rounds.threads(notes),
        signoffs=[(s, rounds.still_valid(s, shown)) for s in signed],
        signoff_kinds=SIGNOFF_KINDS,
        current_round=rounds.open_round_for(db(), locale),
        names=names,
        preview=sms_preview(shown.sms),
        whatsapp_preview=sms_preview(shown.whatsapp) if shown.whatsapp else None,
    )


@bp.get("/<item_id>/<locale>/history")
@require(CONTENT_VIEW)
def history(item_id: str, locale: str) -> Any:
    found = get_item(item_id)
    rows = workflow.versions(db(), item_id, locale)
    if not rows:
        abort(404)
    names = user_names({r.created_by for r in rows} | {r.reviewed_by for r in rows})
    return render_template("portal/content_history.html", item=found, locale=locale, versions=rows, names=names)


@bp.get("/<item_id>/<locale>/diff")
@require(CONTENT_VIEW)
def diff(item_id: str, locale: str) -> Any:
    found = get_item(item_id)
    rows = workflow.versions(db(), item_id, locale)
    if not rows:
        abort(404)
    numbers = [r.version for r in rows]
    new_number = request.args.get("b", numbers[0], type=int)
    old_number = request.args.get("a", numbers[1] if len(numbers) > 1 else numbers[0], type=int)
    old, new = get_version(item_id, locale, old_number), get_version(item_id, locale, new_number)
    return render_template(
        "portal/content_diff.html",
        item=found,
        locale=locale,
        old=old,
        new=new,
        numbers=numbers,
        sms_diff=word_diff(old.sms, new.sms),
        whatsapp_diff=word_diff(old.whatsapp or "", new.whatsapp or ""),
    )
