"""Registration waits for a lead; verification and availability decide who is invitable."""

from __future__ import annotations

import io

import pytest

from community.callbacks import VerifyExpert
from community.registry import (
    Registration,
    RegistryError,
    import_csv,
    pending,
    register,
    set_available,
    verify,
)
from storage.experts import invitable_experts
from storage.models.experts import ExpertRole
from tests.community.conftest import STAFF, START, Steps


async def test_register_then_verify(steps: Steps) -> None:
    """A registration is pending with verify buttons for leads, then verified and told."""
    async with steps.tx() as session:
        expert = await register(
            session=session,
            telegram_user_id=42,
            registration=Registration(name=" 한지훈 ", organisation="소방청", fields=["fire"]),
            now=START,
            staff_chat_id=STAFF,
        )
    assert expert.id is not None and expert.name == "한지훈" and not expert.verified
    [notice] = await steps.outbox(STAFF)
    assert "한지훈" in notice.payload["text"]
    data = [b["data"] for row in notice.payload["buttons"] for b in row]
    assert data == [VerifyExpert(expert.id, "yes").pack(), VerifyExpert(expert.id, "no").pack()]
    async with steps.tx() as session:
        assert [e.id for e in await pending(session=session)] == [expert.id]
        assert await invitable_experts(session=session, fields=["fire"]) == []
        await verify(session=session, expert_id=expert.id, verifier_id=7, approve=True, now=START)
    async with steps.tx() as session:
        ready = await invitable_experts(session=session, fields=["fire"])
        assert [e.verified_by for e in ready] == [7]
        assert await pending(session=session) == []
    assert "승인" in (await steps.texts(42))[0]


async def test_reject_deactivates(steps: Steps) -> None:
    """A rejected registration is neither pending nor invitable."""
    async with steps.tx() as session:
        expert = await register(
            session=session,
            telegram_user_id=43,
            registration=Registration(name="x", fields=["marine"], language="en"),
            now=START,
        )
        assert expert.id is not None
        await verify(session=session, expert_id=expert.id, verifier_id=7, approve=False, now=START)
        assert await pending(session=session) == []
    assert "not verified" in (await steps.texts(43))[0]


async def test_agency_needs_a_known_agency_and_experts_need_fields() -> None:
    """Bad registrations are refused before anything is stored."""
    from community.registry import _check

    with pytest.raises(RegistryError) as error:
        _check(Registration(name="x", role=ExpertRole.AGENCY, agency="army"))
    assert error.value.code == "expert_error_agency"
    with pytest.raises(RegistryError) as error:
        _check(Registration(name="x", fields=[]))
    assert error.value.code == "expert_error_fields"
    with pytest.raises(RegistryError):
        _check(Registration(name="x", fields=["cooking"]))
    _check(Registration(name="x", role=ExpertRole.AGENCY, agency="police"))


async def test_availability(steps: Steps) -> None:
    """Away experts are not invitable; unknown users are told to register."""
    await steps.expert(44, ["fire"])
    async with steps.tx() as session:
        await set_available(session=session, telegram_user_id=44, available=False, now=START)
        assert await invitable_experts(session=session, fields=["fire"]) == []
        await set_available(session=session, telegram_user_id=44, available=True, now=START)
        assert len(await invitable_experts(session=session, fields=["fire"])) == 1
        with pytest.raises(RegistryError) as error:
            await set_available(session=session, telegram_user_id=45, available=True, now=START)
    assert error.value.code == "expert_not_registered"


async def test_import_csv(steps: Steps) -> None:
    """CSV rows become verified experts; bad rows are reported with their line numbers."""
    source = io.StringIO(
        "telegram_user_id,name,organisation,fields,role,agency,language\n"
        "501,한지훈,서울소방,fire;structural,,,ko\n"
        "502,Jane Park,K-water,3,expert,,en\n"
        "abc,Bad Id,,fire,,,\n"
        "503,Officer Kim,Jongno police,,agency,police,ko\n"
        "504,No Fields,,,,,\n"
        "505,Odd Field,,cooking,,,\n"
    )
    async with steps.tx() as session:
        result = await import_csv(session=session, source=source, now=START)
    assert (result.created, result.updated) == (3, 0)
    assert [line for line, _ in result.errors] == [4, 6, 7]
    async with steps.tx() as session:
        fire = await invitable_experts(session=session, fields=["fire"])
        flood = await invitable_experts(session=session, fields=["flood_hydrology"])
        assert [e.telegram_user_id for e in fire] == [501]
        assert [(e.name, e.language) for e in flood] == [("Jane Park", "en")]
        again = await import_csv(
            session=session,
            source=io.StringIO("telegram_user_id,name,fields\n501,한지훈,marine\n"),
            now=START,
        )
        assert (again.created, again.updated) == (0, 1)
        assert await invitable_experts(session=session, fields=["fire"]) == []
        with pytest.raises(RegistryError):
            await import_csv(session=session, source=io.StringIO("name\nx\n"), now=START)
