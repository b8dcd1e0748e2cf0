"""The shape every domain shares, checked by reading the source (ast and text only, no imports).

docs/architecture.md describes the shape; these tests keep it true. Each failure lists every
offender as `path:line: what is wrong`, so a newcomer knows what to fix and where.
"""

from __future__ import annotations

import ast
import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
FUNCTIONS = ROOT / "functions"

# shared/ packages that are not domains: the platform, data access, cache, events (outbox).
INFRASTRUCTURE = frozenset({"platform", "data", "cache", "events", "storage"})
# Not scanned for SQL: tests, benchmarks and migrations may hold SQL; node_modules is not ours
# (dot-folders such as .venv, .local and .git are skipped too).
# Not the app: tests assert on tables directly, bench and loadtest generate load, migrations are DDL, and
# infra/hooks grants roles once per deploy as the Entra administrator (a migration by another name).
NOT_SCANNED_FOR_SQL = frozenset({"tests", "bench", "loadtest", "migrations", "hooks", "node_modules", "__pycache__"})
MAX_FUNCTION_LINES = 40
MAX_MODULE_LINES = 400
# A rules module is pure: none of these (nor any repo module) may be imported by it.
IO_MODULES = ("shared.data", "shared.cache", "shared.storage", "shared.events", "psycopg", "redis", "azure", "httpx")

# An SQL statement, keywords in upper case (prose in lower case does not match).
SQL_STATEMENT = re.compile(
    r"\b(SELECT\s+\S|INSERT\s+INTO\b|UPDATE\s+\w+(\s+\w+)?\s+SET\b|DELETE\s+FROM\b|WITH\s+(RECURSIVE\s+)?\w+\s+AS\b)"
)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@functools.cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def python_files(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def domain_packages() -> list[Path]:
    """Every shared/<pkg>/ with a service.py that is not infrastructure."""
    return sorted(path.parent for path in SHARED.glob("*/service.py") if path.parent.name not in INFRASTRUCTURE)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything a module imports, anywhere in it; `from a.b import c`
    gives `a.b.c` (c may be a module or an attribute of a.b: a check looks at the prefix it
    cares about). Relative imports are resolved against the module's package."""
    package = path.relative_to(ROOT).parent.parts
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def domain_module_of(dotted: str) -> tuple[str, str] | None:
    """`shared.orders.service.place` -> ("orders", "service"); None outside the domains."""
    parts = dotted.split(".")
    if len(parts) < 3 or parts[0] != "shared" or parts[1] in INFRASTRUCTURE:
        return None
    return parts[1], parts[2]


def report(offenders: list[str], rule: str) -> str:
    """The rule, then each offender once, in file and line order."""

    def where(line: str) -> tuple[str, int, str]:
        path, _, rest = line.partition(":")
        number = rest.partition(":")[0]
        return path, int(number) if number.isdigit() else 0, line

    return f"{rule}\n" + "\n".join(f"  {line}" for line in sorted(set(offenders), key=where))


def test_the_walks_see_the_code():
    """Guards the other tests against passing on an empty walk (a moved folder, say)."""
    assert len(python_files(FUNCTIONS)) >= 10
    assert len(domain_packages()) >= 5, [rel(p) for p in domain_packages()]


def test_triggers_import_only_service_and_models_from_a_domain():
    offenders = []
    for path in python_files(FUNCTIONS):
        for line, dotted in imported_modules(path):
            found = domain_module_of(dotted)
            if found and found[1] != "service" and not found[1].startswith("models"):
                offenders.append(f"{rel(path)}:{line}: imports shared.{found[0]}.{found[1]}")
    assert not offenders, report(
        offenders,
        "A trigger reaches a domain through its service.py (and its models*.py) only; "
        "move the call behind a function of shared/<domain>/service.py:",
    )


def docstring_nodes(tree: ast.Module) -> set[ast.AST]:
    """String statements: docstrings and bare strings used as comments."""
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def string_values(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant that is not a docstring; an f-string's pieces are
    joined with `?` where the values go, so `f"SELECT {cols} FROM t"` is one string."""
    skip = docstring_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(node.values)
            parts = [value.value if isinstance(value, ast.Constant) else "?" for value in node.values]
            yield node.lineno, "".join(str(part) for part in parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node not in skip and isinstance(node.value, str):
            yield node.lineno, node.value


def modules_outside_repos() -> Iterator[Path]:
    """Every .py of the repository but the repos and the folders not scanned (pruned, so the
    walk never enters .venv or node_modules)."""
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and name not in NOT_SCANNED_FOR_SQL
        )
        for name in sorted(files):
            if name.endswith(".py") and not name.startswith("repo"):
                yield Path(folder) / name


def test_sql_lives_only_in_repo_modules():
    offenders = []
    for path in modules_outside_repos():
        for line, text in string_values(parse(path)):
            match = SQL_STATEMENT.search(text)
            if match:
                statement = text[match.start() :].splitlines()[0][:60]
                offenders.append(f"{rel(path)}:{line}: {statement!r}")
    assert not offenders, report(
        offenders,
        "SQL belongs in a repo.py / repo_<aggregate>.py, as a named constant next to the one "
        "function that runs it; call that function instead:",
    )


def defines_strenum(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if (isinstance(base, ast.Name) and base.id == "StrEnum") or (
                    isinstance(base, ast.Attribute) and base.attr == "StrEnum"
                ):
                    return True
    return False


def test_every_domain_package_has_the_shape():
    offenders = []
    for package in domain_packages():
        names = {path.name for path in package.glob("*.py")}
        for required in ("models.py", "errors.py", "rules.py", "service.py"):
            if required not in names:
                offenders.append(f"{rel(package)}/: no {required}")
        if not any(name.startswith("repo") for name in names):
            offenders.append(f"{rel(package)}/: no repo.py (or repo_<aggregate>.py)")
        errors = package / "errors.py"
        if errors.exists() and not defines_strenum(parse(errors)):
            offenders.append(f"{rel(errors)}: defines no `class <Domain>Error(StrEnum)` of its codes")
    assert not offenders, report(
        offenders, "Every domain has models.py, errors.py (a StrEnum), rules.py, service.py and repo*.py:"
    )


def test_domain_modules_do_not_import_azure_functions():
    offenders = [
        f"{rel(path)}:{line}: imports {dotted}"
        for package in domain_packages()
        for path in python_files(package)
        for line, dotted in imported_modules(path)
        if dotted == "azure.functions" or dotted.startswith("azure.functions.")
    ]
    assert not offenders, report(offenders, "Only triggers (functions/*.py) know azure.functions:")


def is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def test_error_codes_are_enum_members_never_string_literals():
    offenders = []
    for path in python_files(SHARED, FUNCTIONS):
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Call):
                offenders += [
                    f"{rel(path)}:{kw.value.lineno}: code={ast.unparse(kw.value)}"
                    for kw in node.keywords
                    if kw.arg == "code" and is_text(kw.value)
                ]
    assert not offenders, report(
        offenders, "Pass a member of the domain's errors.py StrEnum (code=OrderError.X), not a string:"
    )


def names_an_error_code(node: ast.expr) -> bool:
    """`error.code` or `getattr(error, "code", …)`."""
    if isinstance(node, ast.Attribute):
        return node.attr == "code"
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value == "code"
    )


def test_control_flow_never_compares_error_code_strings():
    offenders = []
    for path in python_files(SHARED, FUNCTIONS):
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(names_an_error_code(side) for side in sides) and any(is_text(side) for side in sides):
                    offenders.append(f"{rel(path)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, report(
        offenders, "Catch the specific exception class, or compare with an enum member, never a code string:"
    )


def imports_module(path: Path, dotted: str) -> bool:
    return any(name == dotted or name.startswith(dotted + ".") for _, name in imported_modules(path))


def test_every_rules_module_has_its_unit_tests():
    offenders = []
    for rules in sorted(SHARED.glob("*/rules.py")):
        package = rules.parent.name
        test = ROOT / "tests" / "unit" / f"test_{package}_rules.py"
        if not test.exists():
            offenders.append(f"{rel(rules)}: no {rel(test)}")
        elif not imports_module(test, f"shared.{package}.rules"):
            offenders.append(f"{rel(test)}: does not import shared.{package}.rules")
    assert not offenders, report(offenders, "Every rules.py is unit-tested without a database:")


def test_rules_modules_do_no_io():
    offenders = []
    for rules in sorted(SHARED.glob("*/rules.py")):
        for line, dotted in imported_modules(rules):
            top = dotted.split(".")
            does_io = any(dotted == io or dotted.startswith(io + ".") for io in IO_MODULES)
            if does_io or any(part.startswith("repo") for part in top[2:3]):
                offenders.append(f"{rel(rules)}:{line}: imports {dotted}")
    assert not offenders, report(
        offenders, "rules.py holds pure functions and tables; the service does the I/O and passes values in:"
    )


# A function's length is counted from its `def` line to its last line (ast: end_lineno - lineno
# + 1): docstring and comments count, decorators do not (a trigger's @route/@endpoint stack is
# its registration, not its logic). A nested function counts in its parent and on its own.
def test_functions_are_short():
    offenders = []
    for path in python_files(SHARED, FUNCTIONS, ROOT / "devhost"):
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders.append(f"{rel(path)}:{node.lineno}: {node.name}() has {length} lines")
    assert not offenders, report(offenders, f"Functions stay within {MAX_FUNCTION_LINES} lines; split these:")


def test_modules_are_short():
    offenders = []
    for path in python_files(SHARED, FUNCTIONS, ROOT / "devhost"):
        length = len(path.read_text(encoding="utf-8").splitlines())
        if length > MAX_MODULE_LINES:
            offenders.append(f"{rel(path)}: {length} lines")
    assert not offenders, report(offenders, f"Modules stay within {MAX_MODULE_LINES} lines; split these:")


def test_the_sql_detector_tells_sql_from_prose():
    source = '''
"""Module docstring: SELECT * FROM nothing is prose here."""
LIST = "SELECT id FROM t WHERE x = %s"
PATCH = f"UPDATE t SET {column} = %s"
CTE = """
WITH moved AS (DELETE FROM t RETURNING id)
SELECT count(*) FROM moved
"""
METHODS = ["GET", "DELETE"]
TREE = "WITH RECURSIVE tree AS (SELECT 1)"
LABEL = "select a shipping method"
def f():
    """Deletes the row (DELETE FROM t) through the repo."""
'''
    found = [text for _, text in string_values(ast.parse(source)) if SQL_STATEMENT.search(text)]
    assert found == ["UPDATE t SET ? = %s", "SELECT id FROM t WHERE x = %s", CTE_TEXT, TREE]


TREE = "WITH RECURSIVE tree AS (SELECT 1)"
CTE_TEXT = "\nWITH moved AS (DELETE FROM t RETURNING id)\nSELECT count(*) FROM moved\n"
