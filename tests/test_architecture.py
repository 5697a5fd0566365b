"""The import contract of ``critmat`` and the size limit of its presentation modules.

``docs/architecture.md`` states these rules and draws them; this file checks them on the source
text. Every module under ``src/critmat`` is parsed with :mod:`ast` (nothing is imported), and
every import counts: at module level, inside functions (lazy imports), under
``if TYPE_CHECKING:`` and ``importlib.import_module("critmat...")`` with a literal name. A
failure lists every offending import as ``module -> imported (file:line)`` under the rule it
breaks, so that one run shows the whole list.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "critmat"

# Bottom to top. A module may import its own layer and the layers below it, never one above.
# The root package (``critmat/__init__.py``, the version string) counts as ``__init__``.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "config"),
    ("reference",),
    ("sources",),
    ("store",),
    ("indicators",),
    ("risk", "scenarios"),
    ("pipeline",),
    ("platform",),
    ("stockpiles",),
    ("exports",),
    ("services",),
    ("reports",),
    ("server",),
    ("commands", "cli", "cli_output", "api", "web"),
)
LAYER_OF: dict[str, int] = {part: index for index, parts in enumerate(LAYERS) for part in parts}
TOP = len(LAYERS) - 1

DOMAIN = frozenset({"sources", "store", "indicators", "risk", "scenarios", "reference"})
PRESENTATION = frozenset({"commands", "cli", "cli_output", "api", "web", "reports", "server"})
CLI = frozenset({"commands", "cli", "cli_output"})
PLATFORM_MAY_IMPORT = frozenset({"platform", "config", "errors"})
# The composition root: the one module that mounts the API and the web into one app. It lives
# with the HTTP plumbing in ``server`` but sits in the top layer, beside what it mounts.
MOUNTS_BOTH = f"{PACKAGE}.server.app"
CLI_MAY_IMPORT_FROM_SERVER = frozenset({f"{PACKAGE}.server.app", f"{PACKAGE}.server.run"})

# Packages whose every module must stay under MAX_LINES lines of file text.
SIZE_LIMITED = ("cli", "commands", "api", "web")
MAX_LINES = 500


@dataclass(frozen=True)
class Import:
    """One import of a ``critmat`` module by another, where it is written."""

    importer: str
    imported: str
    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} ({self.file.relative_to(ROOT)}:{self.line})"


def module_files() -> dict[str, Path]:
    """Every module under ``src/critmat`` by dotted name (a package by its ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def is_package(module: str, modules: dict[str, Path]) -> bool:
    """Whether ``module`` is a package: an ``__init__.py`` or a folder of modules."""
    if modules[module].name == "__init__.py":
        return True
    return any(other.startswith(module + ".") for other in modules)


def known_module(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of ``name`` that is a module or a package (a folder of modules, with
    or without ``__init__.py``) of ours: ``critmat.store.Store`` -> ``critmat.store``,
    ``critmat.__version__`` -> ``critmat``."""
    parts = name.split(".")
    while len(parts) > 1 and not _is_ours(".".join(parts), modules):
        parts.pop()
    return ".".join(parts)


def _is_ours(name: str, modules: dict[str, Path]) -> bool:
    return name in modules or any(other.startswith(name + ".") for other in modules)


def imported_names(tree: ast.AST, importer: str, package: bool) -> Iterator[tuple[str, int]]:
    """Each dotted name ``tree`` imports (absolute, possibly ``module.attribute``) and its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = importer.split(".") if package else importer.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield (f"{base}.{alias.name}" if alias.name != "*" else base), node.lineno
        elif isinstance(node, ast.Call) and _is_import_call(node):
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield argument.value, node.lineno


def _is_import_call(node: ast.Call) -> bool:
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return name in {"import_module", "__import__"} and bool(node.args)


def import_graph() -> list[Import]:
    """Every import of one ``critmat`` module by another, in file and line order."""
    modules = module_files()
    edges: list[Import] = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = is_package(importer, modules)
        seen: set[tuple[str, int]] = set()
        for name, line in imported_names(tree, importer, package):
            if name != PACKAGE and not name.startswith(PACKAGE + "."):
                continue
            imported = known_module(name, modules)
            if imported == importer or (imported, line) in seen:
                continue
            seen.add((imported, line))
            edges.append(Import(importer, imported, path, line))
    return edges


def top_package(module: str) -> str:
    """``critmat.risk.geopolrisk`` -> ``risk``; the root package ``critmat`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def broken_rules(edge: Import) -> list[str]:
    """The rules of the contract that ``edge`` breaks (empty when it keeps them all)."""
    source, target = top_package(edge.importer), top_package(edge.imported)
    rules: list[str] = []
    if source not in LAYER_OF or target not in LAYER_OF:
        unknown = source if source not in LAYER_OF else target
        return [f"critmat.{unknown} is in no layer: place it in LAYERS and docs/architecture.md"]
    if layer_of(edge.imported) > layer_of(edge.importer):
        rules.append(
            f"layer order: {layer_name(edge.importer)} (layer {layer_of(edge.importer)}) "
            f"imports {layer_name(edge.imported)} (layer {layer_of(edge.imported)}, above it)"
        )
    if source in DOMAIN and (target == "services" or target in PRESENTATION):
        rules.append("domain packages import neither services nor any presentation package")
    if source == "platform" and target not in PLATFORM_MAY_IMPORT:
        rules.append("platform imports config and errors only")
    if {source, target} == {"api", "web"}:
        rules.append(f"api and web never import each other (only {MOUNTS_BOTH} mounts both)")
    if source in CLI and target in {"api", "web"}:
        rules.append("the CLI (cli, cli_output, commands) never imports api or web")
    if (
        source in CLI
        and target == "server"
        and known_server_module(edge.imported) not in CLI_MAY_IMPORT_FROM_SERVER
    ):
        rules.append("the CLI imports from server only server.app and server.run")
    if source == "server" and target in {"api", "web"} and edge.importer != MOUNTS_BOTH:
        rules.append(f"server imports api and web only in {MOUNTS_BOTH}")
    if source in {"api", "web"} and edge.imported == MOUNTS_BOTH:
        rules.append(f"api and web never import {MOUNTS_BOTH} (it imports the other one)")
    return rules


def layer_of(module: str) -> int:
    """The layer of ``module``: its top package's, but the top one for :data:`MOUNTS_BOTH`."""
    if module == MOUNTS_BOTH:
        return TOP
    return LAYER_OF[top_package(module)]


def layer_name(module: str) -> str:
    """How the layer message names ``module``: its top package, or ``server.app`` itself."""
    return "server.app" if module == MOUNTS_BOTH else top_package(module)


def known_server_module(module: str) -> str:
    """``critmat.server.app`` for ``critmat.server.app`` and anything below it."""
    return ".".join(module.split(".")[:3])


def report(violations: dict[str, list[Import]]) -> str:
    """The failure message: each broken rule, then every import that breaks it."""
    lines = [f"{sum(map(len, violations.values()))} imports break the import contract:"]
    for rule, edges in violations.items():
        lines.append(f"\n{rule} ({len(edges)}):")
        lines.extend(f"  {edge}" for edge in edges)
    return "\n".join(lines)


def test_the_parser_sees_lazy_relative_and_type_checking_imports() -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from ..store import analytics\n"
        "if TYPE_CHECKING:\n"
        "    from critmat.web import pages\n"
        "def later() -> None:\n"
        "    import critmat.api.routes.risk\n"
        "    importlib.import_module('critmat.services.context')\n"
    )
    names = list(imported_names(ast.parse(source), "critmat.risk.geopolrisk", package=False))
    assert names == [
        ("__future__.annotations", 1),
        ("typing.TYPE_CHECKING", 2),
        ("critmat.risk.sibling", 3),
        ("critmat.store.analytics", 4),
        ("critmat.web.pages", 6),
        ("critmat.api.routes.risk", 8),
        ("critmat.services.context", 9),
    ]


def test_imported_names_resolve_to_our_modules_and_packages() -> None:
    modules = {
        "critmat": SRC / "critmat" / "__init__.py",
        "critmat.store": SRC / "critmat" / "store" / "__init__.py",
        "critmat.server.app": SRC / "critmat" / "server" / "app.py",
    }
    assert known_module("critmat.__version__", modules) == "critmat"
    assert known_module("critmat.store.Store", modules) == "critmat.store"
    assert known_module("critmat.server", modules) == "critmat.server"  # folder, no __init__
    assert known_module("critmat.server.app.create_app", modules) == "critmat.server.app"


def test_every_rule_names_what_it_forbids() -> None:
    here = ROOT / "src" / "critmat" / "x.py"

    def rules(importer: str, imported: str) -> list[str]:
        return broken_rules(Import(importer, imported, here, 1))

    assert rules("critmat.risk.geopolrisk", "critmat.store.analytics") == []
    assert rules("critmat.web.pages", "critmat.services.context") == []
    assert rules("critmat.server.app", "critmat.web.pages") == []
    assert rules("critmat.commands.admin", "critmat.server.run") == []
    assert len(rules("critmat.store.analytics", "critmat.services.context")) == 2
    assert rules("critmat.api.routes.risk", "critmat.web.risk_pages")[0].startswith("api and web")
    assert rules("critmat.commands.assess", "critmat.web.assessments")[0].startswith("the CLI")
    assert rules("critmat.server.deps", "critmat.api.routes.risk")[0].startswith("layer order")
    assert rules("critmat.platform.db", "critmat.store")[0].startswith("platform imports")
    assert rules("critmat.novel", "critmat.errors")[0].startswith("critmat.novel is in no layer")


def test_imports_keep_the_layer_contract() -> None:
    edges = import_graph()
    assert len(edges) > 100, "the parser found almost no imports: is SRC right?"
    violations: dict[str, list[Import]] = {}
    for edge in edges:
        for rule in broken_rules(edge):
            violations.setdefault(rule, []).append(edge)
    assert not violations, report(violations)


def test_presentation_modules_stay_small() -> None:
    modules = module_files()
    oversized = sorted(
        (len(path.read_text(encoding="utf-8").splitlines()), name)
        for name, path in modules.items()
        if top_package(name) in SIZE_LIMITED
    )
    offenders = [f"  {name}: {lines} lines" for lines, name in oversized if lines > MAX_LINES]
    assert not offenders, (
        f"{len(offenders)} modules of {', '.join(SIZE_LIMITED)} are over {MAX_LINES} lines "
        "(split them by capability, see docs/architecture.md):\n" + "\n".join(reversed(offenders))
    )
