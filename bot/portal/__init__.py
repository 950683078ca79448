"""The health workers' portal: content review, escalations, conversations and reports.

Server-rendered pages that work on low-end phones over slow networks: no front-end
framework, no external assets, one small stylesheet and one small script that only
improves what already works without it. ``init_app(app)`` mounts it at /portal and adds
the ``users`` command group.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the portal, its translations and its CLI on the app."""
    from flask import request

    from bot.portal import delivery, i18n, imports, security
    from bot.portal.blueprint import portal
    from bot.portal.cli import users_cli
    from content.cli import IMPORT_APPROVER

    i18n.init_app(app)
    app.extensions[IMPORT_APPROVER] = imports.approver
    app.jinja_env.globals["static_version"] = delivery.static_version
    app.register_blueprint(portal)
    app.cli.add_command(users_cli)

    @app.after_request
    def _portal_headers(response):  # type: ignore[no-untyped-def]
        if request.path == portal.url_prefix or request.path.startswith(f"{portal.url_prefix}/"):
            security.add_security_headers(response)
            if request.endpoint and request.endpoint.endswith(".static"):
                delivery.cache_static(request, response)
            response = delivery.compress(request, response)
        return response
