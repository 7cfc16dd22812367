"""Production installs only requirements.lock (`make serve`): the tools that test, lint,
fuzz, drive browsers and audit come from requirements-dev.lock, and nothing the
registry runs imports them."""

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("deposits", "cooperation", "kernel", "reports", "registry")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    """{distribution: version} of a pip-compile lock."""
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", (ROOT / lock).read_text(), re.M)
    return {canonical(name): version for name, version in found}


def requirement_name(requirement: str) -> str:
    return canonical(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group())


def dev_only_modules() -> set[str]:
    """Top-level modules that only development distributions provide."""
    dev_only = pins("requirements-dev.lock").keys() - pins("requirements.lock").keys()
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if all(canonical(d) in dev_only for d in distributions)
    }


def imported_modules(path: Path) -> set[str]:
    """The top-level modules a file imports, anywhere in it (lazy imports included)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_the_runtime_lock_holds_no_development_tool():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = pins("requirements.lock")
    dev_tools = {requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    assert dev_tools & runtime.keys() == set()
    assert {requirement_name(r) for r in project["dependencies"]} <= runtime.keys()


def test_the_dev_lock_runs_the_same_versions_as_production():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_no_runtime_module_imports_a_development_package():
    forbidden = dev_only_modules()
    assert {"pytest", "playwright", "schemathesis", "hypothesis", "factory"} <= forbidden
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & forbidden)
        for package in RUNTIME_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if imported_modules(path) & forbidden
    }
    assert offending == {}
