"""Installing models through the real CTranslate2 converter, from tiny Hugging Face models built here.

The models have the real architectures (LlamaForCausalLM for the dialogue model, MarianMTModel for
OPUS-MT pairs) at toy sizes with random weights; the Marian tokenizer is a sentencepiece model
trained on the fly. Conversion needs torch and transformers (requirements-convert.txt).
"""

from __future__ import annotations

import json
import shutil
import socket
import tarfile
from pathlib import Path

import pytest

from tests.conftest import make_config

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses:UserWarning")

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
CORPUS = ["habari ya asubuhi rafiki yangu", "good morning my friend", "how are you feeling today",
          "ninakusikia asante sana kwa kuniambia", "thank you for telling me"]


def build_tiny_llama(out: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted({w for line in CORPUS for w in line.split()})
    vocab = {t: i for i, t in enumerate(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "system", "user",
                                         "assistant", *words])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<|endoftext|>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   unk_token="<|endoftext|>")
    fast.chat_template = CHATML
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         bos_token_id=1, eos_token_id=2, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def build_tiny_marian(out: Path, work: Path) -> Path:
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 20))
    out.mkdir(parents=True)
    pieces: list[str] = []
    for side in ("source", "target"):
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(work / side), vocab_size=48,
                                       model_type="unigram", bos_id=-1, eos_id=2, unk_id=1, pad_id=-1,
                                       hard_vocab_limit=False, minloglevel=2)
        shutil.copy(work / f"{side}.model", out / f"{side}.spm")
        processor = spm.SentencePieceProcessor(model_file=str(work / f"{side}.model"))
        pieces += [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    # Marian's layout: </s> first, <unk> next, the pieces of both sides, <pad> last.
    ordered = ["</s>", "<unk>", *(p for p in dict.fromkeys(pieces) if p not in ("</s>", "<unk>")), "<pad>"]
    vocab = {piece: i for i, piece in enumerate(ordered)}
    (out / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = MarianTokenizer(vocab=str(out / "vocab.json"), source_spm=str(out / "source.spm"),
                                target_spm=str(out / "target.spm"))
    torch.manual_seed(0)
    pad = len(vocab) - 1
    config = MarianConfig(vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                          decoder_ffn_dim=64, max_position_embeddings=64, pad_token_id=pad,
                          decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0)
    MarianMTModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def store_hf_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("store-hf")
    return {"llama": build_tiny_llama(root / "llama"), "marian": build_tiny_marian(root / "marian", root)}


@pytest.fixture(scope="module")
def store_app_factory(tmp_path_factory: pytest.TempPathFactory):
    from bot import create_app

    def make(models_dir: Path, **extra: str):
        base = tmp_path_factory.mktemp("store-app")
        config = make_config(base, MODELS_DIR=str(models_dir), extra=extra)
        return create_app(config).test_cli_runner()

    return make


@pytest.fixture(scope="module")
def store_installed(store_hf_models: dict[str, Path], store_app_factory, tmp_path_factory) -> Path:
    """A MODELS_DIR with the tiny generator and an opus-mt-en-sw pair converted by `models install`."""
    models_dir = tmp_path_factory.mktemp("store-installed")
    cli = store_app_factory(models_dir)
    llama = cli.invoke(args=["models", "install", "tiny-chat", "--from-dir", str(store_hf_models["llama"]),
                             "--licence", "Apache-2.0", "--languages", "en"])
    assert llama.exit_code == 0, llama.output
    pair = cli.invoke(args=["models", "install", "opus-mt-en-sw", "--from-dir", str(store_hf_models["marian"])])
    assert pair.exit_code == 0, pair.output
    return models_dir


def test_a_local_llama_becomes_an_int8_generator_with_its_chat_template(store_installed: Path) -> None:
    import ctranslate2

    from bot.dialogue.chat import ChatTokenizer

    model = store_installed / "tiny-chat"
    manifest = json.loads((model / "manifest.json").read_text())
    assert (manifest["kind"], manifest["languages"], manifest["licence"]) == ("generator", ["en"], "Apache-2.0")
    assert (manifest["quantization"], manifest["ctranslate2_version"]) == ("int8", ctranslate2.__version__)
    assert manifest["source"] == "local:llama"
    assert {"model.bin", "tokenizer.json", "vocabulary.json", manifest["tokenizer"]["chat_template"]} <= set(
        manifest["files"])
    chat = ChatTokenizer(model, manifest["tokenizer"])
    prompt = chat.encode(chat.render([{"role": "user", "content": "good morning my friend"}]))
    generator = ctranslate2.Generator(str(model), compute_type="int8")
    result = generator.generate_batch([prompt], max_length=5, include_prompt_in_result=False)[0]
    assert 1 <= len(result.sequences[0]) <= 5


def test_a_known_name_takes_licence_languages_and_source_from_the_registry(store_installed: Path) -> None:
    import ctranslate2
    import sentencepiece as spm

    model = store_installed / "opus-mt-en-sw"
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["kind"] == "translation-pair"
    assert manifest["languages"] == {"src": "en", "tgt": "sw"}
    assert (manifest["licence"], manifest["source"]) == ("CC-BY-4.0", "Helsinki-NLP/opus-mt-en-sw")
    assert manifest["tokenizer"] == {"source": "source.spm", "target": "target.spm"}
    pieces = spm.SentencePieceProcessor(model_file=str(model / "source.spm")).encode("good morning", out_type=str)
    translator = ctranslate2.Translator(str(model), compute_type="int8")
    output = translator.translate_batch([pieces + ["</s>"]], max_decoding_length=6)[0]
    assert len(output.hypotheses[0]) <= 6


def test_list_and_verify_show_the_converted_models(store_installed: Path, store_app_factory) -> None:
    cli = store_app_factory(store_installed)
    listing = cli.invoke(args=["models", "list", "--json"])
    rows = {row["name"]: row for row in json.loads(listing.output)}
    assert set(rows) == {"opus-mt-en-sw", "tiny-chat"}
    assert rows["tiny-chat"]["kind"] == "generator" and rows["opus-mt-en-sw"]["licence"] == "CC-BY-4.0"
    verify = cli.invoke(args=["models", "verify"])
    assert verify.exit_code == 0
    assert "ok     opus-mt-en-sw" in verify.output and "ok     tiny-chat" in verify.output


def test_converted_models_travel_in_a_bundle(store_installed: Path, store_app_factory, tmp_path: Path) -> None:
    out = tmp_path / "bundle.tar"
    made = store_app_factory(store_installed).invoke(args=["models", "bundle", str(out)])
    assert made.exit_code == 0, made.output
    digest = made.output.split("bundle digest: ")[1].split()[0]
    offline_dir = tmp_path / "offline"
    offline = store_app_factory(offline_dir)
    imported = offline.invoke(args=["models", "import", str(out), "--expect-digest", digest])
    assert imported.exit_code == 0, imported.output
    assert offline.invoke(args=["models", "verify"]).exit_code == 0
    for name in ("opus-mt-en-sw", "tiny-chat"):
        assert (offline_dir / name / "model.bin").read_bytes() == (store_installed / name / "model.bin").read_bytes()

    with tarfile.open(out) as tar:
        offset = tar.getmember("tiny-chat/model.bin").offset_data
    data = bytearray(out.read_bytes())
    data[offset + 100] ^= 0x80
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(data))
    fresh_dir = tmp_path / "fresh"
    refused = store_app_factory(fresh_dir).invoke(args=["models", "import", str(tampered)])
    assert refused.exit_code == 1
    assert "checksum mismatch for 'tiny-chat/model.bin'; nothing was installed" in refused.output
    assert "Traceback" not in refused.output
    assert not fresh_dir.exists() or list(fresh_dir.iterdir()) == []


def test_installing_over_a_model_needs_replace(store_installed: Path, store_hf_models, store_app_factory) -> None:
    cli = store_app_factory(store_installed)
    again = cli.invoke(args=["models", "install", "opus-mt-en-sw", "--from-dir", str(store_hf_models["marian"])])
    assert again.exit_code == 1
    assert "already installed; pass --replace" in again.output


def test_an_unknown_model_needs_its_licence(store_hf_models: dict[str, Path], store_app_factory,
                                            tmp_path: Path) -> None:
    cli = store_app_factory(tmp_path / "models")
    result = cli.invoke(args=["models", "install", "mystery", "--from-dir", str(store_hf_models["llama"])])
    assert result.exit_code == 1
    assert "needs --licence and --languages" in result.output
    assert not (tmp_path / "models").exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hub_install_without_network_fails_with_advice_not_a_traceback(store_app_factory, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    cli = store_app_factory(models_dir, MODELS_HUB_ENDPOINT=f"http://127.0.0.1:{closed_port()}")
    result = cli.invoke(args=["models", "install", "opus-mt-en-sw"])
    assert result.exit_code == 1
    assert "cannot download Helsinki-NLP/opus-mt-en-sw from the model hub" in result.output
    assert "models import" in result.output and "--from-dir" in result.output
    assert "Traceback" not in result.output
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


def test_an_unknown_name_lists_the_known_ones(store_app_factory, tmp_path: Path) -> None:
    result = store_app_factory(tmp_path / "models").invoke(args=["models", "install", "gpt-5"])
    assert result.exit_code == 1
    assert "'gpt-5' is not a known model" in result.output and "smollm2-135m-instruct" in result.output
