"""Injected faults: 429 storms, 5xx answers, slow answers, dropped webhook deliveries."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("429", "5xx", "slow", "drop_webhook")


@dataclass
class Fault:
    """One armed fault that fires on the next ``count`` matching calls."""

    kind: str
    count: int
    retry_after: int = 1
    delay: float = 1.0
    method: str | None = None
    status: int = 500


class FaultInjector:
    """Holds armed faults and hands them out to matching calls."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        """Arm a fault."""
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {KINDS}")
        self.faults.append(fault)

    def take(self, kinds: tuple[str, ...], method: str | None = None) -> Fault | None:
        """Consume one shot of the first armed fault of ``kinds`` matching ``method``."""
        for fault in self.faults:
            if fault.kind not in kinds:
                continue
            if fault.method and method and fault.method.lower() != method.lower():
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def clear(self) -> None:
        """Disarm everything."""
        self.faults.clear()
