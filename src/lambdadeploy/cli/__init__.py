"""The command line: parse options, call the workflows, render the results.

No AWS or file logic here. `main` is the console script; the commands live in
modules by what they act on: the project (project.py), aliases (deploying.py),
deployed functions (inspecting.py).
"""

from .group import cli, main

__all__ = ["cli", "main"]
