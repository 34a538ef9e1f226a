"""Packaging: a function's source and requirements in, a deterministic deployment zip out.

files.py picks the source files, deps.py installs requirements for the Lambda
platform into a cache (installer.py runs uv or pip, platform.py says which
wheels fit), archive.py assembles the zip (zipfmt.py writes it, limits.py
enforces Lambda's sizes) and build.py ties it together.
"""

from lambdadeploy.packaging.build import Artifact, build_artifact, default_cache_dir

__all__ = ["Artifact", "build_artifact", "default_cache_dir"]
