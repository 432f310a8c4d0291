"""Plot sweep_dev.json: accuracy, out-of-scope recall and in-scope refusals against the threshold.

python plot.py      # in this folder, project .venv
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SERVED = 0.474  # the demo model's threshold (calibration.json in the Rasa model)
d = json.loads(Path("sweep_dev.json").read_text(encoding="utf-8"))
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
for ax, name in zip(axes, ("development", "templated"), strict=True):
    rows = d[name]["sweep"]
    t = [r["threshold"] for r in rows]
    ax.plot(t, [r["accuracy"] for r in rows], label="accuracy")
    ax.plot(t, [r["oos_recall"] for r in rows], label="out-of-scope recall")
    ax.plot(t, [r["oos_precision"] for r in rows], label="out-of-scope precision")
    ax.plot(t, [r["in_scope_refused"] * 10 for r in rows], label="in-scope refused ×10")
    ax.axvline(SERVED, color="grey", linestyle="--", label="served threshold")
    ax.set_title(f"{name} ({d[name]['messages']} messages)")
    ax.set_xlabel("threshold on the calibrated top confidence")
    ax.set_ylim(0, 1.02)
axes[0].legend(loc="lower right", fontsize=8)
fig.tight_layout()
fig.savefig("sweep.png", dpi=110)
