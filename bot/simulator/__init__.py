"""The phone simulator and a local stand-in for Twilio's Messages API."""
