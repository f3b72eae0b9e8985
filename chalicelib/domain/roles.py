"""Roles inside an organization, ordered by what they may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # read only
    USER = "user"  # services and incident actions
    ADMIN = "admin"  # everything

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANKS = {Role.VIEWER: 0, Role.USER: 1, Role.ADMIN: 2}
