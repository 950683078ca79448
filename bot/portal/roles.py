"""Who may do what in the portal.

Permissions are named for what they protect, and each role is a set of them, so a
view asks "may this person close cases?" rather than checking role names. The matrix
follows the people involved: curators write content, reviewers check it, people with
lived experience say whether it speaks to people like them, health workers look after
people. Only health workers (and admins) see conversations, because only they need to.
"""

from __future__ import annotations

ADMIN = "admin"
CURATOR = "curator"
REVIEWER = "reviewer"
HEALTH_WORKER = "health_worker"
LIVED_EXPERIENCE = "lived_experience"  # a lived-experience reviewer (peer, community member)
ROLES = (ADMIN, CURATOR, REVIEWER, HEALTH_WORKER, LIVED_EXPERIENCE)

CONTENT_VIEW = "content.view"
CONTENT_EDIT = "content.edit"  # create, edit, submit for review, retire
CONTENT_REVIEW = "content.review"  # approve or reject someone else's version
CONTENT_COMMENT = "content.comment"
CASES_VIEW = "cases.view"  # escalation queue and conversations (decrypted)
CASES_ACT = "cases.act"  # reply to a person, close a case
REPORTS_VIEW = "reports.view"
AUDIT_EXPORT = "audit.export"
USERS_MANAGE = "users.manage"
FAILURES_VIEW = "failures.view"  # failed messages and jobs, with their reasons (no text, no numbers)
FAILURES_RETRY = "failures.retry"  # put failed work back in line
ROUNDS_VIEW = "rounds.view"  # review rounds, readiness per locale, round workbooks
ROUNDS_MANAGE = "rounds.manage"  # open and close review rounds
SIGNOFF_LANGUAGE = "signoff.language"
SIGNOFF_CLINICAL = "signoff.clinical"
SIGNOFF_LIVED_EXPERIENCE = "signoff.lived_experience"
SIGNOFF = {"language": SIGNOFF_LANGUAGE, "clinical": SIGNOFF_CLINICAL, "lived_experience": SIGNOFF_LIVED_EXPERIENCE}

PERMISSIONS: dict[str, frozenset[str]] = {
    ADMIN: frozenset(
        {
            CONTENT_VIEW,
            CONTENT_EDIT,
            CONTENT_REVIEW,
            CONTENT_COMMENT,
            CASES_VIEW,
            CASES_ACT,
            REPORTS_VIEW,
            AUDIT_EXPORT,
            USERS_MANAGE,
            FAILURES_VIEW,
            FAILURES_RETRY,
            ROUNDS_VIEW,
            ROUNDS_MANAGE,
            SIGNOFF_LANGUAGE,
            SIGNOFF_CLINICAL,
            SIGNOFF_LIVED_EXPERIENCE,
        }
    ),
    CURATOR: frozenset(
        {CONTENT_VIEW, CONTENT_EDIT, CONTENT_REVIEW, CONTENT_COMMENT, REPORTS_VIEW, ROUNDS_VIEW, ROUNDS_MANAGE}
    ),
    REVIEWER: frozenset(
        {CONTENT_VIEW, CONTENT_REVIEW, CONTENT_COMMENT, ROUNDS_VIEW, SIGNOFF_LANGUAGE, SIGNOFF_CLINICAL}
    ),
    HEALTH_WORKER: frozenset({CONTENT_VIEW, CASES_VIEW, CASES_ACT, REPORTS_VIEW}),
    # Comments, signs off and sees the aggregate reports; approves nothing and never sees a conversation.
    LIVED_EXPERIENCE: frozenset({CONTENT_VIEW, CONTENT_COMMENT, ROUNDS_VIEW, REPORTS_VIEW, SIGNOFF_LIVED_EXPERIENCE}),
}


def can(role: str, permission: str) -> bool:
    """Whether a role holds a permission (unknown roles hold none)."""
    return permission in PERMISSIONS.get(role, frozenset())
