"""botocore's service models, for code outside aws/ that must read AWS's own API definitions.

The sandbox (local/) checks every request against the limits these models declare
(lengths, ranges, patterns, enums), so the limits are AWS's and never copied by hand.
What is returned is botocore's ServiceModel; callers read its shapes' ``type_name``,
``members``, ``metadata``, ``serialization`` and ``required_members`` and need not import
botocore themselves.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.lru_cache(maxsize=32)
def service_model(name: str) -> Any:
    """botocore's model of service `name` (its botocore name: "lambda", "cloudwatch", ...)."""
    with _lock:  # botocore's loader caches are not meant for concurrent first loads
        return _session().get_service_model(name)


def known_service(name: str) -> bool:
    """Whether botocore has a model for `name`."""
    return name in _session().get_available_services()
