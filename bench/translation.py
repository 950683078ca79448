"""Translation speed and memory: our Translator vs raw CTranslate2 vs HF Transformers (fp32).

Random-weight models of the real sizes (no hub access is needed), with the same forced output
length for every system, so the comparison measures the engines, not what random weights
happen to generate:

- Marian-base (OPUS-MT): 6+6 layers, d_model 512, vocab 32k;
- NLLB-200 600M: 12+12 layers, d_model 1024, vocab 256k (skipped with --quick).

Every measurement runs in its own subprocess, so load time and peak RSS are clean. Printed:
target tokens/s at batch 16 with 1 and 2 threads, per-SMS latency p50/p95 at batch 1, load
time, peak RSS, the ratios against the targets, and the command that produced them.

    python bench/translation.py [--quick] [--json] [--workdir bench/out/translation]

Building NLLB-600M needs ~10 GB of RAM and a few minutes; models are cached in --workdir.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT_TOKENS = 30
BATCH = 16
BEAM = 2
SMS = [
    "You are not alone, and what you are feeling right now matters to us.",
    "Take a slow deep breath, hold it for four seconds, then breathe out gently.",
    "If you feel unsafe tonight, please call the free helpline on 116 at any time.",
    "Sleep is hard when your mind is busy; try writing your worries down before bed.",
    "Talking to someone you trust can make a heavy day feel a little lighter.",
    "Reply YES to continue the course tomorrow, or STOP to end these messages.",
    "Many new mothers feel tired and low; it is common and it can get better.",
    "When you feel stressed, name five things you can see around you right now.",
    "Your health worker can visit you this week if you would like to talk.",
    "It is okay to ask for help; reaching out is a sign of strength, not weakness.",
    "Drink some water, eat something small, and rest your body when you can.",
    "Reply with a number from 1 to 5 to tell us how you have felt since we last talked.",
    "Worry about exams is normal; short breaks and regular sleep help you learn.",
    "We will check in with you again on Friday morning to see how you are doing.",
    "Walking for ten minutes in the morning light can lift your mood a little.",
    "Thank you for sharing this with us; we are here to listen whenever you need.",
]


# --------------------------------------------------------------------------- building


def build(workdir: Path, quick: bool) -> dict[str, dict[str, str]]:
    """Build (or reuse) the random-weight models; returns paths per model key."""
    from translation import synthetic

    models = (
        {"marian": synthetic.MARIAN_BASE} if quick else {"marian": synthetic.MARIAN_BASE, "nllb": synthetic.NLLB_600M}
    )
    spm = workdir / "spm" / "en.model"
    if not spm.exists():
        synthetic.train_sentencepiece(SMS * 4, spm.with_suffix(""), vocab_size=400)
    paths: dict[str, dict[str, str]] = {}
    for key, size in models.items():
        store, hf = workdir / f"store-{key}", workdir / f"hf-{key}"
        model_dir = store / f"bench-{key}"
        if not (model_dir / "manifest.json").exists():
            started = time.perf_counter()
            store.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if key == "marian":
                    synthetic.build_pair_model(
                        model_dir, name=model_dir.name, src="en", tgt="sw", spm_model=spm, size=size, hf_dir=hf
                    )
                else:
                    synthetic.build_multilingual_model(
                        model_dir, name=model_dir.name, languages=["en", "sw"], spm_model=spm, size=size, hf_dir=hf
                    )
            print(f"built {key} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        paths[key] = {"store": str(store), "model": str(model_dir), "hf": str(hf)}
    return paths


# --------------------------------------------------------------------------- workers


def rss_mb() -> float:
    """Peak resident set size of this process, in MB.

    VmHWM, not getrusage's ru_maxrss: a child started by fork+exec inherits its parent's
    ru_maxrss, which here would be the model-building parent's gigabytes.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def timed_batches(run: Any, min_batches: int, min_seconds: float) -> tuple[float, float]:
    """Best and median seconds per call of ``run``, after one warm-up call.

    The best of several calls is reported as throughput (as timeit does): the machine is
    shared, and other processes only ever make a call slower.
    """
    run()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_batches or time.perf_counter() - started < min_seconds:
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def latencies(run_one: Any, n: int) -> list[float]:
    run_one(SMS[0])
    out = []
    for i in range(n):
        started = time.perf_counter()
        run_one(SMS[i % len(SMS)])
        out.append(time.perf_counter() - started)
    return out


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement in a fresh process: load, throughput, optionally latency."""
    system, key, threads = spec["system"], spec["key"], spec["threads"]
    paths = spec["paths"][key]
    quick = spec["quick"]
    baseline = current_rss_mb()
    started = time.perf_counter()
    batch = SMS[:BATCH]
    if system == "ours":
        translator = load_ours(paths, threads)

        def run() -> None:
            translator.translate_batch(batch, "en", "sw")

        def run_one(text: str) -> None:
            translator.translate(text, "en", "sw")
    elif system == "ct2":
        run, run_one = load_raw(paths, key, threads)
    else:
        run, run_one = load_hf(paths, key, threads)
    load_s = time.perf_counter() - started
    after_load = current_rss_mb()
    heavy = system == "hf" and key == "nllb"
    best, median = timed_batches(run, 2 if heavy else 4, 10.0 if heavy else 8.0)
    result: dict[str, Any] = {
        **{k: spec[k] for k in ("system", "key", "threads")},
        "load_s": round(load_s, 2),
        "tokens_per_s": round(BATCH * OUT_TOKENS / best, 1),
        "tokens_per_s_median": round(BATCH * OUT_TOKENS / median, 1),
        "rss_before_mb": round(baseline),
        "rss_loaded_mb": round(after_load),
    }
    if spec.get("latency"):
        lat = latencies(run_one, 6 if heavy else (12 if quick else 20))
        result["latency_p50_s"] = round(statistics.median(lat), 3)
        result["latency_p95_s"] = round(sorted(lat)[max(0, round(0.95 * len(lat)) - 1)], 3)
    result["peak_rss_mb"] = round(rss_mb())
    result["rss_growth_mb"] = result["peak_rss_mb"] - result["rss_before_mb"]
    return result


def load_ours(paths: dict[str, str], threads: int) -> Any:
    """Our translator, with its model and tokenizers loaded (what the first request would do)."""
    from translation.build import TranslationSettings, build_translator
    from translation.composite import RoutingTranslator
    from translation.ct2 import CT2Translator
    from translation.pool import ModelPool

    settings = TranslationSettings(
        intra_threads=threads,
        confidence_threshold=0.0,
        decode_options={"beam_size": BEAM, "min_decoding_length": OUT_TOKENS, "max_decoding_length": OUT_TOKENS},
    )
    pool = ModelPool(settings.memory_budget_mb, settings.load_options)
    translator = build_translator(Path(paths["store"]), settings, pool=pool)
    router = getattr(translator, "inner", None)
    assert isinstance(router, RoutingTranslator)
    leaf = router.resolve("en", "sw")
    assert isinstance(leaf, CT2Translator)
    pool.get(leaf.info.path, leaf.info.size_bytes)
    leaf.encode(["Hello."], "en", "sw")  # loads the sentencepiece model
    return translator


def _tokens(paths: dict[str, str], key: str) -> tuple[list[list[str]], list[list[str]] | None]:
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(
        model_file=str(Path(paths["model"]) / ("source.spm" if key == "marian" else "sentencepiece.bpe.model"))
    )
    pieces = sp.encode(SMS, out_type=str)
    if key == "marian":
        return [p + ["</s>"] for p in pieces], None
    return [["eng_Latn", *p, "</s>"] for p in pieces], [["swh_Latn"] for _ in pieces]


def load_raw(paths: dict[str, str], key: str, threads: int) -> tuple[Any, Any]:
    import ctranslate2

    model = ctranslate2.Translator(
        paths["model"], device="cpu", compute_type="int8", inter_threads=1, intra_threads=threads
    )
    source, prefix = _tokens(paths, key)
    options = {
        "beam_size": BEAM,
        "min_decoding_length": OUT_TOKENS,
        "max_decoding_length": OUT_TOKENS,
        "return_scores": True,
    }

    def run() -> None:
        out = model.translate_batch(source[:BATCH], target_prefix=prefix[:BATCH] if prefix else None, **options)
        assert all(len(r.hypotheses[0]) == OUT_TOKENS for r in out), "forced length not respected"

    def run_one(text: str) -> None:
        i = SMS.index(text)
        model.translate_batch([source[i]], target_prefix=[prefix[i]] if prefix else None, **options)

    return run, run_one


def load_hf(paths: dict[str, str], key: str, threads: int) -> tuple[Any, Any]:
    import torch
    import transformers

    torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tokenizer = transformers.AutoTokenizer.from_pretrained(paths["hf"])
        cls = transformers.MarianMTModel if key == "marian" else transformers.M2M100ForConditionalGeneration
        model = cls.from_pretrained(paths["hf"], dtype=torch.float32).eval()
    source, _ = _tokens(paths, key)
    ids: list[list[int]] = [tokenizer.convert_tokens_to_ids(tokens) for tokens in source]  # type: ignore[misc]
    pad = model.config.pad_token_id
    extra = {} if key == "marian" else {"forced_bos_token_id": tokenizer.convert_tokens_to_ids("swh_Latn")}
    options = {
        "num_beams": BEAM,
        "min_new_tokens": OUT_TOKENS,
        "max_new_tokens": OUT_TOKENS,
        "do_sample": False,
        **extra,
    }

    def generate(rows: list[list[int]]) -> Any:
        width = max(len(r) for r in rows)
        input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
        with torch.inference_mode():
            return model.generate(input_ids=input_ids, attention_mask=(input_ids != pad).long(), **options)

    def run() -> None:
        out = generate(ids[:BATCH])
        assert out.shape[1] == OUT_TOKENS + 1, "forced length not respected"  # + decoder start

    def run_one(text: str) -> None:
        generate([ids[SMS.index(text)]])

    return run, run_one


# --------------------------------------------------------------------------- orchestration


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    # As a module from the repository root: run as a file, this script would shadow the translation package.
    cmd = [sys.executable, "-m", "bench.translation", "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec['system']}/{spec['key']}/{spec['threads']} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Fastest throughput, best latency round, slowest load and largest memory of the rounds."""
    best = dict(max(results, key=lambda r: r["tokens_per_s"]))
    best["tokens_per_s_median"] = max(r["tokens_per_s_median"] for r in results)
    if "latency_p50_s" in best:
        fastest = min(results, key=lambda r: r["latency_p50_s"])
        best["latency_p50_s"], best["latency_p95_s"] = fastest["latency_p50_s"], fastest["latency_p95_s"]
    best["load_s"] = max(r["load_s"] for r in results)
    for key in ("peak_rss_mb", "rss_growth_mb"):
        best[key] = max(r[key] for r in results)
    best["rounds"] = len(results)
    return best


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


def summarise(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    def get(system: str, key: str, threads: int) -> dict[str, Any]:
        return next(r for r in rows if (r["system"], r["key"], r["threads"]) == (system, key, threads))

    summary: dict[str, Any] = {}
    for key in keys:
        ours1, raw1, hf1 = get("ours", key, 1), get("ct2", key, 1), get("hf", key, 1)
        ours2, raw2, hf2 = get("ours", key, 2), get("ct2", key, 2), get("hf", key, 2)
        summary[key] = {
            "ours_vs_hf_throughput_1t": ratio(ours1["tokens_per_s"], hf1["tokens_per_s"]),
            "ours_vs_hf_throughput_2t": ratio(ours2["tokens_per_s"], hf2["tokens_per_s"]),
            "ours_vs_ct2_throughput_1t": ratio(ours1["tokens_per_s"], raw1["tokens_per_s"]),
            "ours_vs_ct2_throughput_2t": ratio(ours2["tokens_per_s"], raw2["tokens_per_s"]),
            "ours_vs_ct2_latency_p50": ratio(ours1["latency_p50_s"], raw1["latency_p50_s"]),
            "ours_vs_ct2_peak_rss": ratio(ours1["peak_rss_mb"], raw1["peak_rss_mb"]),
            "ours_vs_ct2_rss_growth": ratio(ours1["rss_growth_mb"], raw1["rss_growth_mb"]),
            "targets": {
                "throughput >= 4x transformers": ours1["tokens_per_s"] >= 4 * hf1["tokens_per_s"],
                "throughput within 10% of ct2": ours1["tokens_per_s"] >= 0.9 * raw1["tokens_per_s"],
                "latency within 10% of ct2": ours1["latency_p50_s"] <= 1.1 * raw1["latency_p50_s"],
                "peak rss <= 1.3x ct2": ours1["peak_rss_mb"] <= 1.3 * raw1["peak_rss_mb"],
            },
        }
    return summary


def print_table(rows: list[dict[str, Any]], summary: dict[str, Any], command: str) -> None:
    print(
        f"{'model':<8}{'system':<7}{'thr':>4}{'tok/s':>9}{'(med)':>8}{'p50 s':>8}{'p95 s':>8}{'load s':>8}{'peak MB':>9}{'grow MB':>9}"
    )
    for r in rows:
        print(
            f"{r['key']:<8}{r['system']:<7}{r['threads']:>4}{r['tokens_per_s']:>9}{r['tokens_per_s_median']:>8}"
            f"{r.get('latency_p50_s', ''):>8}{r.get('latency_p95_s', ''):>8}{r['load_s']:>8}"
            f"{r['peak_rss_mb']:>9}{r['rss_growth_mb']:>9}"
        )
    for key, s in summary.items():
        print(f"\n{key} ratios: " + ", ".join(f"{k}={v}" for k, v in s.items() if k != "targets"))
        print(f"{key} targets: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in s["targets"].items()))
    print(f"\ncommand: {command}")
    load = os.getloadavg()[0]
    print(
        f"forced output length {OUT_TOKENS} tokens, beam {BEAM}, batch {BATCH}; tok/s is the best batch, "
        f"(med) the median; {os.cpu_count()} cores, load average {load:.1f} at the end (shared machine)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Marian only")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "translation")
    parser.add_argument("--rounds", type=int, default=2, help="measure every system this many times")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    paths = build(args.workdir, args.quick)
    keys = list(paths)
    rounds: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    # Rounds interleave the systems, so a burst of load from other processes on the shared
    # machine does not land on one system only; the best round of each is kept.
    for round_no in range(args.rounds):
        for key in keys:
            for system in ("ours", "ct2", "hf"):
                for threads in (1, 2):
                    spec = {
                        "system": system, "key": key, "threads": threads, "paths": paths, "quick": args.quick,
                        "latency": threads == 1,
                    }  # fmt: skip
                    print(f"round {round_no + 1}: {key}/{system}/{threads} thread(s)", file=sys.stderr)
                    rounds.setdefault((key, system, threads), []).append(run_worker(spec))
    rows = [best_of(results) for results in rounds.values()]
    summary = summarise(rows, keys)
    command = shlex.join(
        [Path(sys.executable).name, "bench/translation.py", *(argv if argv is not None else sys.argv[1:])]
    )
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary, "command": command}))
    else:
        print_table(rows, summary, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
