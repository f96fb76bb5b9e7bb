"""The expert registry: registration, verification by a lead, availability, CSV import.

Usage (inside the update's transaction)::

    expert = await register(session=session, telegram_user_id=42, now=now, staff_chat_id=-100,
                            registration=Registration(name="한지훈", organisation="소방청",
                                                      fields=["fire"]))
    await verify(session=session, expert_id=expert.id, verifier_id=7, approve=True, now=now)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from community.callbacks import VerifyExpert
from community.fields import AGENCIES, UnknownField, field_catalogue, parse_fields
from community.outgoing import button, send_text
from situation.texts import render
from storage.experts import get_expert, get_expert_by_user, list_experts, save_expert
from storage.models.base import utcnow
from storage.models.experts import Expert, ExpertRole
from storage.models.outbox import Priority

CSV_COLUMNS = ("telegram_user_id", "name", "organisation", "fields", "role", "agency", "language")


class RegistryError(ValueError):
    """A registry action is not possible; ``code`` names the message to show."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class Registration:
    """What a person tells the bot when registering."""

    name: str
    organisation: str = ""
    fields: list[str] = field(default_factory=list)
    role: str = ExpertRole.EXPERT
    agency: str | None = None
    language: str = "ko"


def _check(registration: Registration) -> None:
    if not registration.name.strip():
        raise RegistryError("expert_error_name")
    if registration.role not in ExpertRole.ALL:
        raise RegistryError("expert_error_role", registration.role)
    unknown = [name for name in registration.fields if name not in field_catalogue()]
    if unknown:
        raise RegistryError("expert_error_fields", ", ".join(unknown))
    if registration.role == ExpertRole.EXPERT and not registration.fields:
        raise RegistryError("expert_error_fields")
    if registration.role == ExpertRole.AGENCY and registration.agency not in AGENCIES:
        raise RegistryError("expert_error_agency", str(registration.agency))


def verify_buttons(expert: Expert, lang: str) -> list[list[dict[str, str]]]:
    """Return the verify/reject buttons for a pending expert."""
    assert expert.id is not None
    return [
        [
            button(render(lang, "expert_button_verify"), VerifyExpert(expert.id, "yes").pack()),
            button(render(lang, "expert_button_reject"), VerifyExpert(expert.id, "no").pack()),
        ]
    ]


async def register(
    *,
    session: AsyncSession,
    telegram_user_id: int,
    registration: Registration,
    now: datetime,
    staff_chat_id: int | None = None,
    staff_lang: str = "ko",
) -> Expert:
    """Create or update a registration; it waits for a lead's verification (leads are told)."""
    _check(registration)
    expert = await get_expert_by_user(session=session, telegram_user_id=telegram_user_id)
    if expert is None:
        expert = Expert(telegram_user_id=telegram_user_id, name="", created_at=now)
    expert.name = registration.name.strip()[:128]
    expert.organisation = registration.organisation.strip()[:128]
    expert.role = registration.role
    expert.agency = registration.agency if registration.role == ExpertRole.AGENCY else None
    expert.fields = list(registration.fields)
    expert.language = registration.language
    expert.verified = False
    expert.verified_by = None
    expert.verified_at = None
    expert.active = True
    expert.updated_at = now
    await save_expert(session=session, expert=expert)
    if staff_chat_id is not None:
        await send_text(
            session=session,
            chat_id=staff_chat_id,
            text=render(staff_lang, "expert_pending_notice", expert=expert),
            buttons=verify_buttons(expert, staff_lang),
        )
    return expert


async def verify(
    *, session: AsyncSession, expert_id: int, verifier_id: int, approve: bool, now: datetime
) -> Expert:
    """Verify (or reject and deactivate) a registration, and tell the person."""
    expert = await get_expert(session=session, expert_id=expert_id)
    if expert is None:
        raise RegistryError("expert_error_unknown", str(expert_id))
    expert.verified = approve
    expert.active = approve
    expert.verified_by = verifier_id
    expert.verified_at = now
    expert.updated_at = now
    await save_expert(session=session, expert=expert)
    name = "expert_verified" if approve else "expert_rejected"
    await send_text(
        session=session,
        chat_id=expert.telegram_user_id,
        text=render(expert.language, name, expert=expert),
        priority=Priority.CITIZEN_REPLY,
    )
    return expert


async def set_available(
    *, session: AsyncSession, telegram_user_id: int, available: bool, now: datetime
) -> Expert:
    """Mark a registered person available for invitations, or away."""
    expert = await get_expert_by_user(session=session, telegram_user_id=telegram_user_id)
    if expert is None:
        raise RegistryError("expert_not_registered")
    expert.available = available
    expert.updated_at = now
    await save_expert(session=session, expert=expert)
    return expert


async def greet_expert(
    *, session: AsyncSession, telegram_user_id: int, chat_id: int, lang: str
) -> bool:
    """Answer /start in a registered expert's private chat (status and the hub); False if none.

    In the registry's language, like every invitation (``lang``, the app's, is for others).
    """
    expert = await get_expert_by_user(session=session, telegram_user_id=telegram_user_id)
    if expert is None:
        return False
    await send_text(
        session=session,
        chat_id=chat_id,
        text=render(expert.language, "expert_start", expert=expert),
        priority=Priority.CITIZEN_REPLY,
    )
    return True


async def pending(*, session: AsyncSession) -> Sequence[Expert]:
    """Return active registrations waiting for verification."""
    return await list_experts(session=session, verified=False)


@dataclass
class ImportResult:
    """What an import did: rows created, rows updated, and errors by line number."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, RegistryError]] = field(default_factory=list)


def csv_language(value: str) -> str:
    """Return the catalogue language of a CSV ``language`` cell (empty: Korean), or refuse it."""
    code = value.strip().lower().replace("_", "-")
    if not code:
        return "ko"
    if code[:2] in ("ko", "en") and (len(code) == 2 or code[2] == "-"):
        return code[:2]
    raise RegistryError("expert_error_language", value.strip())


def _row_registration(row: dict[str, str]) -> tuple[int, Registration]:
    try:
        user_id = int((row.get("telegram_user_id") or "").strip())
    except ValueError as error:
        raise RegistryError("expert_error_user_id", row.get("telegram_user_id") or "") from error
    try:
        fields = parse_fields(row.get("fields") or "")
    except UnknownField as error:
        raise RegistryError("expert_error_fields", str(error)) from error
    role = (row.get("role") or ExpertRole.EXPERT).strip() or ExpertRole.EXPERT
    language = csv_language(row.get("language") or "")
    return user_id, Registration(
        name=(row.get("name") or "").strip(),
        organisation=(row.get("organisation") or "").strip(),
        fields=fields,
        role=role,
        agency=(row.get("agency") or "").strip() or None,
        language=language,
    )


async def import_rows(
    *,
    session: AsyncSession,
    rows: Iterable[dict[str, str]],
    now: datetime,
    verified: bool = True,
    verifier_id: int | None = None,
) -> ImportResult:
    """Register experts from CSV-like rows (an administrator's list counts as verified)."""
    result = ImportResult()
    for line, row in enumerate(rows, start=2):
        try:
            user_id, registration = _row_registration(row)
            _check(registration)
        except RegistryError as error:
            result.errors.append((line, error))
            continue
        expert = await get_expert_by_user(session=session, telegram_user_id=user_id)
        if expert is None:
            expert = Expert(telegram_user_id=user_id, name="", created_at=now)
            result.created += 1
        else:
            result.updated += 1
        expert.name = registration.name[:128]
        expert.organisation = registration.organisation[:128]
        expert.role = registration.role
        expert.agency = registration.agency
        expert.fields = registration.fields
        expert.language = registration.language
        expert.active = True
        expert.verified = verified
        expert.verified_by = verifier_id if verified else None
        expert.verified_at = now if verified else None
        expert.updated_at = now
        await save_expert(session=session, expert=expert)
    return result


async def import_csv(
    *, session: AsyncSession, source: IO[str], now: datetime, verified: bool = True
) -> ImportResult:
    """Register experts from a CSV file with the header of :data:`CSV_COLUMNS`."""
    reader = csv.DictReader(source)
    try:
        rows = list(reader)  # read whole first: a bad byte anywhere refuses the whole file
    except UnicodeDecodeError as error:
        raise RegistryError("expert_error_csv_encoding", f"byte {error.start}") from error
    missing = {"telegram_user_id", "name"} - set(reader.fieldnames or ())
    if missing:
        raise RegistryError("expert_error_csv_header", ", ".join(sorted(missing)))
    return await import_rows(session=session, rows=rows, now=now, verified=verified)


def _demo_entry(entry: Any) -> tuple[int, str, str]:
    if isinstance(entry, tuple):
        user_id, name, expert_field = entry
        return int(user_id), str(name), str(expert_field)
    return int(entry.id), str(entry.name), str(entry.field or "fire")


async def seed_demo_experts(
    *, session: AsyncSession, experts: Iterable[Any], now: datetime | None = None
) -> list[Expert]:
    """Register the demo world's experts as verified and available.

    ``experts`` holds ``(user_id, name, field)`` tuples or objects with ``id``, ``name`` and
    ``field`` (``bot.demo.Person``).
    """
    moment = now or utcnow()
    seeded = []
    for entry in experts:
        user_id, name, expert_field = _demo_entry(entry)
        expert = await get_expert_by_user(session=session, telegram_user_id=user_id)
        if expert is None:
            expert = Expert(telegram_user_id=user_id, name=name, created_at=moment)
        expert.name = name
        expert.organisation = "jikimi demo"
        expert.fields = [expert_field]
        expert.verified = True
        expert.verified_at = moment
        expert.available = True
        expert.active = True
        expert.updated_at = moment
        seeded.append(await save_expert(session=session, expert=expert))
    return seeded
