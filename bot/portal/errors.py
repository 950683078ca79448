"""Named exceptions of the portal. Each carries a message meant for the person using it."""

from __future__ import annotations


class PortalError(Exception):
    """Base class: something the user asked for cannot be done, and why."""


class AccountError(PortalError):
    """An account could not be created or changed (duplicate email, weak password...)."""


class UnknownRole(AccountError):
    """The role is not one of admin, curator, reviewer, health_worker."""


class LoginRefused(PortalError):
    """Wrong email or password, or an inactive account (deliberately not told apart)."""


class TooManyAttempts(PortalError):
    """Too many failed logins for this account from this address; try again later."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CsrfFailed(PortalError):
    """A form arrived without the token of this session (forged, or the page is stale)."""


class NotPermitted(PortalError):
    """The user's role does not allow this action."""


class WorkflowError(PortalError):
    """A content review step that is not possible from the version's current state."""


class OwnApproval(WorkflowError):
    """Nobody approves or rejects a version they wrote or edited themselves."""


class ContentProblems(WorkflowError):
    """The text fails validation, so it cannot go to review; ``problems`` says what to fix."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class CaseError(PortalError):
    """A case action that is not possible (closed case, opted-out person...)."""


class RotaError(PortalError):
    """A rota shift or a staff number that cannot be saved, and why."""
