"""Tests for manuals.check."""

from __future__ import annotations

from pathlib import Path

from manuals.catalog import Catalog, read_catalog
from manuals.check import Problem, check_catalog, count_rendered


def test_shipped_catalogue_passes() -> None:
    problems = check_catalog()
    assert problems == [], "\n".join(map(str, problems))
    assert count_rendered() == {"ko": 62, "en": 62}


def _messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def test_mini_catalogue_reports_too_few_scenarios(mini_catalog: Catalog, mini_dir: Path) -> None:
    messages = _messages(check_catalog(mini_catalog, mini_dir))
    assert messages == ["only 2 scenarios (at least 60)"]


def test_missing_template_and_block(mini_catalog: Catalog, mini_dir: Path) -> None:
    (mini_dir / "en" / "beta.j2").unlink()
    (mini_dir / "ko" / "alpha.j2").write_text(
        "{% block now %}• a\n• b\n• c{% endblock %}{% block during %}• d{% endblock %}", "utf-8"
    )
    messages = _messages(check_catalog(mini_catalog, mini_dir))
    assert "beta/en: template missing" in messages
    assert "alpha/ko: missing block 'before' (hazard)" in messages
    assert "alpha/ko: missing block 'after' (hazard)" in messages
    assert count_rendered(mini_catalog, mini_dir) == {"ko": 2, "en": 1}


def test_bad_html_and_long_now(mini_catalog: Catalog, mini_dir: Path) -> None:
    now = "\n".join(["• " + "x" * 200] * 3)
    (mini_dir / "ko" / "beta.j2").write_text(
        "{% block now %}" + now + "{% endblock %}{% block steps %}1. a<br>{% endblock %}", "utf-8"
    )
    messages = _messages(check_catalog(mini_catalog, mini_dir))
    assert any(m.startswith("beta/ko: 'now' block is") for m in messages)
    assert "beta/ko: page 'steps' uses tags ['br']" in messages


def test_broken_template(mini_catalog: Catalog, mini_dir: Path) -> None:
    (mini_dir / "en" / "alpha.j2").write_text("{% block now %}{{ oops( }}{% endblock %}", "utf-8")
    messages = _messages(check_catalog(mini_catalog, mini_dir))
    assert any(m.startswith("alpha/en: does not render") for m in messages)


def test_orphan_template_and_missing_handbook(mini_catalog: Catalog, mini_dir: Path) -> None:
    (mini_dir / "ko" / "gamma.j2").write_text("{% block now %}• x{% endblock %}", "utf-8")
    (mini_dir / "en" / "handbook.j2").unlink()
    messages = _messages(check_catalog(mini_catalog, mini_dir))
    assert "ko: template gamma.j2 has no catalogue entry" in messages
    assert "handbook/en: template missing" in messages


def test_ambiguous_keyword_and_bad_metadata(tmp_path: Path, mini_dir: Path) -> None:
    text = (Path(__file__).with_name("conftest.py")).read_text(encoding="utf-8")
    toml = text.split('MINI_CATALOG = """', 1)[1].split('"""', 1)[0]
    toml = toml.replace('keywords_ko = ["베타처치"]', 'keywords_ko = ["알파사고", "베타처치"]')
    toml = toml.replace('related = ["beta"]', 'related = ["nope"]')
    toml = toml.replace('numbers = ["119"]', 'numbers = ["999"]')
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    messages = _messages(check_catalog(read_catalog(path), mini_dir))
    assert "keyword '알파사고' is shared by alpha, beta (add it to [shared])" in messages
    assert "alpha: bad related scenario 'nope'" in messages
    assert "alpha: unknown emergency number '999'" in messages
    assert "alpha: urgent scenario without 119 or 112" in messages


def test_format_rules(mini_catalog: Catalog, mini_dir: Path) -> None:
    (mini_dir / "en" / "beta.j2").write_text(
        "stray text\n{% block now %}• a\n• b\nc{% endblock %}{% block steps %}do it{% endblock %}",
        "utf-8",
    )
    messages = _messages(check_catalog(mini_catalog, mini_dir))
    assert "beta/en: text outside the blocks" in messages
    assert "beta/en: block 'now' has a line not starting with '• '" in messages
    assert "beta/en: block 'steps' has a line not numbered '1. '" in messages


def test_name_must_classify_to_its_scenario(tmp_path: Path, mini_dir: Path) -> None:
    text = (Path(__file__).with_name("conftest.py")).read_text(encoding="utf-8")
    toml = text.split('MINI_CATALOG = """', 1)[1].split('"""', 1)[0]
    toml = toml.replace('keywords_en = ["beta aid"]', 'keywords_en = ["alpha|9"]')
    toml += '\n[shared]\nkeywords = ["alpha"]\n'
    path = tmp_path / "names.toml"
    path.write_text(toml, encoding="utf-8")
    messages = _messages(check_catalog(read_catalog(path), mini_dir))
    assert "alpha/en: its name classifies as beta" in messages


def test_closings_continuations_and_laughter_are_checked(tmp_path: Path, mini_dir: Path) -> None:
    text = (Path(__file__).with_name("conftest.py")).read_text(encoding="utf-8")
    toml = text.split('MINI_CATALOG = """', 1)[1].split('"""', 1)[0]
    toml += (
        '\n[closings]\nko = ["알파사고", "네"]\nen = ["!!"]\n'
        '[continuation]\nen = ["still"]\nsignals = ["stuck"]\n'
        '[laughter]\nmarks = ["ㅋㅋ", "lol"]\nmutes = ["boom"]\n'
    )
    path = tmp_path / "lists.toml"
    path.write_text(toml, encoding="utf-8")
    messages = _messages(check_catalog(read_catalog(path), mini_dir))
    assert "ko: closing '알파사고' is a keyword" in messages
    assert "en: closing '!!' is empty once normalised" in messages
    assert "continuation signal 'stuck' is no signal" in messages
    assert "laughter mark 'lol' must be bare jamo" in messages
    assert "laughter mutes 'boom', which is no signal" in messages
    assert not any("'네'" in m or "'ㅋㅋ'" in m or "'still'" in m for m in messages)
