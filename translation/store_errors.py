"""Named errors of the model store, one small class each; messages are written for an NGO operator."""

from translation.errors import TranslationError


class StoreError(TranslationError):
    """Base class for model store errors."""


class UnknownModel(StoreError):
    """A name is neither in the registry of known models nor given enough metadata to install."""


class ModelNotInstalled(StoreError):
    """The named model has no directory under MODELS_DIR."""


class ModelExists(StoreError):
    """Installing or importing would overwrite an installed model without --replace."""


class DownloadError(StoreError):
    """The model hub cannot be reached or refused the download (this server may be offline)."""


class MissingDependency(StoreError):
    """Conversion needs packages that runtime servers do not install (torch, transformers, gguf)."""


class ConversionError(StoreError):
    """The CTranslate2 converter or the GGUF loader failed on the given model."""


class BundleError(StoreError):
    """A bundle is corrupted, tampered with, unsafe or malformed; nothing was installed."""
