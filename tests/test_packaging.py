"""Every package newsmon imports is declared in pyproject.toml.

`pip install .` without extras must give a working newsmon: the dev extra used to hide that
scipy was missing (it arrived with datasketch). This reads every import statement of the
shipped packages and checks that the distribution providing it is a declared dependency;
`.ci/run` then proves it for real in a fresh venv (install without extras, import every
module, run `newsmon demo`).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("flows", "extractors", "warehouse", "reports", "demosite")
DEV_ONLY = ("tests", "bench", "scripts")
FIRST_PARTY = set(SHIPPED) | set(DEV_ONLY)


def _imported_modules(folder: Path) -> dict[str, str]:
    """Top-level module name -> first file:line importing it, for every .py under `folder`."""
    found: dict[str, str] = {}
    for file in sorted(folder.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], f"{file.relative_to(ROOT)}:{node.lineno}")
    return found


def _third_party(found: dict[str, str]) -> dict[str, str]:
    return {
        m: where
        for m, where in found.items()
        if m not in sys.stdlib_module_names and m not in FIRST_PARTY
    }


def _names(requirements: list[str]) -> set[str]:
    """Normalised distribution names of PEP 508 requirement strings."""
    return {
        re.split(r"[\s\[<>=!~;]", r.strip(), maxsplit=1)[0].lower().replace("_", "-")
        for r in requirements
    }


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _undeclared(modules: dict[str, str], declared: set[str]) -> list[str]:
    providers = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(modules.items()):
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        if not dists:
            missing.append(f"{module} ({where}): not installed at all")
        elif not dists & declared:
            missing.append(f"{module} ({where}): from {sorted(dists)}, not declared")
    return missing


def test_every_runtime_import_is_a_declared_dependency():
    declared = _names(_project()["dependencies"])
    modules: dict[str, str] = {}
    for package in SHIPPED:
        modules.update(_third_party(_imported_modules(ROOT / package)))
    # The scan must see the packages that were once missing, or it proves nothing.
    assert {"numpy", "scipy", "apprise", "lxml", "distributed"} <= set(modules)
    assert _undeclared(modules, declared) == []


def test_tests_and_benchmarks_need_nothing_beyond_the_dev_extra():
    project = _project()
    declared = _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])
    modules: dict[str, str] = {}
    for folder in DEV_ONLY:
        modules.update(_third_party(_imported_modules(ROOT / folder)))
    assert "datasketch" in modules and "pytest" in modules
    assert _undeclared(modules, declared) == []


def test_every_data_file_of_the_shipped_packages_is_installed():
    """A data file a module reads must match a package-data pattern, or a plain install lacks it.

    regions.tsv once missed the list: every extraction failed after `pip install .` while the
    checkout's tests passed.
    """
    import fnmatch

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["*"]
    missing = [
        str(path.relative_to(ROOT))
        for package in SHIPPED
        for path in (ROOT / package).rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and path.name != "README.md"
        and "__pycache__" not in path.parts
        and not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
    ]
    assert not missing, f"not installed by `pip install .` (add to package-data): {missing}"
