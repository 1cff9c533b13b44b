"""The package's layout: no import cycles between its modules, and short modules."""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "placement_engine"
MAX_LINES = 450


def modules(package: Path) -> dict[str, Path]:
    """Every module of ``package`` by its import name; a package by the name of its ``__init__``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def node(name: str, files: dict[str, Path]) -> str:
    """A module's label in the graph: a package shows as its ``__init__``, so re-exports read as edges out of it."""
    return f"{name}.__init__" if files[name].name == "__init__.py" else name


def _base(name: str, is_package: bool, imported: str | None, level: int) -> str:
    """The absolute name of the module an ``import`` or ``from ... import`` names, relative ones resolved."""
    if level == 0:
        return imported or ""
    package = name if is_package else name.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{imported}" if imported else base


def imports(name: str, path: Path, files: dict[str, Path]) -> list[tuple[str, int]]:
    """The modules of the package that ``name`` imports anywhere (inside functions too), with the line."""
    is_package = path.name == "__init__.py"
    found = []
    for statement in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(statement, ast.Import):
            targets = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = _base(name, is_package, statement.module, statement.level)
            # `from pkg import sub` imports the submodule; `from pkg import name` runs only pkg's __init__
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in statement.names]
        else:
            continue
        found += [(target, statement.lineno) for target in targets if target in files]
    return found


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """Each module -> the modules it imports, each with the line of its shallowest such import (module level first)."""
    files = modules(package)
    graph: dict[str, dict[str, int]] = {node(name, files): {} for name in files}
    for name, path in files.items():
        edges = graph[node(name, files)]
        for target, line in imports(name, path, files):
            # a package's __init__ naming itself (`from . import x`, x its own name) is no dependency
            if target != name:
                edges.setdefault(node(target, files), line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[str]:
    """The cycle each back edge of a depth-first search closes, as 'a -> b (line n of a) -> ... -> a'.

    Every group of modules that import one another has a back edge, so each group shows up.
    """
    found, done, path = [], set(), []

    def visit(module: str) -> None:
        path.append(module)
        for target in graph[module]:
            if target in path:
                loop = path[path.index(target) :] + [target]
                found.append(" -> ".join([target] + [f"{b} (line {graph[a][b]} of {a})" for a, b in pairwise(loop)]))
            elif target not in done:
                visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return found


def test_the_graph_follows_the_import_rules(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "from .a import A\nfrom . import b\n",
        "a.py": "import os\nfrom .b import B\n\ndef late():\n    from .sub import deep\n",
        "b.py": "B = 1\n",
        "c.py": "from . import A\nfrom pkg.sub import inner\nimport pkg.sub.deep\n",
        "sub/__init__.py": "from .inner import X\n",
        "sub/inner.py": "from .. import b\nX = 2\n",
        "sub/deep.py": "from ..sub import X\n",
    }
    for name, text in sources.items():
        (package / name).write_text(text)
    graph = import_graph(package)
    assert {(source, target) for source, targets in graph.items() for target in targets} == {
        ("pkg.__init__", "pkg.a"),  # a re-export
        ("pkg.__init__", "pkg.b"),  # `from . import b`: b is a submodule
        ("pkg.a", "pkg.b"),  # a sibling
        ("pkg.a", "pkg.sub.deep"),  # inside a function
        ("pkg.c", "pkg.__init__"),  # `from . import A`: A is a name of the __init__
        ("pkg.c", "pkg.sub.inner"),
        ("pkg.c", "pkg.sub.deep"),
        ("pkg.sub.__init__", "pkg.sub.inner"),
        ("pkg.sub.inner", "pkg.b"),
        ("pkg.sub.deep", "pkg.sub.__init__"),  # `from ..sub import X`: X is a name
    }
    assert cycles(graph) == []
    (package / "b.py").write_text("from . import A\n")  # the name re-exported from a, which imports b
    assert cycles(import_graph(package)) == [
        "pkg.__init__ -> pkg.a (line 1 of pkg.__init__) -> pkg.b (line 2 of pkg.a) -> pkg.__init__ (line 1 of pkg.b)"
    ]


def test_no_module_imports_itself_through_others():
    found = cycles(import_graph(PACKAGE))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_module_is_longer_than_the_limit():
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines()) for path in modules(PACKAGE).values()}
    long = sorted((lines, path) for path, lines in lengths.items() if lines > MAX_LINES)
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(f"{path}: {lines}" for lines, path in reversed(long))


def test_the_docs_rule_table_is_the_registry_s() -> None:
    from placement_engine.rules import markdown_table

    text = (ROOT / "docs" / "objective.md").read_text(encoding="utf-8")
    table = text.split("<!-- rules table -->\n", 1)[1].split("\n<!-- end rules table -->", 1)[0]
    assert table == markdown_table()


def test_the_policy_rules_section_is_the_registry_s() -> None:
    from placement_engine.rules import switches
    from placement_engine.schema import Rules

    assert list(Rules.model_fields) == list(switches())
