"""Which torch device and how many CPU threads: one place for every model that runs on torch.

Every training and serving path calls :func:`resolve_device`, so "GPU when present, CPU otherwise"
means the same thing everywhere and a wrong device string fails with the same clear message.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

__all__ = ["resolve_device", "resolve_device_name", "set_torch_threads"]


def resolve_device(device: str | None = "auto") -> torch.device:
    """Return ``cuda`` when available for ``auto``/empty/None, else the device asked for.

    Raises:
        ValueError: A CUDA device was asked for on a machine without CUDA, or the string is not
            a torch device.
    """
    import torch

    if not device or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device is {device!r} but CUDA is not available on this machine; "
            f"use device='auto' or 'cpu'."
        )
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu' or 'cuda[:N]'. Currently, device is {device!r}."
        ) from exc


def resolve_device_name(device: str | None = "auto") -> str:
    """:func:`resolve_device` as the string torch and sentence-transformers accept (``cuda:0``)."""
    return str(resolve_device(device))


def set_torch_threads(threads: int = 0) -> int:
    """Set torch's CPU thread count and return it; 0 = auto.

    Auto uses every core, except on a machine that is already busy (1-minute load average at or
    above the core count): there torch's thread pool spends its time waiting for descheduled
    workers, and one thread measured 3-4x faster than two on a loaded 2-core machine.
    """
    if threads <= 0:
        cores = os.cpu_count() or 1
        try:
            busy = os.getloadavg()[0] >= cores
        except OSError:  # pragma: no cover - not on Linux/macOS
            busy = False
        threads = 1 if busy else cores
    import torch

    torch.set_num_threads(threads)
    return threads
