"""The import-linter contracts of docs/architecture.md §3 (pyproject.toml) catch what they forbid.

Each test lints a copy of the packages' Python files with the project's configuration, so the real tree is
never touched: the copy as it is passes, and one forbidden import per contract breaks exactly that contract.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "adapters", "kb", "speech", "vision")

# contract name -> (file, line added to it) that breaks it
FORBIDDEN = {
    "Engines (kb, speech, vision) never import bot or adapters": ("kb/tokenize.py", "import bot.messages"),
    "bot.intents imports only the leaves and bot.protocols from bot, and no engine or adapter": (
        "bot/intents/spec.py",
        "import bot.pipeline",
    ),
    "Adapters never import an engine": ("adapters/base.py", "import kb.search"),
    "Adapters use the core's types and protocols, never its implementations (the Slack desk gets the desk)": (
        "adapters/console.py",
        "import bot.handoff.sqlite",
    ),
    "The core never imports adapters or the composition root (bot.app, bot.cli)": (
        "bot/policy.py",
        "import bot.app",
    ),
    "Only the composition root (bot.app, bot.cli) imports an engine": ("bot/engines.py", "import vision"),
}


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` run in ``folder`` (its packages first on the path), output with whitespace collapsed."""
    if importlib.util.find_spec("importlinter") is None:
        message = "import-linter is not installed (it is in the dev extra: pip install -e '.[dev]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    result = subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    result.stdout = " ".join((result.stdout + result.stderr).split())
    return result


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The packages' Python files and pyproject.toml, copied."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda folder, names: [n for n in names if not n.endswith(".py") and not Path(folder, n).is_dir()],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_every_contract_has_a_forbidden_import_here() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert {contract["name"] for contract in config["tool"]["importlinter"]["contracts"]} == set(FORBIDDEN)


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout
    assert f"Contracts: {len(FORBIDDEN)} kept, 0 broken." in result.stdout


def test_a_forbidden_import_breaks_its_contract(tree: Path) -> None:
    for file, line in FORBIDDEN.values():
        path = tree / file
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # forbidden\n", encoding="utf-8")
    result = lint_imports(tree)
    assert result.returncode != 0, result.stdout
    assert f"Contracts: 0 kept, {len(FORBIDDEN)} broken." in result.stdout
    for name, (file, line) in FORBIDDEN.items():
        assert f"{name} BROKEN" in result.stdout
        source = file.removesuffix(".py").replace("/", ".")
        assert f"{source} -> {line.removeprefix('import ')}" in result.stdout
