"""Named errors of the language layer, one small class each, so callers catch what they mean."""


class TranslationError(Exception):
    """Base class for errors raised by the language layer."""


class UnknownLanguage(TranslationError):
    """A language tag cannot be mapped to what a model needs (e.g. no FLORES-200 code)."""


class UnsupportedLanguagePair(TranslationError):
    """No installed model, pair or pivot route translates between these two languages."""


class ManifestError(TranslationError):
    """A model directory's manifest.json is missing, unreadable or lacks a required key."""


class ModelLoadError(TranslationError):
    """CTranslate2 or sentencepiece could not load a model's files."""


class EvalFileError(TranslationError):
    """An evaluation file (CSV or TSV) is malformed; the message names the line."""
