"""The layout holds: one AWS door, dependencies that point down, no cycles, short functions.

Read from the source with `ast` (nothing is imported), so a lazy import inside a
function counts like any other; imports under `if TYPE_CHECKING:` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import lambdadeploy

SRC = Path(lambdadeploy.__file__).parent
# Lower numbers are lower layers: a module may import its own package or a lower one.
LAYERS = {
    "__init__": 0, "errors": 0,
    "paths": 1, "fields": 1, "diff": 1, "awsrules": 1,
    "aws": 2, "scaffold": 2,
    "runtimes": 3, "triggers": 3,
    "config": 4,
    "iam": 5, "packaging": 5,
    "local": 6,
    "engine": 7, "export": 7,
    "output": 8,
    "cli": 9,
    "__main__": 10,
}
FUNCTION_LINE_LIMIT = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path, modules: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """The modules `path` imports (absolute names), skipping `if TYPE_CHECKING:` blocks.
    `from P import x` counts as importing P.x when that is one of `modules`, else P."""
    tree = ast.parse(path.read_text())
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                candidate = f"{prefix}.{alias.name}"
                found.add(candidate if candidate in modules else prefix)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for path in SRC.rglob("*.py")}


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: {m for m in runtime_imports(path, set(modules)) if m in modules and m != name}
            for name, path in modules.items()}


def layer_of(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def test_only_the_aws_package_imports_boto3_or_botocore() -> None:
    offenders = sorted(
        f"{module_name(path)} imports {name}"
        for path in SRC.rglob("*.py") if "aws" not in path.relative_to(SRC).parts[:1]
        for name in runtime_imports(path) if name.split(".")[0] in ("boto3", "botocore")
    )
    assert offenders == []


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[list[str]] = []

    def walk(module: str) -> None:
        if module in visiting:
            cycles.append([*visiting[visiting.index(module):], module])
            return
        if module in done:
            return
        visiting.append(module)
        for target in sorted(edges[module]):
            walk(target)
        visiting.pop()
        done.add(module)

    for module in sorted(edges):
        walk(module)
    assert cycles == []


def test_dependencies_point_down() -> None:
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in graph().items() for target in targets
        if source.split(".")[:2] != target.split(".")[:2] and layer_of(target) >= layer_of(source)
        and target != "lambdadeploy"  # the package's __init__ holds only __version__
    )
    assert upward == []


def test_every_package_and_module_has_a_layer() -> None:
    tops = {module.split(".")[1] if "." in module else "__init__" for module in project_modules()}
    assert tops <= set(LAYERS), tops - set(LAYERS)


def test_long_functions_say_why() -> None:
    """No function over ~60 lines without the reason in its docstring ("Long because ...")."""
    unexplained = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                reason = "long because" in (ast.get_docstring(node) or "").lower()
                if length > FUNCTION_LINE_LIMIT and not reason:
                    unexplained.append(f"{module_name(path)}.{node.name}: {length} lines")
    assert unexplained == []


def test_the_checks_see_real_edges() -> None:
    """The graph is not vacuous: known imports are in it, a cycle would be found."""
    edges = graph()
    assert "lambdadeploy.aws.session" in edges["lambdadeploy.aws"]
    assert "lambdadeploy.engine.plan" in edges["lambdadeploy.engine.deploy"]
    assert "lambdadeploy.triggers.registry" in edges["lambdadeploy.config.validate"]
    assert layer_of("lambdadeploy.cli.app") > layer_of("lambdadeploy.engine.deploy") > layer_of("lambdadeploy.aws")
