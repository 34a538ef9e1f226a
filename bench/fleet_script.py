"""What a team writes instead of a deploy tool: a boto3 loop over the functions, in threads.

    python bench/fleet_script.py --endpoint URL --project DIR --alias dev --workers 10

The careful version of the script in AWS's examples: a reproducible zip (fixed
timestamps, so an unchanged function has an unchanged CodeSha256), GetFunction to skip
what is deployed already, UpdateFunctionCode and the `function_updated_v2` waiter,
PublishVersion, then UpdateAlias (CreateAlias the first time). It does less than
lambdadeploy (no smoke invoke before the alias moves, no configuration check, no role),
and uses boto3's default retry settings, as such a script does. It prints one JSON line:
{"deployed": n, "unchanged": n, "failed": {"name": "error"}}.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import yaml


def reproducible_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def deploy(client, name: str, folder: Path, alias: str, role: str, runtime: str) -> str:  # type: ignore[no-untyped-def]
    code = reproducible_zip(folder)
    sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
    try:
        current = client.get_function(FunctionName=name)["Configuration"]
    except client.exceptions.ResourceNotFoundException:
        client.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="app.handler",
                               Code={"ZipFile": code}, Timeout=30, MemorySize=256)
        client.get_waiter("function_active_v2").wait(FunctionName=name)
    else:
        if current["CodeSha256"] == sha:
            return "unchanged"
        client.update_function_code(FunctionName=name, ZipFile=code)
        client.get_waiter("function_updated_v2").wait(FunctionName=name)
    version = client.publish_version(FunctionName=name)["Version"]
    try:
        client.update_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    except client.exceptions.ResourceNotFoundException:
        client.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    return "deployed"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--alias", default="dev")
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--skip", default="", help="function keys to leave out, comma-separated")
    parser.add_argument("--role", default="arn:aws:iam::123456789012:role/fleet-script")
    args = parser.parse_args(argv)
    config = yaml.safe_load((args.project / "lambda.yaml").read_text())
    prefix = f"{config['project']}-script-"
    runtime = config["defaults"]["runtime"]
    client = boto3.client("lambda", endpoint_url=args.endpoint, region_name="us-east-1")
    names = sorted(set(config["functions"]) - set(args.skip.split(",")))

    def one(key: str) -> tuple[str, str]:
        try:
            return key, deploy(client, prefix + key, args.project / "functions" / key, args.alias, args.role, runtime)
        except Exception as error:  # a script reports and goes on
            return key, f"failed: {type(error).__name__}: {error}"

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = dict(pool.map(one, names))
    outcome = {
        "deployed": sum(r == "deployed" for r in results.values()),
        "unchanged": sum(r == "unchanged" for r in results.values()),
        "failed": {k: r for k, r in results.items() if r.startswith("failed")},
    }
    print(json.dumps(outcome))
    return 1 if outcome["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
