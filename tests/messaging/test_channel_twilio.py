"""The Twilio channel, table by table, in the manner of nyaruka/courier's handlers/twiml tests.

Inbound forms go through the signed webhook and are checked as stored (decrypted);
statuses through the status webhook onto a real outbox row; send errors through the
real twilio client against the local stand-in, each checked against the exact request
the stand-in received. Cases named "courier: ..." are courier's own Twilio cases, with
courier's form data, replayed against Tumaini.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from bot.channels.twilio import decode_possible_base64, parse_inbound
from bot.simulator.twilio_api import Scripted
from core.exceptions import BadRequest
from core.outbox import body_digest, queue_next_for
from core.queue import SEND, send_job_id
from core.tables import Contact, InboundMessage, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import OUR_SMS, PUBLIC_BASE_URL, drain, post_signed, sign

# -- courier's form data (handlers/twiml/handlers_test.go), unchanged ------------------------------
_COMMON = (
    "ToCountry=US&ToState=District+Of+Columbia&SmsMessageSid=SMe287d7109a5a925f182f0e07fe5b223b&ToCity="
    "&FromZip=01022&SmsSid=SMe287d7109a5a925f182f0e07fe5b223b&FromState=MA&SmsStatus=received"
    "&FromCity=CHICOPEE&FromCountry=US&ToZip=&NumSegments=1&MessageSid=SMe287d7109a5a925f182f0e07fe5b223b"
    "&AccountSid=acctid&ApiVersion=2010-04-01"
)
RECEIVE_VALID = _COMMON + "&NumMedia=0&Body=Msg&To=%2B12028831111&From=%2B14133881111"
RECEIVE_BUTTON_IGNORED = _COMMON + "&NumMedia=0&Body=Msg&ButtonText=Confirm&To=%2B12028831111&From=%2B14133881111"
RECEIVE_MEDIA = _COMMON + "&NumMedia=2&To=%2B12028831111&From=%2B14133881111&MediaUrl0=cat.jpg&MediaUrl1=dog.jpg"
RECEIVE_MEDIA_WITH_MSG = (
    _COMMON + "&NumMedia=2&Body=Msg&To=%2B12028831111&From=%2B14133881111&MediaUrl0=cat.jpg&MediaUrl1=dog.jpg"
)
RECEIVE_BASE64 = (
    _COMMON + "&NumMedia=0&Body=QmFubm9uIEV4cGxhaW5zIFRoZSBXb3JsZCAuLi4K4oCcVGhlIENhbXAgb2YgdGhlIFNhaW50c"
    "%2BKA&To=%2B12028831111&From=%2B14133881111"
)
TMS_RECEIVE_EXTRA = (
    "ToCountry=US&ToState=&SmsMessageSid=SMbbf29aeb9d380ce2a1c0ae4635ff9dab&NumMedia=0&ToCity="
    "&FromZip=27609&SmsSid=SMbbf29aeb9d380ce2a1c0ae4635ff9dab&FromState=NC&SmsStatus=received"
    "&FromCity=RALEIGH&Body=John+Cruz&FromCountry=US&To=384387&ToZip=&NumSegments=1"
    "&MessageSid=SMbbf29aeb9d380ce2a1c0ae4635ff9dab&AccountSid=acctid&From=%2B14133881111"
    "&ApiVersion=2010-04-01"
)
WA_RECEIVE_VALID = _COMMON + "&NumMedia=0&Body=Msg&To=whatsapp:%2B12028831111&From=whatsapp:%2B14133881111"
WA_RECEIVE_BSUID_VALID = WA_RECEIVE_VALID + "&ExternalUserId=whatsapp:US.1234"
WA_RECEIVE_FROM_BSUID = (
    _COMMON + "&NumMedia=0&Body=Msg&To=whatsapp:%2B12028831111&From=whatsapp:US.1234&ExternalUserId=whatsapp:US.1234"
)
WA_RECEIVE_BSUID_INVALID = WA_RECEIVE_VALID + "&ExternalUserId=whatsapp:foo_bar"
WA_RECEIVE_BUTTON = (
    _COMMON + "&NumMedia=0&Body=Msg&ButtonText=Confirm&To=whatsapp:%2B12028831111&From=whatsapp:%2B14133881111"
)
WA_RECEIVE_PREFIXLESS = (
    "ToCountry=US&ToState=CA&SmsMessageSid=SM681a1f26d9ec591431ce406e8f399525&NumMedia=0&ToCity="
    "&FromZip=60625&SmsSid=SM681a1f26d9ec591431ce406e8f399525&FromState=IL&SmsStatus=received"
    "&FromCity=CHICAGO&Body=Msg&FromCountry=US&To=%2B12028831111&ToZip=&NumSegments=1"
    "&MessageSid=SM681a1f26d9ec591431ce406e8f399525&AccountSid=acctid&From=%2B14133881111"
    "&ApiVersion=2010-04-01"
)
# -- forms courier does not have ----------------------------------------------------------------------
WA_BUTTON_PAYLOAD_ONLY = (
    _COMMON + "&NumMedia=0&Body=&ButtonPayload=MENU&To=whatsapp:%2B12028831111&From=whatsapp:%2B14133881111"
)
WA_LOCATION = (
    _COMMON + "&NumMedia=0&Body=&Latitude=-1.2921&Longitude=36.8219&Address=Kenyatta+Ave"
    "&Label=Home&To=whatsapp:%2B12028831111&From=whatsapp:%2B14133881111"
)
HINDI = "मैं बहुत परेशान हूँ और मुझे नहीं पता कि किससे बात करूँ, कृपया मेरी मदद करो"
RECEIVE_BASE64_HINDI = _COMMON + "&NumMedia=0&To=%2B12028831111&From=%2B14133881111"
SMS_FROM_USER_ID = _COMMON + "&NumMedia=0&Body=Msg&To=%2B12028831111&From=US.1234"
WA_FROM_NOTHING_VALID = (
    _COMMON + "&NumMedia=0&Body=Msg&To=whatsapp:%2B12028831111&From=whatsapp:foo_bar&ExternalUserId=whatsapp:foo_bar"
)


def _form(data: str, **extra: str) -> dict[str, str]:
    form = dict(parse_qsl(data, keep_blank_values=True))
    form.update(extra)
    return form


@dataclass(frozen=True)
class Inbound:
    label: str
    data: dict[str, str]
    status: int = 200
    text: str | None = None  # the stored body, decrypted
    address: str | None = None  # the person's identity (HMAC-keyed and encrypted)
    channel: str = "sms"
    media: int = 0
    sid: str = "SMe287d7109a5a925f182f0e07fe5b223b"
    error: str = ""


INBOUND = [
    Inbound("courier: Receive Valid", _form(RECEIVE_VALID), text="Msg", address="+14133881111"),
    Inbound(
        "courier: Receive Button Ignored (SMS has no buttons)",
        _form(RECEIVE_BUTTON_IGNORED),
        text="Msg",
        address="+14133881111",
    ),
    Inbound("courier: Receive No Params", {"AccountSid": "acctid"}, status=400, error="MessageSid is missing"),
    Inbound("courier: Receive Media", _form(RECEIVE_MEDIA), text="", address="+14133881111", media=2),
    Inbound(
        "courier: Receive Media With Msg", _form(RECEIVE_MEDIA_WITH_MSG), text="Msg", address="+14133881111", media=2
    ),
    Inbound(
        "courier: Receive Base64",
        _form(RECEIVE_BASE64),
        text="Bannon Explains The World ...\n\u201cThe Camp of the Saints",
        address="+14133881111",
    ),
    Inbound(
        "courier: Receive TMS extra (short code To)",
        _form(TMS_RECEIVE_EXTRA),
        text="John Cruz",
        address="+14133881111",
        sid="SMbbf29aeb9d380ce2a1c0ae4635ff9dab",
    ),
    Inbound(
        "courier: WhatsApp Receive Valid",
        _form(WA_RECEIVE_VALID),
        text="Msg",
        address="+14133881111",
        channel="whatsapp",
    ),
    Inbound(
        "courier: WhatsApp Receive BSUID Valid (the number stays the identity)",
        _form(WA_RECEIVE_BSUID_VALID),
        text="Msg",
        address="+14133881111",
        channel="whatsapp",
    ),
    Inbound(
        "courier: WhatsApp Receive From BSUID with no phone",
        _form(WA_RECEIVE_FROM_BSUID),
        text="Msg",
        address="US.1234",
        channel="whatsapp",
    ),
    Inbound(
        "courier: WhatsApp invalid ExternalUserId is ignored",
        _form(WA_RECEIVE_BSUID_INVALID),
        text="Msg",
        address="+14133881111",
        channel="whatsapp",
    ),
    Inbound(
        "courier: WhatsApp button reply",
        _form(WA_RECEIVE_BUTTON),
        text="Confirm",
        address="+14133881111",
        channel="whatsapp",
    ),
    # Tumaini tells the channels apart by the From prefix (courier by the receiving channel): a prefixless
    # From is an SMS.
    Inbound(
        "courier: Receive Prefixless URN",
        _form(WA_RECEIVE_PREFIXLESS),
        text="Msg",
        address="+14133881111",
        sid="SM681a1f26d9ec591431ce406e8f399525",
    ),
    Inbound(
        "WhatsApp button with a payload only",
        _form(WA_BUTTON_PAYLOAD_ONLY),
        text="MENU",
        address="+14133881111",
        channel="whatsapp",
    ),
    Inbound(
        "WhatsApp shared location: an attachment, coordinates not kept",
        _form(WA_LOCATION),
        text="",
        address="+14133881111",
        channel="whatsapp",
        media=1,
    ),
    Inbound(
        "base64 body in Devanagari script",
        _form(RECEIVE_BASE64_HINDI, Body=base64.b64encode(HINDI.encode()).decode()),
        text=HINDI,
        address="+14133881111",
    ),
    Inbound("SMS from a WhatsApp user id", _form(SMS_FROM_USER_ID), status=400, error="From is not a phone number"),
    Inbound(
        "WhatsApp from neither a number nor a user id",
        _form(WA_FROM_NOTHING_VALID),
        status=400,
        error="From is neither a phone number nor a WhatsApp user id",
    ),
]


@pytest.mark.parametrize("case", INBOUND, ids=[c.label for c in INBOUND])
def test_inbound_forms(app, client, case: Inbound):
    services = app.extensions["tumaini.services"]
    response = post_signed(client, case.data)
    assert response.status_code == case.status, response.get_data(as_text=True)
    with services.db.session() as session:
        rows = session.scalars(select(InboundMessage)).all()
    if case.status != 200:
        assert case.error in response.get_data(as_text=True)
        assert rows == []
        return
    assert "<Response></Response>" in response.get_data(as_text=True)
    (row,) = rows
    assert row.message_sid == case.sid
    assert row.channel == case.channel
    assert services.cipher.decrypt(row.body_enc, b"body") == case.text
    assert row.from_hash == services.pseudonymise(case.address)
    assert services.cipher.decrypt(row.from_enc, b"phone") == case.address
    assert row.num_media == case.media


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"], ids=["courier: missing", "courier: invalid"])
def test_unsigned_or_wrongly_signed_inbound_is_refused_and_nothing_stored(app, client, signature: str):
    response = client.post("/twilio/messages", data=_form(RECEIVE_VALID), headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    with app.extensions["tumaini.services"].db.session() as session:
        assert session.scalars(select(InboundMessage)).all() == []


@pytest.mark.parametrize(
    "body",
    [
        "This test\nhas a newline",
        "Please vote NO on the confirmation of Gorsuch.",
        "HELP" * 15,  # 60 base64 letters that decode to bytes, not text
        "A" * 64,  # decodes to zero bytes
        "Nimechoka sana na maisha haya, sijui nifanye nini tena rafiki yangu.",
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/",
        # mostly ASCII once decoded, but with control bytes: binary data, not a message
        base64.b64encode(b"\x00\x01\x02 a header then some readable words to pass the length bar").decode(),
    ],
)
def test_text_that_only_looks_like_base64_is_kept_as_written(body: str):
    assert decode_possible_base64(body) == body


@pytest.mark.parametrize(
    "encoded, expected",
    [
        (
            "QmFubm9uIEV4cGxhaW5zIFRoZSBXb3JsZCAuLi4K4oCcVGhlIENhbXAgb2YgdGhlIFNhaW50c+KA\r",
            "Bannon Explains The World ...\n\u201cThe Camp of the Saints",
        ),
        (
            "dGhlIHN3ZWF0LCB0aGUgdGVhcnMgYW5kIHRoZSBzYWNyaWZpY2Ugb2Ygd29ya2luZyBBbWVyaWNh\r",
            "the sweat, the tears and the sacrifice of working America",
        ),
        (
            base64.b64encode(b"Nataka kujiua leo usiku, sina sababu ya kuendelea kuishi").decode(),
            "Nataka kujiua leo usiku, sina sababu ya kuendelea kuishi",
        ),
        (
            base64.encodebytes("أشعر بالحزن الشديد ولا أعرف ماذا أفعل، أحتاج إلى المساعدة".encode()).decode(),
            "أشعر بالحزن الشديد ولا أعرف ماذا أفعل، أحتاج إلى المساعدة",
        ),
    ],
    ids=["courier: truncated character", "courier: carriage return", "Swahili", "Arabic, with line breaks"],
)
def test_base64_bodies_are_decoded(encoded: str, expected: str):
    assert decode_possible_base64(encoded) == expected


def test_an_overlong_body_is_refused_by_the_parser():
    with pytest.raises(BadRequest, match="too long"):
        parse_inbound(_form(RECEIVE_VALID, Body="x" * 20000))


# -- delivery statuses ----------------------------------------------------------------------------------
SID = "SMe287d7109a5a925f182f0e07fe5b223b"


@dataclass(frozen=True)
class Status:
    label: str
    form: dict[str, str]
    http: int = 200
    row_status: str = OutboxStatus.SENT  # the row after the callback (it starts "sent")
    error_code: int | None = None
    opted_out: bool = False
    retried: bool = False  # back in line for a later attempt
    start: str = OutboxStatus.SENT


def _status_form(status: str, code: str = "", **extra: str) -> dict[str, str]:
    form = {"MessageSid": SID, "MessageStatus": status, "AccountSid": "AC" + "1" * 32, "To": "+12028831111"}
    if code:
        form["ErrorCode"] = code
    form.update(extra)
    return form


STATUSES = [
    Status("accepted", _status_form("accepted")),
    Status("scheduled", _status_form("scheduled")),
    Status("queued", _status_form("queued")),
    Status("sending", _status_form("sending")),
    Status(
        "courier: Status TMS extra (sent)",
        dict(
            parse_qsl(
                "SmsStatus=sent&MessageStatus=sent&To=2021&MessagingServiceSid=MGdb23ec0f89ee2632e46e91d8128f5e2b"
                f"&MessageSid={SID}&AccountSid=acctid&From=%2B14133881111&ApiVersion=2010-04-01"
            )
        ),
    ),
    Status("partially_delivered", _status_form("partially_delivered")),
    Status("courier: Status Valid (delivered)", _status_form("delivered"), row_status=OutboxStatus.DELIVERED),
    Status("courier: Status Read", _status_form("read"), row_status=OutboxStatus.READ),
    Status(
        "undelivered 30003 (phone off, after the carrier's own retries)",
        _status_form("undelivered", "30003"),
        row_status=OutboxStatus.UNDELIVERED,
        error_code=30003,
    ),
    Status(
        "undelivered 30005", _status_form("undelivered", "30005"), row_status=OutboxStatus.UNDELIVERED, error_code=30005
    ),
    Status(
        "undelivered 30006", _status_form("undelivered", "30006"), row_status=OutboxStatus.UNDELIVERED, error_code=30006
    ),
    Status(
        "undelivered 30007", _status_form("undelivered", "30007"), row_status=OutboxStatus.UNDELIVERED, error_code=30007
    ),
    Status(
        "failed 30008 (unknown error: worth another try)",
        _status_form("failed", "30008"),
        row_status=OutboxStatus.PENDING,
        error_code=30008,
        retried=True,
    ),
    Status("failed", _status_form("failed"), row_status=OutboxStatus.FAILED),
    Status("canceled", _status_form("canceled"), row_status=OutboxStatus.FAILED),
    Status(
        "courier: Status Stop contact (21610)",
        _status_form("failed", "21610"),
        row_status=OutboxStatus.FAILED,
        error_code=21610,
        opted_out=True,
    ),
    Status(
        "courier: Status ID Rate limit (63018): sent again later",
        _status_form("failed", "63018"),
        row_status=OutboxStatus.PENDING,
        error_code=63018,
        retried=True,
    ),
    Status(
        "63018 after delivery changes nothing",
        _status_form("failed", "63018"),
        start=OutboxStatus.DELIVERED,
        row_status=OutboxStatus.DELIVERED,
    ),
    Status(
        "late 'sent' after delivery",
        _status_form("sent"),
        start=OutboxStatus.DELIVERED,
        row_status=OutboxStatus.DELIVERED,
    ),
    Status("received (an inbound status) is acknowledged and ignored", _status_form("received")),
    Status("courier: Status Invalid Status", _status_form("huh"), http=400),
    Status("courier: Status No Params", {"AccountSid": "AC" + "1" * 32}, http=400),
]


def _seed_row(
    services, status: str = OutboxStatus.SENT, attempts: int = 1, channel: str = "whatsapp", sid: str | None = SID
) -> int:
    with services.db.session() as session:
        contact = Contact(
            phone_hash=services.pseudonymise("+12028831111"),
            phone_enc=services.cipher.encrypt("+12028831111", b"phone"),
            channel=channel,
            state={},
            last_inbound_at=utcnow(),
        )
        session.add(contact)
        session.flush()
        row = OutboxMessage(
            contact_id=contact.id,
            channel=channel,
            body_enc=services.cipher.encrypt("Hello", b"body"),
            body_sha256=body_digest("Hello"),
            status=status,
            provider_sid=sid,
            attempts=attempts,
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.mark.parametrize("case", STATUSES, ids=[c.label for c in STATUSES])
def test_status_callbacks(app, client, case: Status):
    services = app.extensions["tumaini.services"]
    row_id = _seed_row(services, case.start)
    response = post_signed(client, case.form, path="/twilio/status")
    assert response.status_code == case.http, response.get_data(as_text=True)
    with services.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        contact = session.get(Contact, row.contact_id)
    assert row.status == case.row_status
    assert row.error_code == case.error_code
    assert contact.opted_out == case.opted_out
    jobs = (
        Queue(SEND, connection=services.redis).get_job_ids()
        + ScheduledJobRegistry(SEND, connection=services.redis).get_job_ids()
    )
    if case.retried:
        assert row.provider_sid is None and row.next_attempt_at is not None
        assert jobs == [send_job_id(row_id, 1)]
    else:
        assert jobs == []


def test_a_rate_limited_whatsapp_reply_is_sent_again_and_its_error_cleared(app, client, services, twilio_standin):
    row_id = _seed_row(services, OutboxStatus.PENDING, attempts=0, sid=None)
    queue_next_for(services, _contact_of(services, row_id))
    drain(services)
    (first,) = twilio_standin.store.for_address("whatsapp:+12028831111")
    assert (
        post_signed(
            client, {"MessageSid": first.sid, "MessageStatus": "failed", "ErrorCode": "63018"}, path="/twilio/status"
        ).status_code
        == 200
    )
    assert _row(services, row_id).status == OutboxStatus.PENDING
    drain(services)
    first_again, second = twilio_standin.store.for_address("whatsapp:+12028831111")
    assert second.body == "Hello" and second.sid != first.sid
    row = _row(services, row_id)
    assert (row.status, row.provider_sid, row.attempts) == (OutboxStatus.SENT, second.sid, 2)
    assert row.error_code is None and row.error is None  # the old 63018 no longer shows
    post_signed(client, {"MessageSid": second.sid, "MessageStatus": "delivered"}, path="/twilio/status")
    assert _row(services, row_id).status == OutboxStatus.DELIVERED


def test_rate_limits_stop_being_retried_after_the_last_attempt(app, client, services):
    row_id = _seed_row(services, OutboxStatus.SENT, attempts=services.config.SEND_MAX_ATTEMPTS)
    post_signed(client, _status_form("failed", "63018"), path="/twilio/status")
    row = _row(services, row_id)
    assert (row.status, row.error_code) == (OutboxStatus.FAILED, 63018)


def _row(services, row_id: int) -> OutboxMessage:
    with services.db.session() as session:
        return session.get(OutboxMessage, row_id)


def _only_row(services) -> OutboxMessage:
    with services.db.session() as session:
        return session.scalars(select(OutboxMessage)).one()


def _contact_of(services, row_id: int) -> int:
    return _row(services, row_id).contact_id


# -- send errors ----------------------------------------------------------------------------------------
PHONE = "+254700000042"
STATUS_CALLBACK = PUBLIC_BASE_URL + "/twilio/status"


@dataclass(frozen=True)
class SendError:
    label: str
    code: int
    http: int = 400
    channel: str = "sms"
    retryable: bool = False
    row_status: str = OutboxStatus.FAILED
    opted_out: bool = False
    extra_requests: list[Scripted] = field(default_factory=list)


SEND_ERRORS = [
    SendError("21211 invalid number", 21211),
    SendError("21408 region not enabled", 21408),
    SendError("21610 unsubscribed: the person is opted out", 21610, opted_out=True),
    SendError("21614 not a mobile number", 21614),
    SendError("30003 unreachable handset", 30003),
    SendError("30005 unknown handset", 30005),
    SendError("30006 landline or unreachable carrier", 30006),
    SendError("30007 filtered by the carrier", 30007),
    SendError("30008 unknown error: retried", 30008, retryable=True, row_status=OutboxStatus.SENT),
    SendError("30001 queue overflow: retried", 30001, retryable=True, row_status=OutboxStatus.SENT),
    SendError("20429 too many requests: retried", 20429, http=429, retryable=True, row_status=OutboxStatus.SENT),
    SendError(
        "63018 WhatsApp rate limit: retried",
        63018,
        http=429,
        channel="whatsapp",
        retryable=True,
        row_status=OutboxStatus.SENT,
    ),
    SendError(
        "63016 outside the WhatsApp window: held until the person writes",
        63016,
        channel="whatsapp",
        row_status=OutboxStatus.WAITING,
    ),
]


def _expected_request(channel: str, body: str) -> dict[str, str]:
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    return {"To": prefix + PHONE, "From": prefix + OUR_SMS, "Body": body, "StatusCallback": STATUS_CALLBACK}


@pytest.mark.parametrize("case", SEND_ERRORS, ids=[c.label for c in SEND_ERRORS])
def test_send_errors(services, twilio_standin, case: SendError):
    with services.db.session() as session:
        contact = Contact(
            phone_hash=services.pseudonymise(PHONE),
            phone_enc=services.cipher.encrypt(PHONE, b"phone"),
            channel=case.channel,
            state={},
            last_inbound_at=utcnow(),
        )
        session.add(contact)
        session.flush()
        session.add(
            OutboxMessage(
                contact_id=contact.id,
                channel=case.channel,
                body_enc=services.cipher.encrypt("Habari", b"body"),
                body_sha256=body_digest("Habari"),
            )
        )
        session.flush()
        contact_id = contact.id
    twilio_standin.store.script(Scripted.twilio_error(case.code, case.http))
    queue_next_for(services, contact_id)
    drain(services)

    received = twilio_standin.store.received_requests()
    expected = _expected_request(case.channel, "Habari")
    assert [r.form for r in received] == [expected] * (2 if case.retryable else 1)
    assert received[0].path == f"/2010-04-01/Accounts/{services.config.TWILIO_ACCOUNT_SID}/Messages.json"
    assert received[0].authorization.startswith("Basic ") and received[0].answered == case.http
    with services.db.session() as session:
        row = session.scalars(select(OutboxMessage)).one()
        person = session.get(Contact, contact_id)
    assert row.status == case.row_status
    # A retried send that then succeeded no longer shows the refusal; a refused one keeps its code.
    assert row.error_code == (None if case.retryable else case.code)
    assert person.opted_out == case.opted_out


def test_a_message_refused_as_outside_the_window_goes_when_the_person_writes_again(services, twilio_standin):
    with services.db.session() as session:
        contact = Contact(
            phone_hash=services.pseudonymise(PHONE),
            phone_enc=services.cipher.encrypt(PHONE, b"phone"),
            channel="whatsapp",
            state={},
            last_inbound_at=utcnow() - timedelta(hours=1),
        )
        session.add(contact)
        session.flush()
        session.add(
            OutboxMessage(
                contact_id=contact.id,
                channel="whatsapp",
                body_enc=services.cipher.encrypt("Habari", b"body"),
                body_sha256=body_digest("Habari"),
            )
        )
        session.flush()
        contact_id = contact.id
    twilio_standin.store.script(Scripted.twilio_error(63016))
    queue_next_for(services, contact_id)
    drain(services)
    queue_next_for(services, contact_id)  # nothing new from the person: it stays held
    drain(services)
    assert len(twilio_standin.store.received_requests()) == 1
    with services.db.session() as session:
        session.get(Contact, contact_id).last_inbound_at = utcnow()
    queue_next_for(services, contact_id)
    drain(services)
    assert twilio_standin.bodies_to("whatsapp:" + PHONE) == ["Habari"]
    assert _only_row(services).status == OutboxStatus.SENT


# -- a WhatsApp person without a phone number -----------------------------------------------------------
USER_ID = "KE.13491208655302741918"


def test_replies_to_a_whatsapp_user_id_go_to_that_id_and_never_by_sms(services, twilio_standin, monkeypatch):
    with services.db.session() as session:
        contact = Contact(
            phone_hash=services.pseudonymise(USER_ID),
            phone_enc=services.cipher.encrypt(USER_ID, b"phone"),
            channel="whatsapp",
            state={},
            last_inbound_at=utcnow() - timedelta(days=3),
            sms_fallback=True,
        )
        session.add(contact)
        session.flush()
        session.add(
            OutboxMessage(
                contact_id=contact.id,
                channel="whatsapp",
                body_enc=services.cipher.encrypt("Karibu", b"body"),
                body_sha256=body_digest("Karibu"),
            )
        )
        session.flush()
        contact_id = contact.id
    queue_next_for(services, contact_id)
    drain(services)
    # Three days since the person wrote, no template, and SMS cannot reach a user id: the reply waits.
    assert twilio_standin.store.received_requests() == []
    assert _only_row(services).status == OutboxStatus.WAITING
    with services.db.session() as session:
        session.get(Contact, contact_id).last_inbound_at = utcnow()
    queue_next_for(services, contact_id)
    drain(services)
    (request,) = twilio_standin.store.received_requests()
    assert request.form == {
        "To": "whatsapp:" + USER_ID,
        "From": "whatsapp:" + OUR_SMS,
        "Body": "Karibu",
        "StatusCallback": STATUS_CALLBACK,
    }


def test_signature_covers_the_query_string(app, client):
    form = _form(RECEIVE_VALID)
    response = client.post("/twilio/messages?x=1", data=form, headers={"X-Twilio-Signature": sign(form)})
    assert response.status_code == 403
