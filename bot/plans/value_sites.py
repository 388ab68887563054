"""Where an exported value comes from: its base resource, and the source line that creates it. Pure.

Strategies that patch the producer (keep the export, pass the value through SSM, drop a
consumer's reference) start from here. Only an L2 construct created directly in its stack
is located: ``self``/``this`` is then the stack.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.context import Context
from bot.core.model import Finding, Resource, Stack
from bot.plans import patches, reference_changes, snippets
from bot.plans.patches import SourceSite


class ValueSites:
    """The exports of the base assembly, indexed once (linear planning), and ``sources``: where
    constructs are created in head, by construct path."""

    def __init__(self, context: Context, sources: Mapping[str, SourceSite]) -> None:
        self.context = context
        self.sources = sources
        self._exports_index: dict[str, tuple[str | None, Stack]] | None = None
        self._head_by_name = {s.stack_name: s for s in context.head.all_stacks()}

    def exported_resource(self, export: str) -> tuple[Resource | None, Stack | None]:
        """The base resource behind an export's value, and its stack."""
        if self._exports_index is None:
            index: dict[str, tuple[str | None, Stack]] = {}
            for stack in self.context.base.all_stacks():
                for output in stack.outputs.values():
                    if output.export_name and output.export_name not in index:
                        index[output.export_name] = (_target(output.value), stack)
            self._exports_index = index
        found = self._exports_index.get(export)
        if found is None:
            return None, None
        target, stack = found  # only the asked export's resource is modelled
        return (stack.resources.get(target) if target else None), stack

    def old_value_gone(self, export: str) -> bool:
        """Whether no resource of head produces the export's base value (its logical id is gone)."""
        resource, base_stack = self.exported_resource(export)
        if resource is None or base_stack is None:
            return False
        head_stack = self._head_by_name.get(base_stack.stack_name)
        return head_stack is None or resource.logical_id not in head_stack.resources

    def value_site(self, export: str, sources: Mapping[str, SourceSite] | None = None
                   ) -> tuple[SourceSite, str, str] | None:
        """The site creating the exported construct (in ``sources``, head's by default), its
        construct id and the exported attribute."""
        resource, stack = self.exported_resource(export)
        if resource is None or stack is None or not resource.construct_path:
            return None
        exported = next(o for o in stack.outputs.values() if o.export_name == export)
        attribute = snippets.attribute(resource.type, exported.value)
        segments = resource.construct_path.split("/")
        # Only an L2 created directly in its stack: `self`/`this` is then the stack.
        if attribute is None or len(segments) < 3 or segments[-1] != "Resource" \
                or "/".join(segments[:-2]) != stack.hierarchical_id.replace("/", "/"):
            return None
        site = (self.sources if sources is None else sources).get(resource.construct_path)
        return (site, segments[-2], attribute) if site is not None else None

    def value_expression(self, finding: Finding) -> str | None:
        """The source expression of the exported value (``self.strands_layer.layer_version_arn``),
        or None when its construct cannot be located."""
        found = self.value_site(finding.export or "")
        if found is None:
            return None
        site, construct_id, attribute = found
        stmt = patches.statement(site)
        if stmt is None or stmt.target is None:
            return None
        return f"{stmt.target}.{snippets.member(attribute, site.language)}"

    def site_path(self, finding: Finding) -> str | None:
        found = self.value_site(finding.export or "")
        return found[0].path if found else None

    def producer_value(self, export: str, sources: Mapping[str, SourceSite]
                       ) -> reference_changes.ProducerValue | None:
        found = self.value_site(export, sources)
        resource, _ = self.exported_resource(export)
        if found is None or resource is None:
            return None
        return reference_changes.ProducerValue(*found, resource_type=resource.type)


def _target(value: object) -> str | None:
    """The logical id an output's value refers to (``Ref`` / ``Fn::GetAtt``)."""
    if isinstance(value, dict) and len(value) == 1:
        ref = value.get("Ref")
        if isinstance(ref, str):
            return ref
        got = value.get("Fn::GetAtt")
        if isinstance(got, list) and got and isinstance(got[0], str):
            return got[0]
    return None
