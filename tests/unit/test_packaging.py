"""pyproject.toml: a plain install runs every command (``bench`` included), and builds without warnings."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Imported directly but required by a declared dependency: uvicorn[standard] brings uvloop, the
# twilio library aiohttp (whose errors the SMS provider classifies).
VIA = {"uvloop": "uvicorn", "aiohttp": "twilio"}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _imported_top_levels() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.glob("gateway/**/*.py"), *ROOT.glob("workers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.partition(".")[0])
    return found - set(sys.stdlib_module_names) - {"gateway", "workers", "web", "__future__"}


def test_every_imported_library_is_an_ordinary_dependency() -> None:
    """Every third-party module gateway/ and workers/ import (the bench's too) comes with a plain install."""
    declared = {_name(r) for r in PROJECT["project"]["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    missing = []
    for module in sorted(_imported_top_levels()):
        if module in VIA:
            assert _name(VIA[module]) in declared, module
            assert module in {_name(r) for r in importlib.metadata.requires(VIA[module]) or []}, module
            continue
        dists = {_name(d) for d in providers.get(module, [module])}
        if not dists & declared:
            missing.append(f"{module} ({', '.join(sorted(dists))})")
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_no_bench_extra() -> None:
    """`signalgate bench` needs no extra: the optional dependencies are for development only."""
    assert set(PROJECT["project"].get("optional-dependencies", {})) == {"dev"}


def test_license_is_an_spdx_string_and_the_backend_accepts_it() -> None:
    """``license`` is an SPDX expression (the table form makes setuptools warn on every install)."""
    assert PROJECT["project"]["license"] == "Apache-2.0"
    (setuptools,) = [r for r in PROJECT["build-system"]["requires"] if _name(r) == "setuptools"]
    minimum = re.search(r">=\s*(\d+)", setuptools)
    assert minimum and int(minimum.group(1)) >= 77, setuptools  # PEP 639 strings: setuptools 77


def test_every_package_on_disk_is_installed() -> None:
    """A non-editable install (the Dockerfile's `pip install .`) ships every package: none missing from the list."""
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("gateway", "workers")
        for init in (ROOT / top).rglob("__init__.py")
    }
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    assert on_disk - listed == set(), "add them to [tool.setuptools] packages in pyproject.toml"
