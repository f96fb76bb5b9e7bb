"""Citizen commands: /start with consent, /lang, /new, /cancel, /myreports; staff notifications."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from situation import citizens, notify
from situation.intake import IncomingPlace
from storage.models.citizens import Citizen
from storage.models.incidents import Incident
from storage.models.reports import Report
from tests.situation.conftest import START, Steps, texts

PLACE = IncomingPlace(latitude=37.5663, longitude=126.9779)


async def test_start_explains_and_asks_consent(steps: Steps) -> None:
    async with steps.tx() as session:
        await citizens.start(
            session=session, user_id=5001, chat_id=5001, lang="en", now=START, retention_days=30
        )
    rows = await steps.outbox(5001)
    assert "does not replace a 119 or 112 call" in rows[0]["text"]
    assert "30 days" in rows[1]["text"] and "Personal Information Protection Act" in rows[1]["text"]
    assert [b["data"] for b in rows[1]["buttons"][0]] == ["ccn:accept", "ccn:decline"]
    async with steps.tx() as session:
        await citizens.record_consent(
            session=session, user_id=5001, chat_id=5001, lang="en", accepted=True, now=START
        )
        await citizens.set_language(
            session=session, user_id=5001, chat_id=5001, lang="ko", now=START
        )
    async with steps.tx() as session:
        citizen = (await session.exec(select(Citizen))).one()
    assert citizen.consent_at is not None and citizen.language == "ko"
    assert "한국어" in texts(await steps.outbox(5001))[-1]


async def test_new_cancel_and_myreports(steps: Steps) -> None:
    user = 5002
    await steps.send(user, text="엘리베이터에 갇혔어요")
    async with steps.tx() as session:
        previous = await citizens.new_report(
            session=session,
            user_id=user,
            chat_id=user,
            lang="ko",
            config=steps.config,
            now=START + timedelta(seconds=5),
        )
    assert previous is not None
    await steps.send(user, text="도로에 물이 넘쳐요", now=START + timedelta(seconds=10))
    async with steps.tx() as session:
        cancelled = await citizens.cancel_report(
            session=session,
            user_id=user,
            chat_id=user,
            lang="ko",
            config=steps.config,
            now=START + timedelta(seconds=20),
        )
        count = await citizens.list_reports(
            session=session,
            user_id=user,
            chat_id=user,
            lang="ko",
            now=START + timedelta(seconds=21),
        )
    assert cancelled is not None and cancelled != previous and count == 2
    async with steps.tx() as session:
        first, second = (await session.exec(select(Report).order_by(col(Report.id)))).all()
    assert first.status == "filed" and first.sealed_at is not None
    assert second.status == "cancelled"
    listing = texts(await steps.outbox(user))[-1]
    assert previous in listing and cancelled in listing and "취소" in listing
    async with steps.tx() as session:
        assert (
            await citizens.cancel_report(
                session=session,
                user_id=user,
                chat_id=user,
                lang="ko",
                config=steps.config,
                now=START + timedelta(seconds=30),
            )
            is None
        )


async def test_notifications_reach_every_citizen_once(steps: Steps) -> None:
    await steps.send(5101, text="불이 났어요")
    await steps.send(5101, kind="location", place=PLACE, now=START + timedelta(seconds=5))
    await steps.send(
        5102, text="there is a fire in the building", lang="en", now=START + timedelta(seconds=20)
    )
    await steps.send(
        5102, kind="location", place=PLACE, lang="en", now=START + timedelta(seconds=25)
    )
    async with steps.tx() as session:
        incident = (await session.exec(select(Incident))).one()
        assert incident.id is not None
        assert await notify.incident_acknowledged(session=session, incident_id=incident.id) == 2
        assert (
            await notify.staff_replied_to_all(
                session=session, incident_id=incident.id, text="출동 중 <곧>"
            )
            == 2
        )
        assert (
            await notify.incident_closed(session=session, incident_id=incident.id, note="진화 완료")
            == 2
        )
    ko = texts(await steps.outbox(5101))[-3:]
    en = texts(await steps.outbox(5102))[-3:]
    assert "확인했습니다" in ko[0] and "출동 중 &lt;곧&gt;" in ko[1] and "진화 완료" in ko[2]
    assert "acknowledged" in en[0] and "Situation room" in en[1] and "closed" in en[2]


async def _last_seen(steps: Steps, user: int) -> object:
    async with steps.tx() as session:
        citizen = (
            await session.exec(select(Citizen).where(col(Citizen.telegram_user_id) == user))
        ).one()
        return citizen.last_seen_at


async def test_every_command_counts_as_activity(steps: Steps) -> None:
    """last_seen_at follows commands and buttons too, not only reports (retention reads it)."""
    user = 5003
    await steps.send(user, text="가로등이 쓰러졌어요")
    assert await _last_seen(steps, user) == START
    day = timedelta(days=1)
    calls = [
        lambda session, now: citizens.list_reports(
            session=session, user_id=user, chat_id=user, lang="ko", now=now
        ),
        lambda session, now: citizens.set_language(
            session=session, user_id=user, chat_id=user, lang="en", now=now
        ),
        lambda session, now: citizens.record_consent(
            session=session, user_id=user, chat_id=user, lang="en", accepted=True, now=now
        ),
        lambda session, now: citizens.new_report(
            session=session, user_id=user, chat_id=user, lang="en", config=steps.config, now=now
        ),
    ]
    for number, call in enumerate(calls, start=1):
        async with steps.tx() as session:
            await call(session, START + number * day)
        assert await _last_seen(steps, user) == START + number * day
    async with steps.tx() as session:  # a moment later: the row is not written again
        await citizens.list_reports(
            session=session,
            user_id=user,
            chat_id=user,
            lang="en",
            now=START + 4 * day + timedelta(minutes=1),
        )
    assert await _last_seen(steps, user) == START + 4 * day
