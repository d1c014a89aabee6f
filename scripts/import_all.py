"""Import every module of the installed newsmon packages; exit 1 naming any that fails.

`.ci/run` runs this with the Python of a fresh venv holding `pip install .` (no extras), from
outside the checkout, so the modules come from site-packages and only declared dependencies
are there: a package newsmon imports but does not declare fails here.

    /path/to/venv/bin/python scripts/import_all.py
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

PACKAGES = ("flows", "extractors", "warehouse", "reports", "demosite")


def main() -> int:
    checkout = Path(__file__).resolve().parent.parent
    failed, imported = [], 0
    for name in PACKAGES:
        package = importlib.import_module(name)
        where = Path(package.__file__).resolve()
        if where.is_relative_to(checkout):
            print(f"{name} imported from the checkout ({where}), not from the installed "
                  "package: run this from another directory", file=sys.stderr)
            return 2
        modules = [name] + [m.name for m in pkgutil.walk_packages(package.__path__, name + ".")]
        for module in modules:
            try:
                importlib.import_module(module)
                imported += 1
            except Exception:  # report every broken module, not just the first
                failed.append(module)
                traceback.print_exc()
    print(f"imported {imported} modules from {', '.join(PACKAGES)}; {len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
