"""The alias's function URL: auth type, CORS, and the public permissions for auth NONE.

The tool owns the function URL of the aliases it manages: with no `url` trigger for an
alias, an existing URL on that alias is deleted.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..model import Trigger
from ..triggers_config import CORS_KEYS
from .common import Context, Grant, Target, is_not_found


def auth_of(trigger: Trigger) -> str:
    return str(trigger.settings.get("auth") or "NONE")


def cors_of(trigger: Trigger) -> dict[str, Any]:
    """The API's Cors from the trigger's `cors` (a mapping; `true` allows every origin)."""
    cors = trigger.settings.get("cors") or {}
    if cors is True:
        cors = {"allow_origins": ["*"]}
    # triggers_config checked it: `true` or a mapping of known keys
    result = {}
    for key, value in cors.items():
        name = CORS_KEYS.get(str(key), str(key))
        if name in CORS_KEYS.values():
            result[name] = [value] if isinstance(value, str) and name != "MaxAge" else value
    return _normal_cors(result)


def _normal_cors(cors: dict[str, Any] | None) -> dict[str, Any]:
    """CORS without empty fields, lists sorted: what AWS answers and what was asked compare equal."""
    normal = {}
    for key, value in (cors or {}).items():
        if value in (None, [], False, 0, ""):
            continue
        normal[key] = sorted(value) if isinstance(value, list) else value
    return normal


def grants(target: Target, triggers: list[Trigger]) -> list[Grant]:
    if not triggers or auth_of(triggers[0]) != "NONE":
        return []
    # Public URLs need both statements since October 2025: InvokeFunctionUrl for the URL
    # and InvokeFunction restricted to calls that come through the URL.
    return [
        Grant(target.sid("url"), "url", "*", f"url permission: public access to {target.alias}'s URL",
              action="lambda:InvokeFunctionUrl", extra={"FunctionUrlAuthType": "NONE"}),
        Grant(target.sid("urlinvoke"), "url", "*", f"url permission: invoke {target.alias} through its URL",
              action="lambda:InvokeFunction", extra={"InvokedViaFunctionUrl": True}),
    ]


def current(ctx: Context) -> dict[str, Any] | None:
    if not ctx.target.exists:
        return None
    try:
        return ctx.client("lambda").get_function_url_config(FunctionName=ctx.target.function.name,
                                                            Qualifier=ctx.target.alias)
    except ClientError as error:
        if is_not_found(error):
            return None
        raise


def describe(auth: str, cors: dict[str, Any]) -> str:
    text = f"url: function URL (auth {auth})"
    return text + f" with CORS {', '.join(sorted(cors))}" if cors else text


def reconcile(ctx: Context, triggers: list[Trigger]) -> None:
    client = ctx.client("lambda")
    have = current(ctx)
    where = {"FunctionName": ctx.target.function.name, "Qualifier": ctx.target.alias}
    if not triggers:
        if have is not None:
            ctx.change("url", "delete", f"url: function URL (auth {have.get('AuthType')})", detail=have.get("FunctionUrl"))
            if ctx.apply:
                client.delete_function_url_config(**where)
        return
    trigger = triggers[0]
    auth, cors = auth_of(trigger), cors_of(trigger)
    if have is None:
        url = None
        if ctx.apply:
            extra = {"Cors": cors} if cors else {}
            url = client.create_function_url_config(**where, AuthType=auth, **extra)["FunctionUrl"]
        ctx.change("url", "create", describe(auth, cors), detail=url)
    elif have.get("AuthType") != auth or _normal_cors(have.get("Cors")) != cors:
        url = have.get("FunctionUrl")
        if ctx.apply:
            url = client.update_function_url_config(**where, AuthType=auth, Cors=cors)["FunctionUrl"]
        ctx.change("url", "update", describe(auth, cors), detail=url)


def wired(ctx: Context, triggers: list[Trigger]) -> list[dict[str, Any]]:
    have = current(ctx)
    if have is None:
        return []
    return [{"kind": "url", "target": have.get("FunctionUrl"), "alias": ctx.target.alias,
             "description": describe(str(have.get("AuthType")), _normal_cors(have.get("Cors")))}]
