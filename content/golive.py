"""What stops a deployment going live: region files that still hold the demo's placeholders.

A person in crisis is given the region's emergency number and services. In production
(``ENV=production``) the release refuses a region with a placeholder helpline, a placeholder
emergency number or none at all, and says what to change in which file. The demo keeps its
clearly marked placeholders.
"""

from __future__ import annotations

from content.schema import Library


def region_blockers(library: Library) -> list[str]:
    """Every reason a region cannot serve the public yet, in words a deployment's staff act on."""
    found = []
    for region in library.regions:
        where = f"region '{region.id}' (regions/{region.id}.yaml)"
        if region.emergency is None:
            found.append(
                f"{where} has no emergency number: add 'emergency: {{number: ...}}' with the local "
                "number for danger now"
            )
        elif region.emergency.placeholder:
            found.append(
                f"{where}: the emergency number {region.emergency.number} is a placeholder; put the "
                "real one and remove 'placeholder: true'"
            )
        for helpline in region.helplines:
            if helpline.placeholder:
                found.append(
                    f"{where}: helpline '{helpline.name}' is a placeholder; replace it with a real, "
                    "verified service and remove 'placeholder: true'"
                )
    return found
