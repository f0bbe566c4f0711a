"""The layers' import rules (README "Architecture", docs/architecture.md), read from the source.

- services/ depend on ports only: no import of a concrete adapter, botocore or boto3, anywhere in
  the module (inside functions and TYPE_CHECKING blocks included);
- adapters/ never import services/ (shared types live in domain/);
- domain/ and documents/ do no I/O: no adapters, services, api, web, botocore or boto3;
- no import circle between chalicelib's modules, whether the imports are made when a module loads
  or deferred into a function (a deferred import only hides a circle until the function runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"

_FORBIDDEN = {
    "services": ("chalicelib.adapters", "botocore", "boto3"),
    "adapters": ("chalicelib.services",),
    "domain": ("chalicelib.adapters", "chalicelib.services", "chalicelib.api", "chalicelib.web", "botocore", "boto3"),
    "documents": (
        "chalicelib.adapters",
        "chalicelib.services",
        "chalicelib.api",
        "chalicelib.web",
        "botocore",
        "boto3",
    ),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(path: Path, *, load_time_only: bool, module: str = "", run_time_only: bool = False) -> set[str]:
    """Modules ``path`` imports; with ``load_time_only``, leave out imports in functions and in
    ``if TYPE_CHECKING:`` blocks (they cannot make an import circle at load time); with
    ``run_time_only``, leave out only the ``TYPE_CHECKING`` ones (never imported at all)."""
    module = module or _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if load_time_only and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            type_only = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            if (load_time_only or run_time_only) and type_only:
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, child, path.name == "__init__.py")
                found.add(target)
                # ``from chalicelib.services import outbox`` imports a module, not a name.
                found.update(f"{target}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return found


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _breaking() -> set[tuple[str, str]]:
    broken = set()
    for path in _sources():
        layer = path.relative_to(PACKAGE).parts[0]
        forbidden = _FORBIDDEN.get(layer)
        if not forbidden:
            continue
        for name in _imports(path, load_time_only=False):
            for prefix in forbidden:
                if name == prefix or name.startswith(prefix + "."):
                    broken.add((str(path.relative_to(ROOT)), f"{layer} imports {prefix}"))
    return broken


def test_each_layer_imports_only_what_it_may() -> None:
    assert sorted(_breaking()) == []


@pytest.mark.parametrize("load_time_only", [True, False], ids=["at-load", "deferred-too"])
def test_no_import_circle_between_chalicelib_modules(load_time_only: bool) -> None:
    modules = {_module_name(path): path for path in _sources()}
    graph = {
        name: {
            m for m in _imports(path, load_time_only=load_time_only, run_time_only=True) if m in modules and m != name
        }
        for name, path in modules.items()
    }
    # A package's __init__ is loaded before its modules; importing the package is not a circle.
    for name, targets in graph.items():
        targets -= {p for p in targets if name.startswith(p + ".")}
    circles = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" → ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert circles == []


def test_the_rules_see_an_import_made_inside_a_function(tmp_path: Path) -> None:
    """The reader finds what the rules are about: deferred and aliased imports count too."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from chalicelib.adapters.dynamo import key\n"
        "def f():\n    import botocore.exceptions as b\n    return b\n",
        encoding="utf-8",
    )
    every = _imports(source, load_time_only=False, module="probe")
    assert {"chalicelib.adapters.dynamo", "botocore.exceptions"} <= every
    assert not {"chalicelib.adapters.dynamo", "botocore.exceptions"} & _imports(
        source, load_time_only=True, module="probe"
    )
