"""`init`: render the project templates into a folder, never overwriting unless asked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import __version__
from .errors import InvalidInputError

TEMPLATE_SUFFIX = ".j2"


def templates_root(kind: str = "project") -> Path:
    """The shipped templates of one kind ("project": Python, "node": Node.js): inside the wheel,
    or the repo's templates/ in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parents[1] / "templates"):
        if (candidate / kind).is_dir():
            return candidate / kind
    raise FileNotFoundError("lambdadeploy templates are missing from this installation")  # pragma: no cover


@dataclass(frozen=True)
class Scaffold:
    project: str
    function: str = "hello"
    runtime: str = "python3.12"
    templates: str = "project"  # the runtime family's folder of templates/ (Runtime.scaffold)


def project_name_for(folder: Path) -> str:
    """A valid project name from a folder name ('My App' -> 'my-app')."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", folder.resolve().name).strip("-").lower()
    return name or "app"


def render_files(scaffold: Scaffold) -> dict[Path, str]:
    """Relative path -> content of every file the scaffold creates."""
    root = templates_root(scaffold.templates)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    variables = {"project": scaffold.project, "function": scaffold.function, "runtime": scaffold.runtime,
                 "version": __version__}  # the CI workflow installs the version that wrote it
    files = {}
    for template in sorted(root.rglob("*" + TEMPLATE_SUFFIX)):
        relative = template.relative_to(root).as_posix()[: -len(TEMPLATE_SUFFIX)]
        target = Path(environment.from_string(relative).render(variables))
        files[target] = environment.from_string(template.read_text(encoding="utf-8")).render(variables)
    return files


def write(folder: Path, scaffold: Scaffold, *, force: bool = False) -> list[Path]:
    """Create the files in `folder`; refuse (exit 2) if any exists, unless `force`."""
    files = render_files(scaffold)
    existing = [path for path in files if (folder / path).exists()]
    if existing and not force:
        raise InvalidInputError(
            f"{folder}: would overwrite {', '.join(str(p) for p in existing)}",
            hint="use --force to overwrite, or init into an empty folder",
        )
    for path, content in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return sorted(files)
