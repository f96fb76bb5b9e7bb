"""Tests for manuals.cli (the functions behind ``jikimi manuals``)."""

from __future__ import annotations

import argparse
import json

import pytest

from manuals.cli import add_subcommands, main


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers(dest="action", required=True))
    return parser.parse_args(argv)


def test_classify_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["classify", "불낫어요", "연기가", "나요", "--json"])
    assert args.handler(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["slug"] == "fire"
    assert data[0]["code"] == 2011
    assert set(data[0]) == {"slug", "code", "score"}


def test_classify_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "엘베에 갇혔어요"]) == 0
    out = capsys.readouterr().out
    assert "1. elevator" in out and "3015" in out
    assert "confident: yes" in out
    assert "urgent signals: trapped" in out


def test_classify_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "!!!"]) == 0
    assert "no scenario matched" in capsys.readouterr().out


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "cpr", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "[now] Do this now" in out and "[steps] Step by step" in out
    assert "<b>CPR</b>" in out


def test_show_plain_and_handbook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "handbook", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "[triage]" in out and "<b>" not in out


def test_show_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "nope"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "ko: 62/62 scenarios render" in out
    assert "en: 62/62 scenarios render" in out
    assert out.strip().endswith("ok")
