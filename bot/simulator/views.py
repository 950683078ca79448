"""The phone simulator: chat with the bot as an SMS or WhatsApp user.

The page signs each message exactly as Twilio would and posts it to
``/twilio/messages`` itself, so a simulated message takes the real pipeline:
signature check, storage, queue, worker, outbox, and the real ``twilio`` client,
which in the demo talks to the stand-in API mounted below. Demo and staff only:
it is off unless SIMULATOR_ENABLED is set, the configuration refuses it in
production and with any TWILIO_API_BASE but a loopback stand-in, and it asks for
a staff sign-in (and the portal's CSRF token) unless the whole deployment is on
this machine, as in the demo.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for
from twilio.request_validator import RequestValidator

from bot.channels.base import SMS, WHATSAPP, address_for
from bot.simulator.twilio_api import RedisStore, make_blueprint
from core.sms import segment_info

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")
SIM_SMS_NUMBER = "+15550001000"


def _services() -> Any:
    return current_app.extensions["tumaini.services"]


def _our_address(channel: str) -> str:
    config = current_app.config
    if channel == WHATSAPP:
        return address_for(WHATSAPP, (config["TWILIO_WHATSAPP_FROM"] or SIM_SMS_NUMBER).removeprefix("whatsapp:"))
    return config["TWILIO_SMS_FROM"] or SIM_SMS_NUMBER


@bp.before_request
def staff_only() -> Any:
    """Outside a fully local demo, only a signed-in staff member may use the simulator."""
    config = current_app.config["TUMAINI_CONFIG"]
    if config.fully_local:
        return None
    from bot.portal import security

    if security.signed_in_user() is None:
        if request.method == "GET" and request.endpoint == "simulator.page":
            return redirect(url_for("portal.auth.login", next="/portal/"))
        return jsonify(error="sign in to the portal first"), 401
    if request.method not in security.SAFE_METHODS:
        expected = session.get(security.CSRF_FIELD, "")
        sent = request.headers.get(security.CSRF_HEADER, "")
        if not expected or not secrets.compare_digest(str(sent), str(expected)):
            return jsonify(error="missing CSRF token"), 403
    return None


@bp.get("/")
def page() -> str:
    from bot.portal import security

    return render_template("simulator.html", csrf_token=security.csrf_token())


@bp.post("/sign")
def sign() -> Response | tuple[Response, int]:
    """Build and sign the form Twilio would send for this simulated message."""
    data = request.get_json(silent=True) or {}
    phone = str(data.get("phone", "")).strip()
    channel = WHATSAPP if data.get("channel") == WHATSAPP else SMS
    text = str(data.get("text", ""))
    if not phone.startswith("+") or not phone[1:].isdigit():
        return jsonify(error="phone must look like +254700000001"), 400
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"],
        "From": address_for(channel, phone),
        "To": _our_address(channel),
        "Body": text,
        "NumMedia": "0",
    }
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/twilio/messages"
    signature = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    return jsonify(form=form, signature=signature, segments=segment_info(text).__dict__)


@bp.get("/messages")
def messages() -> Response:
    """What the stand-in API has received for this phone (the bot's replies)."""
    phone = request.args.get("phone", "")
    channel = WHATSAPP if request.args.get("channel") == WHATSAPP else SMS
    services = _services()
    store = RedisStore(lambda: services.redis)
    out = []
    for m in store.for_address(address_for(channel, phone)):
        info = segment_info(m.body)
        out.append({"sid": m.sid, "body": m.body, "date": m.date_created,
                    "segments": info.segments, "encoding": info.encoding})
    return jsonify(messages=out)


def register_standin(app: Any) -> None:
    """Mount the Twilio stand-in at /simulator/twilio for the demo's worker to call."""
    services = app.extensions["tumaini.services"]
    store = RedisStore(lambda: services.redis)
    app.register_blueprint(make_blueprint(store, app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
                                          name="simulator_twilio", url_prefix="/simulator/twilio"))
