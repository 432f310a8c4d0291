"""Train demo Rasa model variants (BertIntentClassifier settings) and evaluate on the dev sets.

    python docs/benchmarks/2026-12-06/intent-epochs/sweep.py '{"e4": {"epochs": 4}}' OUT_DIR

For each variant: config.yml with the keys set on BertIntentClassifier, ``train_rasa`` (preset
demo) into OUT_DIR/<name>/, then ``shopbot eval-shopper --parts intents`` on dev2 and dev1 (a
1,500-message sample of the templated split) into OUT_DIR/<name>/eval-<set>/. An empty variant
``{}`` with the served model copied to OUT_DIR/<name>/shopbot-demo.tar.gz evaluates that model
without training.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]


def main(variants: dict[str, dict[str, object]], out_dir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from training.train_rasa import train_rasa

    base = yaml.safe_load((ROOT / "config.yml").read_text())
    for name, keys in variants.items():
        out = out_dir / name
        out.mkdir(parents=True, exist_ok=True)
        config = copy.deepcopy(base)
        for component in config["pipeline"]:
            if component["name"].endswith("BertIntentClassifier"):
                component.update(keys)
        config_path = out / "config.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        model = out / "shopbot-demo.tar.gz"
        started = time.time()
        if not model.exists():
            train_rasa("demo", ROOT, force=True, out=model, config=config_path)
        print(name, keys, f"train {time.time() - started:.0f}s", flush=True)
        for which in ("dev2", "dev"):
            report = out / f"eval-{which}"
            command = [
                str(ROOT / ".venv/bin/shopbot"), "eval-shopper", "--model", str(model),
                "--parts", "intents", "--set", which, "--heldout-sample", "1500",
                "--out", str(report),
            ]  # fmt: skip
            subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
            numbers = json.loads((report / "numbers.json").read_text())
            print("  ", which, numbers["independent"], numbers["templated"], flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), Path(sys.argv[2]))
