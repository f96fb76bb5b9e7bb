"""Tests for manuals.classify."""

from __future__ import annotations

import pytest

from manuals.classify import (
    classify,
    continues_situation,
    get_classifier,
    holds_citizen,
    loose_korean,
    normalize,
    only_closings,
    urgent_signals,
)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("불이 났어요", "fire"),
        ("불낫어요!!", "fire"),
        ("불낫어요 연기가 엄청나요", "fire"),
        ("엘베에 갇혔어요", "elevator"),
        ("물에빠졋어요 살려주세요", "water_accident"),
        ("지진났어요 건물이 흔들려요", "earthquake"),
        ("지진해일 경보 떴어요", "tsunami"),
        ("산불났어요", "wildfire"),
        ("가스 냄새가 나요", "electricity_gas"),
        ("the street is flooded", "inundation"),
        ("my dad is not breathing", "cpr"),
        ("eartquake!! everything shaking", "earthquake"),
        ("elevater stuck between floors", "elevator"),
        ("화제 났어요", "fire"),
    ],
)
def test_chat_spelling_and_typos(text: str, slug: str) -> None:
    result = classify(text)
    assert result.top is not None
    assert result.top.slug == slug


@pytest.mark.parametrize(
    ("text", "not_slug"),
    [
        ("너무 불편해요", "fire"),
        ("불고기 먹고 싶다", "fire"),
        ("가스레인지로 요리하고 있어요", "electricity_gas"),
        ("물가가 올라서 힘들어요", "flood"),
        ("물가가 올라서 힘들어요", "inundation"),
        ("회의가 연기됐어요", "fire"),
        ("I got fired from my job", "fire"),
        ("gas prices are crazy", "electricity_gas"),
    ],
)
def test_false_friends(text: str, not_slug: str) -> None:
    result = classify(text)
    assert not_slug not in [m.slug for m in result.matches[:1]]
    assert not (result.confident and result.top and result.top.slug == not_slug)


def test_result_shape() -> None:
    result = classify("불이야 불났어요")
    assert result.confident
    assert result.lang == "ko"
    assert len(result.matches) <= 3
    assert result.matches[0].as_dict() == {
        "slug": "fire",
        "code": 2011,
        "score": result.matches[0].score,
    }
    assert 0 < result.matches[0].score <= 1
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True)


def test_lang_hint_is_recorded() -> None:
    assert classify("fire!").lang == "en"
    assert classify("fire!", lang="ko").lang == "ko"


def test_ambiguous_message_is_not_confident() -> None:
    result = classify("도와주세요")
    assert not result.confident


def test_empty_text() -> None:
    result = classify("")
    assert result.matches == ()
    assert result.top is None
    assert not result.confident


def test_deterministic() -> None:
    assert classify("비가 너무 많이 와요") == classify("비가 너무 많이 와요")


def test_loose_korean_merges_chat_spelling() -> None:
    assert loose_korean("낫") == loose_korean("났")
    assert loose_korean("화제") == loose_korean("화재")
    assert loose_korean("빠졋") == loose_korean("빠졌")
    assert loose_korean("abc") == "abc"


def test_normalize_strips_punctuation_and_jamo() -> None:
    assert normalize("불!!! 났어요ㅠㅠ  FIRE?") == ["불", "났어요", "fire"]


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("엘베에 갇혔어요", "trapped"),
        ("people trapped inside", "trapped"),
        ("할아버지가 의식이 없어요", "unconscious"),
        # The honorific of "collapsed" (said of an elder) is as urgent as the plain one.
        ("할머니가 길에 쓰러지셨어요", "unconscious"),
        ("할아버지가 쓰러지셔서 안 일어나세요", "unconscious"),
        ("he is unconscious", "unconscious"),
        ("숨을 안 쉬어요", "not_breathing"),
        ("숨을안쉬어요", "not_breathing"),
        ("not breathing", "not_breathing"),
        ("불낫어요", "fire"),
        ("smoke everywhere", "smoke"),
        ("연기가 나요", "smoke"),
        ("건물이 무너졌어요", "collapse"),
        ("애가 물에 빠졌어요", "in_water"),
        ("물에빠졋어요", "in_water"),
    ],
)
def test_urgent_signals(text: str, signal: str) -> None:
    assert signal in urgent_signals(text)


@pytest.mark.parametrize(
    "text", ["너무 불편해요", "불고기 맛집", "회의가 연기됐어요", "I got fired", "오늘 날씨 좋네요"]
)
def test_no_urgent_signals_in_false_friends(text: str) -> None:
    assert urgent_signals(text) == []


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("지하차도에 물이 차올라서 차가 잠겼어요", "trapped"),
        ("차가 물에 잠기고 있어요", "trapped"),
        ("차량이 반쯤 잠겼어요", "trapped"),
        ("버스가 물에 잠겨 있어요", "trapped"),
        ("차 안으로 물이 들어와요", "trapped"),
        ("지하차도에 고립됐어요", "trapped"),
        ("차 안에 갇혔어요", "trapped"),
        ("차가 강에 빠졌어요", "in_water"),
        ("물이 가슴까지 차올랐어요", "in_water"),
        ("my car is under water", "trapped"),
        ("my car is completely under water", "trapped"),
        ("the car is submerged", "trapped"),
        ("our car is sinking", "trapped"),
        ("water is coming into the car", "trapped"),
        ("trapped in car", "trapped"),
        ("we are cut off by the flood", "trapped"),
        ("water up to my chest", "in_water"),
    ],
)
def test_urgent_signals_of_vehicles_and_people_under_water(text: str, signal: str) -> None:
    assert signal in urgent_signals(text)


@pytest.mark.parametrize(
    "text",
    [
        "문이 잠겼어요",
        "차 문이 잠겼어요",
        "현관문이 잠겨서 못 들어가요",
        "차 키를 안에 두고 문이 잠겼어요",
        "휴대폰이 잠겼어요",
        "계정이 잠겼어요",
        "차가 잠깐 멈췄어요",
        "물이 차가워서 손이 잠겼어요",
        "차가 잠겼어요",
        "차량이 잠겨 있어서 못 타요",
        "사랑에 빠졌어요",
        "the door is locked",
        "locked out of my car",
        "my phone is locked",
    ],
)
def test_locked_doors_and_phones_are_not_urgent(text: str) -> None:
    assert urgent_signals(text) == []


def test_classification_carries_urgent_signals() -> None:
    assert "trapped" in classify("엘베에 갇혔어요").urgent


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("숨을안셔요", "not_breathing"),
        ("불러도 대답이 없어요", "unconscious"),
        ("칼 들고 있어요", "violence"),
        ("연기남", "smoke"),
        ("의식이 업써요", "unconscious"),
    ],
)
def test_urgent_signals_in_chat_spelling(text: str, signal: str) -> None:
    assert signal in urgent_signals(text)


def test_false_friend_does_not_hide_a_longer_keyword() -> None:
    # "불러" (call) is a false friend for fire, but "불러도 대답이 없어요" is unresponsive.
    assert classify("불러도 대답이 없어요").top is not None
    assert classify("불러도 대답이 없어요").slugs[0] == "cpr"


def test_mixed_script_tokens_are_split() -> None:
    assert normalize("fire났어요") == ["fire", "났어요"]
    assert classify("fire났어요 빨리").slugs[0] == "fire"


def test_short_english_words_do_not_match_inside_longer_ones() -> None:
    assert "emergency_supplies" not in classify("smoke from the kitchen").slugs[:1]


def test_gap_keywords_and_absorbing_scenarios() -> None:
    assert classify("아빠가 엄마를 때리고 있어요").slugs[0] == "domestic_violence"
    assert classify("한강 유람선에서 불났어요").slugs[0] == "ferry"


def test_unrelated_text_gives_no_confident_answer() -> None:
    for text in ("오늘 날씨 좋네요", "도와주세요", "hello", "ㅋㅋㅋㅋ"):
        assert not classify(text).confident


@pytest.mark.parametrize(
    ("text", "slug", "signal"),
    [
        ("fier in my house", "fire", "fire"),
        ("there is a fier", "fire", "fire"),
        ("smoek coming from the apartment next door", "fire", "smoke"),
    ],
)
def test_short_english_typos_get_the_scenario_and_the_119_prompt(
    text: str, slug: str, signal: str
) -> None:
    result = classify(text)
    assert result.confident and result.top is not None and result.top.slug == slug
    assert signal in result.urgent


@pytest.mark.parametrize(
    "text",
    [
        "I am fine, nobody is hurt",
        "the bus fare went up again",
        "we need to hire more staff",
        "I got fired from my job",
        "five people in the queue",
    ],
)
def test_short_words_near_a_keyword_are_left_alone(text: str) -> None:
    result = classify(text)
    assert "fire" not in result.urgent
    assert not (result.confident and result.top is not None and result.top.slug == "fire")


def test_a_fallen_tree_is_wind_damage_not_a_collapsed_person() -> None:
    result = classify("나무가 쓰러져 있어요")
    assert result.confident and result.top is not None and result.top.slug == "strong_wind"
    assert result.urgent == ()
    assert urgent_signals("가로수가 쓰러져서 길이 막혔어요") == []


@pytest.mark.parametrize(
    "text",
    [
        "나무가 바람에 쓰러졌어요",
        "가로수 한 그루가 쓰러졌어요",
        "간판이 또 쓰러졌어요",
        "가로수가 강풍에 쓰러졌어요",
        "나무 두 그루가 쓰러졌어요",
    ],
)
def test_a_fallen_tree_or_sign_with_words_between_is_wind_damage(text: str) -> None:
    # The false friends spelled with a gap ("나무가*쓰러") mask the "쓰러졌" of a person
    # collapsing in the urgent signals too, and the wind keyword they spell out keeps them.
    result = classify(text)
    assert result.urgent == (), text
    assert result.confident and result.top is not None, text
    assert result.top.slug == "strong_wind", text
    assert "first_aid" not in result.slugs, text


def test_someone_under_a_fallen_tree_or_a_collapsed_person_stays_urgent() -> None:
    assert "trapped" in urgent_signals("나무가 쓰러져서 사람이 깔렸어요")
    assert "unconscious" in urgent_signals("할머니가 쓰러져 있어요")
    for text in (
        "사람이 쓰러졌어요",
        "나무 밑에 사람이 쓰러졌어요",
        "나무가 있는 곳에 사람이 쓰러졌어요",
        "간판이 떨어져서 사람이 쓰러졌어요",
        "가로수 옆에서 할아버지가 쓰러졌어요",
    ):
        assert "unconscious" in urgent_signals(text), text
    result = classify("할머니가 길에 쓰러지셨어요")
    assert result.top is not None and result.top.slug == "first_aid"


def test_a_locked_car_is_not_urgent_but_a_car_under_water_is() -> None:
    locked = classify("차가 잠겼어요")
    assert locked.urgent == ()
    assert not (locked.confident and locked.top is not None and locked.top.slug == "inundation")
    for text in (
        "물에 차가 잠겼어요",
        "지하차도에 물이 차서 차가 잠기고 있어요",
        "지하주차장에 물이 들어와서 차가 잠기고 있어요",
    ):
        result = classify(text)
        assert "trapped" in result.urgent, text
        assert result.top is not None and result.top.slug == "inundation", text


def test_something_that_burst_is_an_explosion() -> None:
    # "터졌어요ㅋ" was a false friend; without its ㅋ (dropped like all bare jamo) it hid every
    # "터졌어요", so a gas canister that exploded got no 119 prompt.
    assert "explosion" in urgent_signals("가스통이 터졌어요")
    assert urgent_signals("대박 터졌어요ㅋㅋ") == []


@pytest.mark.parametrize(
    "text",
    [
        "잠긴 차 안에 아이가 있어요",
        "차가 잠겼는데 안에 아기가 있어요",
        "아이가 차 안에 있는데 문이 잠겼어요",
        "차에 애기를 두고 잠갔어요",
        "my baby is in the locked car",
        "the kid is locked in the car",
    ],
)
def test_a_person_locked_in_a_car_is_urgent(text: str) -> None:
    assert "trapped" in urgent_signals(text)


@pytest.mark.parametrize(
    "text", ["차가 잠겼어요", "아이가 차에서 잠들었어요", "my car is locked", "I locked the car"]
)
def test_a_locked_car_with_nobody_in_it_is_not(text: str) -> None:
    assert urgent_signals(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "thanks",
        "Thanks!",
        "thank you",
        "Thank you so much 🙏",
        "thx",
        "ty",
        "ok",
        "okay",
        "ok thanks",
        "감사합니다",
        "고맙습니다",
        "네",
        "네 감사합니다!!",
        "알겠습니다",
        "정말감사합니다ㅠㅠ",
    ],
)
def test_closings_get_no_scenario_and_no_prompt(text: str) -> None:
    result = classify(text)
    assert result.matches == () and result.urgent == () and not result.confident
    assert only_closings(text)


@pytest.mark.parametrize("text", ["thanks, fire here", "help", "감사합니다 불이 났어요", ""])
def test_words_beside_closings_are_not_closings_only(text: str) -> None:
    assert not only_closings(text)


def test_closings_are_not_spell_corrected_and_do_not_hide_a_report() -> None:
    classifier = get_classifier()
    assert classifier._correct("thanks") == "thanks"  # not "tanks" (emergency state)
    result = classify("thanks, the fire is spreading to the second floor")
    assert result.top is not None and result.top.slug == "fire" and "fire" in result.urgent


@pytest.mark.parametrize(
    "word",
    ["rubber", "silver", "spring", "wonder", "bitter", "modest", "random", "submit", "thanks"],
)
def test_common_english_words_are_not_corrected_into_a_scenario(word: str) -> None:
    # Each was one letter from a keyword word (rubble, shiver, sprain, wander, bitten, molest,
    # ransom, summit, tanks) and came out a confident scenario.
    assert get_classifier()._correct(word) == word
    assert not classify(word).confident


def test_a_burst_embankment_or_dam_is_a_flood_or_dam_failure_not_an_explosion() -> None:
    for text, slug in (
        ("저수지 둑이 터졌어요", "dam_collapse"),
        ("댐이 터졌어요", "dam_collapse"),
        ("둑이 터졌어요", "flood"),
        ("제방이 터졌어요", "flood"),
    ):
        result = classify(text)
        assert result.confident and result.top is not None and result.top.slug == slug, text
        assert "explosion" not in result.slugs and "explosion" not in result.urgent, text
        assert result.urgent == ("collapse",), text  # urgent all the same: call 119


@pytest.mark.parametrize("text", ["터졌어요ㅋㅋ", "빵 터졌어요 ㅋㅋㅋ", "대박 터졌네ㅎㅎ"])
def test_laughter_is_no_explosion(text: str) -> None:
    result = classify(text)
    assert result.urgent == () and not result.confident
    assert urgent_signals(text) == []


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("엘베에 갇혔어요ㅎㅎ", "trapped"),
        ("불났어요 ㅋㅋㅋ", "fire"),
        ("가스통이 터졌어요ㅠㅠ", "explosion"),
    ],
)
def test_laughter_mutes_only_the_explosion_signal(text: str, signal: str) -> None:
    # A nervous laugh does not make someone less trapped: only "터졌어요ㅋㅋ" is a joke so often
    # that laughter mutes it. A sure scenario still waits for words without laughter.
    assert signal in urgent_signals(text)


def test_laughter_is_read_from_the_raw_text_only() -> None:
    # Normalisation drops bare jamo: without laughter the same words stay urgent.
    assert "explosion" in urgent_signals("가스통이 터졌어요")
    assert classify("가스통이 터졌어요").confident
    assert "fire" in urgent_signals("불났어요")
    assert urgent_signals("터졌어요\u110f\u110f") == []  # laughter typed as conjoining jamo


@pytest.mark.parametrize(
    "text",
    [
        "still trapped, smoke now",
        "the water is getting higher",
        "it's worse",
        "smoke again",
        "물이 더 차올라요",
        "아직도 연기가 나요",
        "여전히 갇혀 있어요",
        "불길이 점점 커져요",
        "이젠 연기도 나요",
        "또 흔들려요",
    ],
)
def test_words_that_continue_the_citizens_situation(text: str) -> None:
    assert continues_situation(text)


@pytest.mark.parametrize(
    "text",
    [
        "옆 건물에 불이 났어요",
        "There is a fire next door",
        "너무 더워요",  # "더" only as a word of its own
        "I took a photo",  # "too" only as a word of its own
        "또래 아이가 다쳤어요",
    ],
)
def test_words_that_do_not(text: str) -> None:
    assert not continues_situation(text)


def test_a_trapped_citizen_is_held_in_their_situation() -> None:
    assert holds_citizen("people are trapped in the lift")
    assert holds_citizen("엘리베이터에 갇혔어요")
    assert not holds_citizen("The street is flooded")
    assert not holds_citizen("아파트에 불이 났어요")
