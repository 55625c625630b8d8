"""The layering rules of docs/architecture.md, checked on the source: `index/` imports nothing
of `bot/` or Telegram, `index.storage` nothing of the layers above it, and no module imports
itself back at run time through others (no import cycles; an import under `if TYPE_CHECKING:`,
which only a type checker follows, may close a loop of types, as context ↔ registry)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    return {module_name(path): path
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _nodes(tree: ast.AST, *, runtime_only: bool) -> list[ast.AST]:
    """Every node of the tree, without `if TYPE_CHECKING:` blocks when `runtime_only`."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if not (runtime_only and _is_type_checking_block(child)):
                todo.append(child)
    return found


def imported_names(path: Path, name: str, *, runtime_only: bool = False) -> set[str]:
    """Every module `path` imports, anywhere in the file, as absolute dotted names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _nodes(tree, runtime_only=runtime_only):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph(*, runtime_only: bool = False) -> dict[str, set[str]]:
    """Module → the modules of ours it imports (a `from pkg import name` of a submodule
    counts as importing the submodule)."""
    modules = our_modules()
    return {name: {imported for imported in imported_names(path, name, runtime_only=runtime_only)
                   if imported in modules and imported != name}
            for name, path in modules.items()}


def test_index_imports_nothing_of_the_bot_or_telegram() -> None:
    for name, path in our_modules().items():
        if name.split(".")[0] != "index":
            continue
        for imported in imported_names(path, name):
            top = imported.split(".")[0]
            assert top not in ("bot", "telegram"), f"{name} imports {imported}"


@pytest.mark.parametrize("layer, above", [
    ("index.storage", ("index.qa", "index.indexer", "index.library", "index.evaluate")),
    ("index.qa", ("index.indexer", "index.library", "index.evaluate")),
    ("index.text", ("index.qa", "index.storage", "index.indexer", "index.library")),
])
def test_lower_layers_import_nothing_above_them(layer: str, above: tuple[str, ...]) -> None:
    for name, imports in import_graph().items():
        if name == layer or name.startswith(layer + "."):
            wrong = sorted(i for i in imports if i.startswith(above))
            assert not wrong, f"{name} imports {wrong} from a layer above it"


def test_there_are_no_import_cycles() -> None:
    graph = import_graph(runtime_only=True)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, "import cycle: " + " → ".join(
            [*visiting[visiting.index(name):], name])
        visiting.append(name)
        for imported in sorted(graph[name]):
            # A package's __init__ re-exporting its submodules is not a cycle of concern.
            if not (imported.startswith(name + ".")):
                visit(imported)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
