"""Lambda's rules that span fields or resources (its service model states the simple limits)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from . import Violation

# The whole request body of CreateFunction/UpdateFunctionCode, where the zip travels base64-encoded
# in JSON: 50 MiB of base64 (69,905,067 bytes), envelope included.
REQUEST_LIMIT = 69_905_067
# What the JSON around the base64 zip can take: field names, the architecture, a RevisionId.
REQUEST_ENVELOPE = 64 * 1024
ENVIRONMENT_LIMIT = 4096  # bytes of the variables' JSON
ALIAS_DESCRIPTION_LIMIT = 256
FUNCTION_DESCRIPTION_LIMIT = 256
TAGS_PER_RESOURCE = 50
TAG_KEY_LIMIT = 128
TAG_VALUE_LIMIT = 256
SQS_BATCH_WITHOUT_WINDOW = 10
SQS_FIFO_BATCH = 10


def request_too_large(operation: str) -> Violation:
    return Violation("RequestEntityTooLargeException",
                     f"Request must be smaller than {REQUEST_LIMIT} bytes for the {operation} operation", 413)


def largest_direct_upload() -> int:
    """The largest zip whose direct upload fits (a little under 50 MiB)."""
    return (REQUEST_LIMIT - REQUEST_ENVELOPE) // 4 * 3


def direct_upload_fits(zip_size: int) -> bool:
    """Whether a zip of this size fits a direct upload: its base64 form plus the JSON around it,
    with a margin, stays under the request cap (the 50 MB that AWS quotes is the base64 size)."""
    return 4 * math.ceil(zip_size / 3) + REQUEST_ENVELOPE <= REQUEST_LIMIT


def environment_size(variables: Mapping[str, str]) -> int:
    """What Lambda measures against the 4 KB limit: the variables as one JSON object."""
    return len(json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def environment_violation(variables: Mapping[str, str]) -> Violation | None:
    if environment_size(variables) <= ENVIRONMENT_LIMIT:
        return None
    measured = json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False)
    return Violation("InvalidParameterValueException",
                     "Lambda was unable to configure your environment variables because the environment variables "
                     f"you have provided exceeded the 4KB limit. String measured: {measured}")


def sqs_mapping_violations(batch_size: int, window: int, fifo: bool) -> list[Violation]:
    """CreateEventSourceMapping/UpdateEventSourceMapping on an SQS queue."""
    found = []
    if fifo and window:
        found.append(Violation("InvalidParameterValueException", "Batching window is not supported for FIFO queues"))
    if fifo and batch_size > SQS_FIFO_BATCH:
        # The exact wording AWS uses here is not published; the code and the limit are.
        found.append(Violation("InvalidParameterValueException",
                               f"Maximum batch size must be between 1 and {SQS_FIFO_BATCH} inclusive for FIFO queues"))
    elif batch_size > SQS_BATCH_WITHOUT_WINDOW and not window:
        found.append(Violation("InvalidParameterValueException",
                               "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
                               "greater than 10"))
    return found


def visibility_violation(visibility_timeout: int, function_timeout: int) -> Violation | None:
    """A queue whose messages become visible again before the function may have finished."""
    if visibility_timeout >= function_timeout:
        return None
    return Violation("InvalidParameterValueException",
                     f"Queue visibility timeout: {visibility_timeout} seconds is less than Function timeout: "
                     f"{function_timeout} seconds")


def routing_violation(function_version: str, weights: Mapping[str, float]) -> Violation | None:
    """An alias may send a share of its traffic to one other published version, never with $LATEST."""
    if not weights:
        return None
    if function_version == "$LATEST" or "$LATEST" in weights:
        return Violation("InvalidParameterValueException",
                         "$LATEST is not supported for an alias pointing to more than 1 version")
    if len(weights) > 1:
        return Violation("InvalidParameterValueException",
                         "Number of items in AdditionalVersionWeights cannot be greater than 1")
    if function_version in weights:
        return Violation("InvalidParameterValueException",
                         "Alias cannot point to the same version twice")
    return None


def tag_violations(tags: Mapping[str, str]) -> list[str]:
    """What is wrong with a function's tags, in words (each a reason AWS refuses TagResource)."""
    found = []
    if len(tags) > TAGS_PER_RESOURCE:
        found.append(f"{len(tags)} tags; a function may have at most {TAGS_PER_RESOURCE}")
    for key, value in tags.items():
        if len(key) > TAG_KEY_LIMIT:
            found.append(f"tag key {key[:20]!r}... is {len(key)} characters; at most {TAG_KEY_LIMIT}")
        if len(value) > TAG_VALUE_LIMIT:
            found.append(f"tag {key!r}: value is {len(value)} characters; at most {TAG_VALUE_LIMIT}")
        if key.lower().startswith("aws:"):
            found.append(f"tag key {key!r}: the aws: prefix is reserved for AWS")
    return found


# --- rules the sandbox enforces on the wire (each a Violation with AWS's code and text) -------

INVOKE_PAYLOAD_LIMIT = 6 * 1024 * 1024  # a synchronous Invoke's request payload
ROLE_NOT_ASSUMABLE = Violation("InvalidParameterValueException",
                               "The role defined for the function cannot be assumed by Lambda.")
SAME_ROLE = Violation("InvalidParameterValueException", "Specified versions must be associated with the same execution role")


def invoke_too_large() -> Violation:
    # The text Lambda answers for a synchronous payload over 6 MB; the code and the limit are documented.
    return Violation("RequestEntityTooLargeException",
                     f"Request must be smaller than {INVOKE_PAYLOAD_LIMIT} bytes for the InvokeFunction operation", 413)


def state_conflict(state: str) -> Violation:
    """A function or version that is not Active yet refuses invokes and updates."""
    return Violation("ResourceConflictException",
                     f"The operation cannot be performed at this time. The function is currently in the following "
                     f"state: {state}", 409)


def routing_roles_violation(roles: Mapping[str, str]) -> Violation | None:
    """A weighted alias whose versions (version -> role ARN) do not all run as the same role."""
    return SAME_ROLE if len(set(roles.values())) > 1 else None


def tags_violation(tags: Mapping[str, str]) -> Violation | None:
    """The tags a function would have after the request (existing and new ones together).

    Lengths and characters are the service model's and checked with it; these are the
    resource-wide rules. The code is AWS's; the wording of these two messages is ours (AWS
    does not publish it)."""
    if len(tags) > TAGS_PER_RESOURCE:
        return Violation("InvalidParameterValueException",
                         f"Number of tags exceeds resource tag limit: {len(tags)} tags, at most {TAGS_PER_RESOURCE}")
    reserved = sorted(key for key in tags if key.lower().startswith("aws:"))
    if reserved:
        return Violation("InvalidParameterValueException",
                         f"Tag keys starting with 'aws:' are reserved for AWS use: {reserved[0]}")
    return None
