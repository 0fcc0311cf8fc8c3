"""Find every place in kefu/ that gives a DomainError its code (for the error-code meta-test).

A raise site is a call of a DomainError class (``ValidationFailed(..., code=...)``), a call of a
helper that forwards its ``code`` parameter to one, or a ``default_code = ...`` in an error class.
Pure: reads source files with ``ast``, imports nothing from the apps.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the kefu package
BASE_ERRORS = frozenset(
    {"DomainError", "ValidationFailed", "NotFound", "Forbidden", "Conflict", "IllegalTransition"}
)


@dataclass(frozen=True)
class Site:
    path: str  # relative to the repository, e.g. "kefu/tickets/services/create.py"
    line: int
    app: str  # "tickets"
    kind: str  # "literal" (a str constant), "member" (Enum.MEMBER), "other" (anything else)
    value: str  # the literal, or "Enum.MEMBER", or the expression's source
    col: int = 0
    end_line: int = 0
    end_col: int = 0


def source_files(root: Path = ROOT) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _trees(root: Path) -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in source_files(root)}


def error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    names = set(BASE_ERRORS)
    changed = True
    while changed:
        changed = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in names
                    and any(_name(b) in names for b in node.bases)
                ):
                    names.add(node.name)
                    changed = True
    return names


def _code_kw(call: ast.Call) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == "code":
            return kw.value
    return None


def forwarders(trees: dict[Path, ast.Module], errors: set[str]) -> dict[str, tuple[str, int]]:
    """Functions that pass one of their parameters on as an error's code: name -> (param, position)."""
    out: dict[str, tuple[str, int]] = {}
    for tree in trees.values():
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            kwonly = [a.arg for a in fn.args.kwonlyargs]
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and _name(call.func) in errors:
                    value = _code_kw(call)
                    if isinstance(value, ast.BoolOp):  # code=code or "x"
                        value = value.values[0]
                    if isinstance(value, ast.Name) and value.id in params + kwonly:
                        pos = params.index(value.id) if value.id in params else -1
                        if params and params[0] in ("self", "cls") and pos >= 0:
                            pos -= 1
                        out[fn.name] = (value.id, pos)
    return out


def _defaults(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    positional = fn.args.posonlyargs + fn.args.args
    out = dict(
        zip(
            [a.arg for a in positional[len(positional) - len(fn.args.defaults) :]],
            fn.args.defaults,
            strict=True,
        )
    )
    out.update(
        {a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d is not None}
    )
    return out


def _classify(node: ast.expr) -> tuple[str, str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return "literal", node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return "member", f"{node.value.id}.{node.attr}"
    return "other", ast.unparse(node)


def sites(root: Path = ROOT) -> list[Site]:
    trees = _trees(root)
    errors = error_classes(trees)
    fwd = forwarders(trees, errors)
    out: list[Site] = []
    for path, tree in trees.items():
        rel = path.relative_to(root.parent).as_posix()
        app = path.relative_to(root).parts[0]

        def add(node: ast.expr, line: int, rel: str = rel, app: str = app) -> None:
            kind, value = _classify(node)
            end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or 0
            out.append(Site(rel, node.lineno, app, kind, value, node.col_offset, end_line, end_col))

        forwarded_params: dict[ast.AST, set[str]] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in fwd:
                forwarded_params[fn] = {fwd[fn.name][0]}
                default = _defaults(fn).get(fwd[fn.name][0])
                if default is not None:
                    add(default, fn.lineno)
        inside: dict[int, set[str]] = {}
        for fn, params in forwarded_params.items():
            for sub in ast.walk(fn):
                inside.setdefault(id(sub), set()).update(params)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in errors:
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "default_code" for t in stmt.targets
                    ):
                        add(stmt.value, stmt.lineno)
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in errors:
                value = _code_kw(node)
                if value is None:
                    continue
                if isinstance(value, ast.BoolOp):
                    for v in value.values[1:]:
                        add(v, node.lineno)
                    value = value.values[0]
                if isinstance(value, ast.Name) and value.id in inside.get(id(node), set()):
                    continue  # a forwarder's parameter: checked where the forwarder is called
                add(value, node.lineno)
            elif name in fwd:
                param, pos = fwd[name]
                value = next((kw.value for kw in node.keywords if kw.arg == param), None)
                if value is None and 0 <= pos < len(node.args):
                    value = node.args[pos]
                if value is not None:
                    add(value, node.lineno)
    return out
