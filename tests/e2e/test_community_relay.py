"""Citizen ⇄ community through the bot: every answer reaches the citizen, each once."""

from __future__ import annotations

from tests.e2e.citizen_helpers import bot_texts
from tests.e2e.community_helpers import community_of, seed
from tests.e2e.conftest import E2E
from tests.e2e.staffroom_helpers import button_data, card, press, report_fire, topics


async def test_every_answer_from_the_community_reaches_the_citizen_once(app: E2E) -> None:
    """Two /tocitizen answers in the community topic are two messages to the citizen."""
    await seed(app)
    citizen = await report_fire(app)
    lead = app.world.person("최도윤")
    [topic] = await topics(app)
    thread_id = int(topic["message_thread_id"])
    shown = await card(app, thread_id)
    await press(app, lead.id, shown, button_data(shown, "com:open:"))
    incident_id = int(button_data(shown, "com:open:").rsplit(":", 1)[1])
    community = await community_of(app, incident_id)
    hub = app.world.experts_hub_id
    for words in (
        "창문을 닫고 젖은 수건으로 문틈을 막으세요",
        "계단으로 내려가지 말고 구조를 기다리세요",
    ):
        await app.client.send_text(
            lead.id, hub, f"/tocitizen {words}", message_thread_id=community.topic_id
        )
        await app.settle(timeout=30)
    texts = await bot_texts(app, citizen.id)
    assert sum("젖은 수건" in text for text in texts) == 1
    assert sum("구조를 기다리세요" in text for text in texts) == 1
