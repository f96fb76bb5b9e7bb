"""The expert registry: disaster experts and agency liaisons who may join emergency communities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, String
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime, utcnow


class ExpertRole:
    """Who a registered person is: a field expert or a response agency's liaison."""

    EXPERT = "expert"
    AGENCY = "agency"

    ALL = (EXPERT, AGENCY)


def _ts(nullable: bool = True) -> Column:  # type: ignore[type-arg,unused-ignore]
    return Column(TZDateTime(), nullable=nullable)


class Expert(SQLModel, table=True):
    """A registered expert or liaison; only ``verified`` and ``available`` ones are invited."""

    __tablename__ = "expert"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(128), nullable=False))
    organisation: str = Field(default="", sa_column=Column(String(128), nullable=False))
    role: str = Field(default=ExpertRole.EXPERT, sa_column=Column(String(16), nullable=False))
    agency: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str = Field(default="ko", sa_column=Column(String(8), nullable=False))
    verified: bool = Field(default=False)
    verified_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    verified_at: datetime | None = Field(default=None, sa_column=_ts())
    available: bool = Field(default=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))

    def has_any_field(self, fields: set[str] | frozenset[str]) -> bool:
        """Tell whether this expert covers at least one of ``fields``."""
        return bool(set(self.fields) & set(fields))
