"""Named exceptions, one small class each, so callers catch exactly what they mean."""


class TumainiError(Exception):
    """Base class for the service's own errors."""


class ConfigError(TumainiError):
    """A setting is missing or malformed; the message names the variable."""


class BadRequest(TumainiError):
    """An inbound request cannot be accepted; the message says why."""


class DecryptionError(TumainiError):
    """Stored ciphertext cannot be opened with any configured key."""


class SendError(TumainiError):
    """Sending a message failed."""

    retryable = False

    def __init__(self, message: str, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class RetryableSendError(SendError):
    """The provider may accept the same message later (network, 5xx, 429)."""

    retryable = True


class PermanentSendError(SendError):
    """The provider refused the message for good (most 4xx)."""


class RecipientOptedOut(PermanentSendError):
    """The recipient unsubscribed (Twilio 21610); nothing more may be sent."""


class SendOutcomeUnknown(SendError):
    """The request may have reached the provider; resending could duplicate it."""


class OutsideWhatsAppWindow(PermanentSendError):
    """WhatsApp refused a free-form message: the person's last message is more than 24 h old (Twilio 63016)."""
