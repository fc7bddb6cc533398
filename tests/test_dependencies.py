"""Every library the service imports is declared in pyproject.toml, not merely installed
because something else needs it."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0] for spec in project["dependencies"]}
    return {name.lower().replace("_", "-") for name in names}


def _imported_modules() -> set[str]:
    found = set()
    for path in (REPO / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"bot", "__future__"}


def test_every_imported_library_is_a_declared_dependency():
    providers = packages_distributions()
    declared = _declared()
    undeclared = {}
    for module in _imported_modules():
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert undeclared == {}
