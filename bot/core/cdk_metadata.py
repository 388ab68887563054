"""The aws-cdk-lib version recorded in a template's ``CDKMetadata`` resource. Pure.

CDK adds an ``AWS::CDK::Metadata`` resource to each stack when version reporting is on
(the CLI's default). Its ``Analytics`` property is ``v2:deflate64:<base64>``: despite the
name, the base64 is of a *gzip* stream of a prefix-encoded list of ``<version>!<fqn>``
entries, common prefixes grouped in ``{}`` and items separated by ``,`` — e.g.
``2.275.0!aws-cdk-lib.{Stack,aws_lambda.LayerVersion},Python/3.12.3!jsii-runtime.Runtime``.
Source: aws-cdk-lib ``core/lib/private/metadata-resource.ts`` (``formatAnalytics``,
``prefixEncodeTrie``, and ``parsePrefixEncodedList``, which this decoder follows).

The string comes from an untrusted assembly: its size, the decompressed size and the
number of entries are bounded, and anything malformed reads as "unknown".
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable, Iterator

from bot.core import semver

METADATA_TYPE = "AWS::CDK::Metadata"
_PREFIX = "v2:deflate64:"
_MAX_ENCODED = 256 * 1024
_MAX_DECODED = 1024 * 1024
_MAX_ENTRIES = 20_000
_LIBRARY = "!aws-cdk-lib."


def entries(prefix_encoded: str) -> Iterator[str]:
    """The full ``<version>!<fqn>`` strings of a prefix-encoded list (iterative: no recursion)."""
    prefixes = [""]
    token: list[str] = []
    count = 0
    for char in prefix_encoded:
        if char == "{":
            prefixes.append(prefixes[-1] + "".join(token))
            token = []
        elif char in ",}":
            if token:
                count += 1
                yield prefixes[-1] + "".join(token)
            token = []
            if char == "}" and len(prefixes) > 1:
                prefixes.pop()
        else:
            token.append(char)
        if count >= _MAX_ENTRIES:
            return
    if token:
        yield prefixes[-1] + "".join(token)


def decode(analytics: str) -> str | None:
    """The prefix-encoded list inside an ``Analytics`` value, or None when it is not one."""
    if not analytics.startswith(_PREFIX) or len(analytics) > _MAX_ENCODED:
        return None
    payload = analytics[len(_PREFIX):].split(":", 1)[0]  # a 4th section (cdk migrate) is app info
    try:
        compressed = base64.b64decode(payload, validate=True)
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
        data = inflater.decompress(compressed, _MAX_DECODED)
    except (binascii.Error, ValueError, zlib.error):
        return None
    if inflater.unconsumed_tail:  # larger than the bound: refuse rather than read a part
        return None
    return data.decode("utf-8", errors="replace")


def library_version(analytics_values: Iterable[str]) -> str | None:
    """The one aws-cdk-lib version the ``Analytics`` values name; None when none or several."""
    found: set[str] = set()
    for analytics in analytics_values:
        text = decode(analytics)
        if text is None:
            continue
        for entry in entries(text):
            version, sep, _ = entry.partition(_LIBRARY)
            if sep and semver.is_version(version):
                found.add(version)
    return found.pop() if len(found) == 1 else None
