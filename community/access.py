"""Who may do what with a community."""

from __future__ import annotations

from storage.models.incidents import Incident

STAFF_ROLES = ("staff", "lead", "admin")
LEAD_ROLES = ("lead", "admin")


def is_staff(role: str | None) -> bool:
    """Tell whether the role belongs to the situation room."""
    return role in STAFF_ROLES


def is_lead(role: str | None) -> bool:
    """Tell whether the role may verify experts and open any community."""
    return role in LEAD_ROLES


def may_open(role: str | None, *, actor_id: int, actor_name: str, incident: Incident) -> bool:
    """A lead, or the staff member holding the incident, may open its community."""
    if is_lead(role):
        return True
    holder = (incident.holder or "").strip()
    return role == "staff" and bool(holder) and holder in (str(actor_id), actor_name)
