"""The layer contracts (docs/decisions/008-layers.md) are enforced: a wrong import fails the lint.

``make lint`` runs ``lint-imports`` on the real tree; these tests run it on a copy of the tree
with one deliberately wrong import planted, so a contract that stopped catching anything fails
here instead of passing silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "knowledge", "actions", "bot", "training")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_copy(tmp_path: Path, plant: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Copy the packages and the contracts to ``tmp_path``, add ``plant`` files, run the linter."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.yml", "*.md", "*.json", "*.js"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for relative, source in plant.items():
        (tmp_path / relative).write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tmp_path / "pyproject.toml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_copy(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("knowledge/_probe.py", "import training.train\n", "Runtime layers"),
        ("bot/_probe.py", "from training import prepare\n", "Runtime layers"),
        ("core/_probe.py", "import knowledge.answer\n", "Runtime layers"),
        ("knowledge/_probe.py", "import rasa_sdk\n", "import no Rasa"),
        ("bot/channels/_probe.py", "import actions.orders\n", "Channels"),
        ("bot/console/_probe.py", "import rasa.core.agent\n", "agent console"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    tmp_path: Path, module: str, source: str, contract: str
) -> None:
    result = _lint_copy(tmp_path, {module: source})
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout, result.stdout
    # The report lists the broken contracts (names wrap) after this heading.
    broken_section = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken_section, result.stdout
    assert module.removesuffix(".py").replace("/", ".") in broken_section


RUNTIME_PACKAGES = ("core", "knowledge", "actions", "bot")
MAX_RUNTIME_LINES = 600
LONG_FILE_REASON = "Why this file is long:"


def test_runtime_files_stay_small_or_say_why() -> None:
    """One job per file: a runtime module over ~600 lines states its reason at its top."""
    too_long = []
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            lines = text.count("\n")
            head = "\n".join(text.splitlines()[:40])
            if lines > MAX_RUNTIME_LINES and LONG_FILE_REASON not in head:
                too_long.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert not too_long, (
        f"Runtime files over {MAX_RUNTIME_LINES} lines without a {LONG_FILE_REASON!r} note at "
        f"their top; split them by job: {too_long}"
    )
