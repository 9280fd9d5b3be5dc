"""Static scan of the user's source for forbidden APIs, seeing through import aliases.

`import torch.nn.functional as F; F.scaled_dot_product_attention(...)`,
`from torch.nn import functional`, `from torch.nn.functional import *` and
`getattr(F, "scaled_dot_product_attention")` are all caught. The worker enforces the
same list at run time for whatever a static scan cannot see.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Reference solutions are never importable from a submission.
ALWAYS_FORBIDDEN_MODULES = ("drillcli.solutions", "drillcli.graders", "drill_packs")


@dataclass(frozen=True)
class Violation:
    name: str      # the forbidden API, fully qualified
    line: int
    code: str      # the source line

    def message(self) -> str:
        return f"line {self.line}: uses {self.name}, which this problem forbids\n    {self.code.strip()}"


class _Scanner(ast.NodeVisitor):
    def __init__(self, forbid: tuple[str, ...], lines: list[str]):
        self.forbid, self.lines = forbid, lines
        self.aliases: dict[str, str] = {}
        self.star_modules: list[str] = []
        self.found: list[Violation] = []

    def _flag(self, full: str, node: ast.AST) -> None:
        for name in self.forbid:
            if full == name or full.startswith(name + "."):
                line = getattr(node, "lineno", 0)
                self.found.append(Violation(name, line, self.lines[line - 1] if line else ""))
                return

    def _flag_module(self, module: str, node: ast.AST) -> None:
        for bad in ALWAYS_FORBIDDEN_MODULES:
            if module == bad or module.startswith(bad + ".") or module.split(".")[0] == "solutions":
                line = node.lineno
                self.found.append(Violation(bad, line, self.lines[line - 1]))
                return

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._flag_module(alias.name, node)
            self._flag(alias.name, node)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._flag_module(module, node)
        for alias in node.names:
            if alias.name == "*":
                self.star_modules.append(module)
                continue
            full = f"{module}.{alias.name}"
            self._flag_module(full, node)
            self._flag(full, node)
            self.aliases[alias.asname or alias.name] = full

    def _dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            for module in self.star_modules:
                if any(f == f"{module}.{node.id}" for f in self.forbid):
                    return f"{module}.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        full = self._dotted(node)
        if full:
            self._flag(full, node)
        else:
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        full = self._dotted(node)
        if full and full != node.id:
            self._flag(full, node)

    def visit_Call(self, node: ast.Call) -> None:
        # getattr(obj, "name"): check obj.name as if written out
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            base, attr = self._dotted(node.args[0]), node.args[1]
            if base and isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                self._flag(f"{base}.{attr.value}", node)
        self.generic_visit(node)


def scan(tree: ast.AST, source: str, forbid: tuple[str, ...]) -> list[Violation]:
    """Every use of a forbidden API (or of the reference solutions) in the source."""
    scanner = _Scanner(forbid, source.splitlines())
    scanner.visit(tree)
    seen, unique = set(), []
    for v in sorted(scanner.found, key=lambda v: v.line):
        if (v.name, v.line) not in seen:
            seen.add((v.name, v.line))
            unique.append(v)
    return unique
