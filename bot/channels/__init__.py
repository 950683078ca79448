"""Messaging channels behind one interface: verify, parse inbound, send, map status."""

from bot.channels.base import Channel, InboundForm, SendReceipt, StatusUpdate, channel_of_address
from bot.channels.twilio import TwilioMessaging, map_status, parse_inbound

__all__ = [
    "Channel",
    "InboundForm",
    "SendReceipt",
    "StatusUpdate",
    "TwilioMessaging",
    "channel_of_address",
    "map_status",
    "parse_inbound",
]
