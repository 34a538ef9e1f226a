"""An example handler: greets the caller and says which alias served the request."""

import json
import os


def handler(event, context):
    name = (event or {}).get("name", "world")
    # The alias is the last part of the invoked ARN (function:NAME:ALIAS); reading it here,
    # instead of from a per-alias environment variable, keeps versions promotable.
    arn_parts = context.invoked_function_arn.split(":")
    served_by = arn_parts[7] if len(arn_parts) > 7 else "$LATEST"
    print(f"greeting {name} via {served_by}")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": f"{os.environ.get('GREETING', 'Hello')}, {name}!", "served_by": served_by}),
    }
