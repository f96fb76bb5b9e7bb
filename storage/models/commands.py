"""Citizens' command messages, so an edit of one is not mistaken for a new report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from storage.models.base import TZDateTime


class CommandMessage(SQLModel, table=True):
    """A message of a citizen's private chat that was a command ("/cancel wrong address").

    Only ids and a time: the words are not kept. The message id is the private chat's own.
    """

    __tablename__ = "command_message"

    citizen_id: int = Field(
        sa_column=Column(Integer(), ForeignKey("citizen.id"), primary_key=True, autoincrement=False)
    )
    message_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    created_at: datetime = Field(sa_type=TZDateTime)
