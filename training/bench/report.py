"""The benchmark report: one markdown file with the machine, each section's tables and its plots."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass
class BenchContext:
    """What every benchmark section gets.

    Args:
        out_dir: Folder for the report and plots (plots go straight into it).
        project_root: The repository root (to find ``data/``, ``var/``, ``models/``).
        shared_data: ``../shared/data`` when present (larger public sets), else None.
        quick: A reduced run (fewer repetitions, smaller synthetic sets) for smoke tests.
        preset: The preset whose trained models are measured (``models/<preset>/``).
    """

    out_dir: Path
    project_root: Path
    shared_data: Path | None
    quick: bool = False
    preset: str = "demo"

    def models_dir(self) -> Path:
        """``models/<preset>``: the sentiment model, index and generator measured."""
        return self.project_root / "models" / self.preset


@dataclass
class BenchSection:
    """One section of the report: a title, markdown body (tables), plot files relative to out_dir."""

    title: str
    markdown: str
    plots: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)


SectionFn = Callable[[BenchContext], BenchSection]


def machine_description() -> str:
    """Return a one-line description of this machine: CPU, cores, memory, GPU."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = 0.0
    with contextlib.suppress(ValueError, OSError):
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, {gpu}, Python {platform.python_version()}"


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """Render a markdown table; floats get 4 significant digits."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(ctx: BenchContext, sections: list[BenchSection]) -> Path:
    """Write ``report.md`` into ``ctx.out_dir`` and return its path."""
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# ShopBot benchmark report\n\n- Date: {now}\n- Machine: {machine_description()}\n"]
    for section in sections:
        parts.append(f"## {section.title}\n\n{section.markdown}\n")
        parts += [f"![{plot}]({plot})\n" for plot in section.plots]
    path = ctx.out_dir / "report.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    logger.info("Benchmark report written to %s", path)
    return path
