"""Packaging: a function's source and requirements in, a deterministic deployment zip out.

files.py picks the source files, the function's runtime (runtimes/) installs its
dependencies for the Lambda platform into the cache, archive.py assembles the zip
(zipfmt.py writes it, limits.py enforces Lambda's sizes), the runtime checks the
handler, and build.py ties it together.
"""

from .build import Artifact, build_artifact, left_out_text

__all__ = ["Artifact", "build_artifact", "left_out_text"]
