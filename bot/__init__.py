"""Tumaini: multilingual SMS and WhatsApp mental-health support.

This package is the web app and the conversation. Its ``__init__`` holds only the app factory,
and imports Flask inside it: the workers import the conversation, safety and channel modules
from here, and a worker process never loads Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.config import Config

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    """The app factory. Config comes from the environment unless a test hands one in."""
    from flask import Flask

    from bot import cli, db, health, logs, portal, webhooks
    from bot.services import Services
    from bot.simulator import views as simulator

    config = config or Config.from_env(**overrides)
    config.validate()  # a config built in code gets the same checks as one from the environment
    logs.configure(config.LOG_LEVEL)
    app = Flask(__name__, instance_path=config.INSTANCE_DIR, instance_relative_config=False)
    app.config.update(config.as_flask())
    services = Services(config)
    app.extensions["tumaini.services"] = services
    db.init_app(app, services.db)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    if config.SIMULATOR_ENABLED:
        app.register_blueprint(simulator.bp)
        simulator.register_standin(app)
    cli.init_app(app)
    portal.init_app(app)
    if config.PROXY_HOPS:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.PROXY_HOPS, x_proto=config.PROXY_HOPS)  # type: ignore[method-assign]
    return app
