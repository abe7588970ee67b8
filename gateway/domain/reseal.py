"""What ``signalgate reseal`` did, as the one line it prints and its exit code. Pure.

Reseal seals every stored provider secret anew under the current ``[gateway] secret_key`` (see
:mod:`gateway.domain.sealing`); a value that opens under neither the current key nor any of
``previous_secret_keys`` is left as it is and named (org and field, never the value).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ResealSummary:
    resealed: int = 0
    orgs: set[str] = field(default_factory=set)  # the orgs with at least one value resealed
    unopened: list[tuple[str, str]] = field(default_factory=list)  # (org, field) in no key

    def add(self, org: str, resealed: int, unopened: list[str]) -> None:
        """One record's outcome: how many of its values were written resealed, which did not open."""
        if resealed:
            self.resealed += resealed
            self.orgs.add(org)
        self.unopened.extend((org, name) for name in unopened)

    @property
    def exit_code(self) -> int:
        return 1 if self.unopened else 0

    def line(self) -> str:
        """``resealed N values in M orgs; K values open under no key[: org/field, ...]``."""
        text = (
            f"resealed {self.resealed} values in {len(self.orgs)} orgs; {len(self.unopened)} values open under no key"
        )
        if self.unopened:
            text += ": " + ", ".join(f"{org}/{name}" for org, name in self.unopened)
        return text
