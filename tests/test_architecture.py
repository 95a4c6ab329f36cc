"""The code's shape, read from the source with ast (nothing is imported): an import of the project's own modules
sits at the top of its module, where import-linter's layer contracts (pyproject.toml) see it, never inside a
function where it could hide an upward dependency or dodge an import cycle."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import crm

CRM = Path(crm.__file__).resolve().parent

# Where deferring is the point, with why:
DEFERRING_ALLOWED = {
    # Each command imports what it needs when it runs: `crm --help` takes about 0.1 s instead of about 0.6 s with
    # the app, the demo data and uvicorn imported up front.
    "cli.py": None,  # any project module
    # piccolo_conf imports crm.db (make_engine) and Piccolo's migrations find the engine in piccolo_conf.DB, so
    # crm.db reaches piccolo_conf (and crm.ROOT, to put it on sys.path) only when first called.
    "db.py": {"crm", "piccolo_conf"},
}


def _is_project(module: str) -> bool:
    return module == "crm" or module.startswith("crm.") or module == "piccolo_conf"


def deferred_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) for each import of a project module inside a function: ``from . import x`` counts as the
    project's own."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = ["crm" if node.level else node.module or ""]
            else:
                continue
            found += [(node.lineno, m) for m in modules if _is_project(m)]
    return sorted(set(found))


def test_the_reader_finds_imports_inside_functions_and_nothing_else():
    source = (
        "import crm.db\n"
        "from crm import errors\n"
        "def f():\n"
        "    import json\n"
        "    from crm.members import queries\n"
        "    async def g():\n"
        "        import crm.faq.search, zoneinfo\n"
        "        from . import x\n"
        "class C:\n"
        "    def m(self):\n"
        "        import piccolo_conf\n"
    )
    assert deferred_imports(source) == [(5, "crm.members"), (7, "crm.faq.search"), (8, "crm"), (11, "piccolo_conf")]


def test_no_module_imports_the_project_inside_a_function():
    unexpected = []
    for path in sorted(CRM.rglob("*.py")):
        name = path.relative_to(CRM).as_posix()
        allowed = DEFERRING_ALLOWED.get(name, set())
        for line, module in deferred_imports(path.read_text(encoding="utf-8")):
            if name in DEFERRING_ALLOWED and (allowed is None or module in allowed):
                continue
            unexpected.append(f"crm/{name}:{line} imports {module} inside a function")
    assert not unexpected, "Import at the top of the module (and let the layers decide):\n" + "\n".join(unexpected)


def _face_contract_sources() -> list[str]:
    config = tomllib.loads((CRM.parent / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("Controllers")]
    return contract["source_modules"]


def test_every_controller_api_and_panel_module_is_held_to_the_no_query_builders_contract():
    patterns = [re.compile("^" + re.escape(p).replace(r"\*", "[^.]+") + r"(\..+)?$") for p in _face_contract_sources()]
    faces = [
        "crm." + path.relative_to(CRM).with_suffix("").as_posix().replace("/", ".")
        for path in CRM.rglob("*.py")
        if path.stem.endswith("controllers") or path.stem in ("api", "panels") or path.parent.name == "pages"
    ]
    assert faces, "no controller modules found"
    uncovered = [m for m in faces if not any(p.match(m) for p in patterns)]
    assert not uncovered, f"Add to the contract in pyproject.toml: {uncovered}"
