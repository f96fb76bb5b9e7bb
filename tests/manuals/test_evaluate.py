"""Tests for manuals.evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest

from manuals.evaluate import Labelled, evaluate, figures, main, read_labelled, report


def test_read_labelled_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text("# comment\nfire\tko\t불났어요\n\nelevator\ten\tstuck in the lift\n", "utf-8")
    assert read_labelled(path) == [
        Labelled("fire", "ko", "불났어요"),
        Labelled("elevator", "en", "stuck in the lift"),
    ]


def test_read_labelled_rejects_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("fire\t불났어요\n", "utf-8")
    with pytest.raises(ValueError, match="3 tab-separated"):
        read_labelled(path)


def test_figures_and_report() -> None:
    outcomes = evaluate(
        [
            Labelled("fire", "ko", "불이 났어요"),
            Labelled("elevator", "en", "stuck in the elevator"),
            Labelled("drought", "ko", "불이 났어요"),
        ]
    )
    f = figures(outcomes)
    assert f.n == 3
    assert f.top1 == pytest.approx(2 / 3)
    assert 0 < f.confident <= 1
    text = report(outcomes, errors=True)
    assert "| all | 3 |" in text
    assert "MISS\tdrought\t불이 났어요" in text
    assert figures([]).n == 0


def test_main_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "set.tsv"
    path.write_text("fire\tko\t불났어요\n", "utf-8")
    assert main(["--path", str(path)]) == 0
    assert "| all | 1 | 100.0% | 100.0%" in capsys.readouterr().out
