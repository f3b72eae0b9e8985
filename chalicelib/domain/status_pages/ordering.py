"""The order things appear in on every document, so that the page, the JSON and the feed agree."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.status_pages.model import Component, Maintenance, MaintenanceState


def ordered_components(components: Iterable[Component]) -> list[Component]:
    """Ungrouped components first, then each group in the order of its first component; by position."""
    by_position = sorted(components, key=lambda c: (c.position, c.name, c.id))
    group_rank: dict[str | None, int] = {None: -1}
    for component in by_position:
        group_rank.setdefault(component.group, len(group_rank))
    return sorted(by_position, key=lambda c: group_rank[c.group])


def grouped_components(components: Iterable[Component]) -> list[tuple[str | None, list[Component]]]:
    """`ordered_components` cut into (group, components) runs; the ungrouped run has group None."""
    groups: list[tuple[str | None, list[Component]]] = []
    for component in ordered_components(components):
        if groups and groups[-1][0] == component.group:
            groups[-1][1].append(component)
        else:
            groups.append((component.group, [component]))
    return groups


def ordered_maintenances(maintenances: Iterable[Maintenance]) -> list[Maintenance]:
    return sorted(maintenances, key=lambda m: (m.state is not MaintenanceState.ACTIVE, m.starts_at, m.id))
