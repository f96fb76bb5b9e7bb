"""SQLModel table classes; importing this package imports every submodule.

Every module in ``storage/models/`` is imported here (with :mod:`pkgutil`), so
``SQLModel.metadata`` is complete as soon as ``storage.models`` is imported: alembic and the test
fixtures rely on it. Shared column types live in :mod:`storage.models.base`.
"""

from __future__ import annotations

import importlib
import pkgutil


def _import_submodules() -> list[str]:
    names = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}")
        names.append(module.name)
    return names


MODULES = _import_submodules()
