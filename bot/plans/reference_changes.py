"""The changes of a plan step that moves consumers off an automatic export. Pure.

Two shapes, each as patches (``bot.plans.patches``, ``bot.plans.consumer_patches``) merged into one
diff per file, or ``None`` when any piece cannot be made (the planner then describes
the edit and the plan stays ``modelled``):

- **drop the reference**: every usage of the export in the consumers' source is removed
  (the first release of "detach, deploy the consumers alone, then the producer");
- **SSM route for an automatic reference**: the producer writes the value to an SSM
  parameter (and, in the first release, keeps the automatic export with ``export_value``:
  CloudFormation refuses to delete it while the deployed consumers import it); every
  usage reads the parameter instead; each consumer declares ``add_dependency`` on the
  producer, since an SSM read makes no dependency by itself (DOMAIN.md section 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.model import Change, Usage
from bot.plans import consumer_patches, patches
from bot.plans.patches import SourceSite


@dataclass(frozen=True)
class ProducerValue:
    """Where the exported value is made: its construct's site, id, L2 attribute and type."""

    site: SourceSite
    construct_id: str
    attribute: str
    resource_type: str

    @property
    def member(self) -> str | None:
        """The producer's member holding the construct (``strands_layer`` of ``self.strands_layer``)."""
        stmt = patches.statement(self.site)
        return stmt.target.rsplit(".", 1)[-1] if stmt is not None and stmt.target else None


def _by_site(usages: Sequence[Usage], sources: Mapping[str, SourceSite]) -> list[tuple[SourceSite, list[Usage]]] | None:
    groups: dict[str, tuple[SourceSite, list[Usage]]] = {}
    for usage in usages:
        site = sources.get(usage.construct_path or "")
        if site is None:
            return None
        groups.setdefault(usage.construct_path or "", (site, []))[1].append(usage)
    return list(groups.values()) or None


def _texts(sites: Sequence[SourceSite]) -> dict[str, str]:
    return {site.path: site.text for site in sites}


def drop_reference_changes(usages: Sequence[Usage], sources: Mapping[str, SourceSite],
                           member: str | None) -> list[Change] | None:
    """Patches removing every usage from the consumers' source."""
    groups = _by_site(usages, sources)
    if groups is None:
        return None
    changes = []
    for site, group in groups:
        change = consumer_patches.drop_reference_patch(site, group, member)
        if change is None:
            return None
        changes.append(change)
    return patches.merged_by_file(changes, _texts([site for site, _ in groups]))


def ssm_route_changes(value: ProducerValue, usages: Sequence[Usage], sources: Mapping[str, SourceSite],
                      parameter: str, *, keep_export: bool,
                      dependencies: Sequence[tuple[SourceSite, SourceSite, str, str]]) -> list[Change] | None:
    """The producer writes ``parameter`` (keeping the export when asked), the usages read it,
    and each (consumer site, producer site, consumer id, producer id) declares the dependency."""
    groups = _by_site(usages, sources)
    if groups is None:
        return None
    write = patches.ssm_write_patch(value.site, value.construct_id, value.attribute, parameter, keep_export)
    if write is None:
        return None
    changes = [write]
    for site, group in groups:
        read = consumer_patches.ssm_read_patch(site, group, value.member, parameter, value.resource_type,
                                               value.attribute)
        if read is None:
            return None
        changes.append(read)
    for consumer_site, producer_site, consumer_id, producer_id in dependencies:
        if patches.declares_dependency(consumer_site, producer_site):
            continue  # the app declares it already
        dependency = patches.add_dependency_patch(consumer_site, producer_site, consumer_id, producer_id)
        if dependency is None:
            return None
        changes.append(dependency)
    sites = [value.site, *(s for s, _ in groups), *(d[0] for d in dependencies)]
    return patches.merged_by_file(changes, _texts(sites))
