"""Which language a citizen is answered in: /lang's choice, else the text's, else remembered."""

from __future__ import annotations

import pytest

from situation.language import answer_language, remember_written_language, written_language
from storage.models.citizens import Citizen


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("There is a fire in my building", "en"),
        ("fier in my house", "en"),
        ("There is a fire in 강남역", "en"),  # a Korean place name in an English sentence
        ("불났어요", "ko"),
        ("아파트 복도에 연기가 가득해요", "ko"),
        ("KTX 역에서 불났어요", "ko"),
        ("https://maps.app.goo.gl/abcdEFGHijkl 여기 불났어요", "ko"),  # the link is no English
        ("see www.example.com/fire-report-page 불났어요", "ko"),
        ("fire 불났어요", None),  # mixed
        ("fire near 홍대입구역 exit 9", None),  # mixed
        ("help", None),  # too short
        ("🔥🔥🔥 fire!!! 119", None),  # digits and emoji are no letters
        ("불이야", None),
        ("ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ", None),  # bare jamo are no words
        ("", None),
        (None, None),
    ],
)
def test_written_language(text: str | None, lang: str | None) -> None:
    assert written_language(text) == lang


def test_answer_language_rule() -> None:
    # /lang's choice always wins
    assert answer_language(chosen=True, stored="ko", written="en", client="en") == "ko"
    # else the text, else what was remembered, else the client's
    assert answer_language(chosen=False, stored="ko", written="en", client="ko") == "en"
    assert answer_language(chosen=False, stored="en", written=None, client="ko") == "en"
    assert answer_language(chosen=False, stored=None, written=None, client="ko") == "ko"


def test_remembered_unless_chosen() -> None:
    citizen = Citizen(telegram_user_id=1)
    assert remember_written_language(citizen, "There is a fire in my building") == "en"
    assert citizen.language == "en" and not citizen.language_chosen
    assert remember_written_language(citizen, "fire 불났어요") is None
    assert citizen.language == "en"
    chosen = Citizen(telegram_user_id=2, language="ko", language_chosen=True)
    remember_written_language(chosen, "There is a fire in my building")
    assert chosen.language == "ko"
