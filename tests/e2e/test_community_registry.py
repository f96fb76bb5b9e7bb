"""Registration in private, verification by a lead in the staff supergroup, availability."""

from __future__ import annotations

from typing import Any

from tests.e2e.community_helpers import seed
from tests.e2e.conftest import E2E


def _button(message: dict[str, Any], data: str) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if b.get("callback_data") == data]
    assert found, f"no button {data!r} in {rows}"
    return found[0]


async def test_register_verify_and_go_away(app: E2E) -> None:
    """An expert registers step by step; a lead verifies; /away and /available answer."""
    await seed(app)
    user = await app.client.create_user(first_name="새 전문가", language_code="ko")
    uid = int(user["id"])
    await app.client.start_bot(uid, app.token)
    await app.settle()
    await app.client.send_text(uid, uid, "/expert")
    await app.client.wait_for_message(uid, contains="이름을 보내")
    await app.client.send_text(uid, uid, "강민수")
    await app.client.wait_for_message(uid, contains="소속 기관")
    await app.client.send_text(uid, uid, "한국건설기술연구원")
    roles = await app.client.wait_for_message(uid, contains="어떤 자격")
    await app.client.press_button(
        uid, uid, int(roles["message_id"]), _button(roles, "com:reg:role-expert")
    )
    fields = await app.client.wait_for_message(uid, contains="전문 분야")
    for data in ("com:reg:f-structural", "com:reg:f-geotechnical_landslide"):
        await app.client.press_button(uid, uid, int(fields["message_id"]), _button(fields, data))
        await app.settle()
    await app.client.press_button(uid, uid, int(fields["message_id"]), "com:reg:done")
    done = await app.client.wait_for_message(uid, contains="등록을 받았습니다")
    assert "구조물·건축" in str(done.get("text")) and "지반·산사태" in str(done.get("text"))

    staff_chat = app.world.staff_chat_id
    notice = await app.client.wait_for_message(staff_chat, contains="강민수")
    [verify] = [
        b["callback_data"]
        for row in notice["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].endswith(":yes")
    ]
    staff = app.world.person("정하은")
    refused = await app.client.press_button(staff.id, staff_chat, int(notice["message_id"]), verify)
    assert refused.get("show_alert")
    lead = app.world.person("최도윤")
    await app.client.press_button(lead.id, staff_chat, int(notice["message_id"]), verify)
    await app.client.wait_for_message(uid, contains="승인되었습니다")
    await app.settle()
    edited = [
        m for m in await app.client.messages(staff_chat) if m["message_id"] == notice["message_id"]
    ]
    assert "최도윤" in str(edited[0].get("text"))

    await app.client.send_text(uid, uid, "/away")
    await app.client.wait_for_message(uid, contains="부재 중")
    await app.client.send_text(uid, uid, "/available")
    await app.client.wait_for_message(uid, contains="초대를 받을 수 있는")
