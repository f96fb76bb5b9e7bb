"""End to end: /start in private answers staff and experts for their role, not as citizens."""

from __future__ import annotations

from sqlmodel import select

from community.registry import seed_demo_experts
from storage.models.citizens import Citizen
from tests.e2e.citizen_helpers import bot_messages, reports_of, settle
from tests.e2e.conftest import E2E


async def _citizens(app: E2E) -> list[Citizen]:
    async with app.runtime.session_factory() as session:
        return list((await session.exec(select(Citizen))).all())


async def test_staff_start_in_private_points_to_the_staff_room(app: E2E) -> None:
    lead = next(person for person in app.world.staff if person.role == "lead")
    await app.client.start_bot(lead.id, bot_token=app.token)
    await settle(app, lead.id)
    # The demo world's people pressed Start when it was built: that /start was answered too.
    *_, answer = shown = await bot_messages(app, lead.id)
    assert all(message["text"] == answer["text"] for message in shown)
    assert "상황실 근무자로 등록되어" in answer["text"] and "팀장" in answer["text"]
    assert "/close" in answer["text"] and "/duty" in answer["text"]  # the staff commands
    assert "reply_markup" not in answer  # no consent buttons: not a citizen's welcome
    assert await _citizens(app) == []


async def test_expert_start_in_private_shows_the_registration_and_the_hub(app: E2E) -> None:
    expert = app.world.experts[0]
    await app.client.start_bot(expert.id, bot_token=app.token)
    await settle(app, expert.id)
    *_, answer = shown = await bot_messages(app, expert.id)
    assert all(message["text"] == answer["text"] for message in shown)
    assert "재난 전문가로 등록되어" in answer["text"] and "확인 완료" in answer["text"]
    assert "전문가 허브" in answer["text"] and "reply_markup" not in answer
    assert await _citizens(app) == []


async def test_staff_words_after_start_and_a_citizen_start_are_the_citizens_flow(
    app: E2E,
) -> None:
    staff = app.world.staff[-1]
    await app.client.send_text(staff.id, staff.id, "/start 도로에 싱크홀이 생겼어요")
    await settle(app, staff.id)
    (report,) = await reports_of(app, staff.id)
    assert report.text == "도로에 싱크홀이 생겼어요"
    citizen = await app.citizen("시민", "ko")
    await app.client.start_bot(citizen.id, bot_token=app.token)
    await settle(app, citizen.id)
    welcome, consent = await bot_messages(app, citizen.id)
    assert "119" in welcome["text"]
    assert "ccn:accept" in str(consent.get("reply_markup"))


async def test_an_experts_start_shows_each_status_on_its_own_line(app: E2E) -> None:
    """Verification, availability and the hub note are separate lines, in Korean and English."""
    korean = app.world.experts[0]
    english = await app.client.create_user(first_name="Jane Park", language_code="en")
    async with app.runtime.session_factory() as session, session.begin():
        [jane] = await seed_demo_experts(
            session=session, experts=[(english["id"], "Jane Park", "fire")]
        )
        jane.language = "en"  # registered in English
        session.add(jane)
    for user_id, verified, available in (
        (korean.id, "✅ 확인 완료", "🟢 초대를 받는 중"),
        (int(english["id"]), "✅ Verified", "🟢 Available"),
    ):
        await app.client.send_text(user_id, user_id, "/start")
        await settle(app, user_id)
        *_, answer = await bot_messages(app, user_id)
        lines = answer["text"].split("\n")
        assert any(line.startswith(verified) for line in lines), lines
        assert any(line.startswith(available) for line in lines), lines
        assert "" in lines  # a blank line before the note about the hub
