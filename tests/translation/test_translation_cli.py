"""The langid and translate CLI groups, invoked exactly as documented."""

import json

import pytest
from flask import Flask

from translation.cli import langid_cli, translate_cli
from translation.langid_eval import DEFAULT_EVAL_FILE


@pytest.fixture()
def runner(writable_store):
    app = Flask("translation-cli-test")
    app.config.update(
        MODELS_DIR=str(writable_store), TRANSLATION_MT_GATE_CHRF=45.0, TRANSLATION_CONFIDENCE_THRESHOLD=0.35
    )
    app.cli.add_command(langid_cli)
    app.cli.add_command(translate_cli)
    return app.test_cli_runner()


def test_langid_prints_code_and_confidence(runner) -> None:
    result = runner.invoke(args=["langid", "nimechoka sana leo"])
    assert result.exit_code == 0
    code, confidence = result.output.split()
    assert code == "sw" and 0.5 <= float(confidence) <= 1.0
    assert "(unreliable)" in runner.invoke(args=["langid", "ok"]).output


def test_langid_eval_prints_accuracy_per_language(runner) -> None:
    result = runner.invoke(args=["langid", "eval", str(DEFAULT_EVAL_FILE)])
    assert result.exit_code == 0
    assert "Kiswahili" in result.output and result.output.splitlines()[-1].startswith("overall")


def test_langid_eval_json_is_exactly_one_object(runner, tmp_path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("text,lang\nnimechoka sana,sw\nmujhe madad chahiye,hi\nthank you so much,en\n", encoding="utf-8")
    result = runner.invoke(args=["langid", "eval", str(path), "--json"])
    data = json.loads(result.output)
    assert set(data) == {"overall", "per_language"}
    assert data["overall"] == {"accuracy": 1.0, "n": 3}
    assert data["per_language"]["sw"] == {"accuracy": 1.0, "n": 1}


def test_langid_eval_reports_a_bad_file(runner, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("message,language\nhi,en\n", encoding="utf-8")
    result = runner.invoke(args=["langid", "eval", str(path)])
    assert result.exit_code != 0 and "text,lang" in result.output


def test_translate_with_explicit_and_detected_source(runner) -> None:
    result = runner.invoke(args=["translate", "--to", "sw", "--from", "en", "Call 0800 720 600 now."])
    assert result.exit_code == 0
    assert result.stdout.strip() == "Piga 0800 720 600 sasa."
    assert "en->sw" in result.stderr and " ok" in result.stderr
    detected = runner.invoke(args=["translate", "--to", "sw", "Hello, how are you today?"])
    assert detected.stdout.strip() == "Habari, hujambo leo?"


def test_translate_refuses_to_guess_an_ambiguous_source(runner) -> None:
    result = runner.invoke(args=["translate", "--to", "sw", "ok"])
    assert result.exit_code != 0 and "--from" in result.output


def test_translate_reports_an_unsupported_pair(runner) -> None:
    result = runner.invoke(args=["translate", "--to", "zu", "--from", "en", "hello"])
    assert result.exit_code != 0 and "en->zu" in result.output


def test_translate_eval_scores_gates_and_records(runner, writable_store, tmp_path) -> None:
    tsv = tmp_path / "en-sw.tsv"
    tsv.write_text("You are not alone.\tHauko peke yako.\nTake a deep breath.\tVuta pumzi ndefu.\n", encoding="utf-8")
    result = runner.invoke(args=["translate", "eval", str(tsv), "--src", "en", "--tgt", "sw"])
    assert result.exit_code == 0
    assert "chrF++ 100.00" in result.output and "BLEU" in result.output
    assert "sw passes the gate" in result.output and "enabled" in result.output
    assert (writable_store / "opus-en-sw" / "eval.json").exists()
    failing = runner.invoke(args=["translate", "eval", str(tsv), "--src", "en", "--tgt", "ha", "--json"])
    data = json.loads(failing.stdout)
    assert data["passed"] is False and data["status"] == "needs review" and data["models"] == ["nllb-tiny"]
