"""Messaging channels behind one interface: verify, parse, send, map status."""

from bot.channels.base import Channel, InboundForm, SendReceipt, channel_of_address, parse_inbound
from bot.channels.twilio import TwilioMessaging

__all__ = ["Channel", "InboundForm", "SendReceipt", "TwilioMessaging", "channel_of_address", "parse_inbound"]
