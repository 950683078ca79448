"""The security room reuses the portal's accounts, sign-in and cases."""

from tests.portal.conftest import (  # noqa: F401
    PASSWORD,
    Browser,
    browser,
    make_case,
    make_user,
    portal_app,
    portal_client,
    sign_in,
)
