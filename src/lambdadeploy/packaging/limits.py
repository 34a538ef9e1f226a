"""Lambda's package size limits, and errors that say what to cut.

A bare "package too large" sends the user digging; these errors list the ten
largest contributors (a dependency by its top-level package, own code by its
top-level path) and the ways out. The limits are module constants so tests
can lower them instead of packing 250 MB.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from ..awsrules.lambda_api import REQUEST_LIMIT, largest_direct_upload
from ..config.model import FunctionConfig
from ..errors import PackagingError
from .zipfmt import RawEntry

MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # the function plus its layers, unzipped
# The largest zip a direct upload takes: AWS caps the whole request at 69,905,067 bytes, and the zip
# travels base64-encoded inside JSON, so this is a little under 50 MiB (awsrules/lambda_api.py).
MAX_DIRECT_UPLOAD_BYTES = largest_direct_upload()
TOP_CONTRIBUTORS = 10

_DIST_INFO = re.compile(r"^(.+?)-[^-]+\.(dist-info|egg-info)$")


def check_limits(fn: FunctionConfig, entries: list[RawEntry], own: set[str], zipped: int) -> bool:
    """Raise PackagingError when a limit is exceeded; True when the zip must go through S3."""
    unzipped = sum(e.size for e in entries)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PackagingError(
            f"{fn.key}: package is {mb(unzipped)} unzipped, over Lambda's "
            f"{mb(MAX_UNZIPPED_BYTES)} limit. Largest contributors (unzipped):\n"
            + _table(entries, own, lambda e: e.size),
            hint="drop what the function does not need: `exclude:` or .lambdaignore for your "
            "files, `strip: [tests]` for dependencies' test suites, or move large "
            "dependencies into a layer (`layers:`)",
        )
    if zipped <= MAX_DIRECT_UPLOAD_BYTES:
        return False
    if fn.s3_bucket:
        return True
    raise PackagingError(
        f"{fn.key}: package is {mb(zipped)} zipped, over the {mb(MAX_DIRECT_UPLOAD_BYTES)} a direct upload takes "
        f"(AWS caps the request, the zip base64-encoded, at {REQUEST_LIMIT:,} bytes). Largest contributors (zipped):\n"
        + _table(entries, own, lambda e: e.compressed_size),
        hint="set `s3_bucket:` to upload through S3 (up to 250 MB unzipped), or make it "
        "smaller: `exclude:` or .lambdaignore, `strip: [tests]`, or a layer (`layers:`)",
    )


def contributors(
    entries: list[RawEntry], own: set[str], size: Callable[[RawEntry], int]
) -> list[tuple[str, int]]:
    """The largest contributors as (label, bytes), biggest first, ties by label."""
    totals: dict[str, int] = defaultdict(int)
    for e in entries:
        totals[_label(e.name, e.name in own)] += size(e)
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:TOP_CONTRIBUTORS]


def _table(entries: list[RawEntry], own: set[str], size: Callable[[RawEntry], int]) -> str:
    rows = contributors(entries, own, size)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label.ljust(width)}  {mb(n):>9}" for label, n in rows)


def _label(name: str, is_own: bool) -> str:
    """'numpy (dependency)' for numpy/, numpy.libs/ and numpy-2.1.dist-info/; 'src/ (your code)'."""
    top, sep, _ = name.partition("/")
    if is_own:
        return f"{top}{sep} (your code)"
    if top == "node_modules":  # Node.js: the package, e.g. '@img/sharp-linux-arm64 (dependency)'
        parts = name.split("/")
        return f"{'/'.join(parts[1:3] if parts[1].startswith('@') else parts[1:2])} (dependency)"
    m = _DIST_INFO.match(top)
    if m:
        top = m.group(1)
    top = top.removesuffix(".libs")
    if not sep:  # a single-module distribution, e.g. six.py
        top = top.removesuffix(".py")
    return f"{top.lower().replace('_', '-')} (dependency)"


def mb(n: int) -> str:
    """Bytes as MB the way Lambda counts them (MiB), e.g. '49.3 MB'."""
    return f"{n / (1024 * 1024):.1f} MB"
