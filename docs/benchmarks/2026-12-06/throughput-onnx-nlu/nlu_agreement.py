"""Torch dynamic int8 vs ONNX int8/fp32 for the demo intent and sentiment classifiers."""

import csv
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
os.environ["HF_HUB_OFFLINE"] = "1"
import numpy as np
import torch

torch.set_num_threads(1)
from core.encoder import TextClassifier  # noqa: E402
from training.shopper_eval import load_shopper_eval  # noqa: E402

intent_dir = "/tmp/demo_rasa/components/train_bot.nlu.intent_classifier.BertIntentClassifier4"
sent_dir = "/work/clone_demo/models/demo/sentiment"
ev = load_shopper_eval()
shop = [(e.text, e.intent) for e in ev.intents]
with Path("var/nlu/test.csv").open() as handle:
    tmpl = [(r["text"], r["label"]) for r in csv.DictReader(handle)]
out = {}
for name, d in [("intent", intent_dir), ("sentiment", sent_dir)]:
    clfs = {
        rt: TextClassifier.load(
            d, device="cpu", quantize="auto", runtime=rt, onnx_cache_dir="/tmp/idx/onnxcache"
        )
        for rt in ["torch", "onnx", "onnx-int8"]
    }
    for setname, data in [("shopper", shop), ("templated", tmpl)]:
        texts = [t for t, _ in data]
        gold = [g for _, g in data]
        preds = {rt: [p.label for p in c.classify(texts)] for rt, c in clfs.items()}
        for rt in clfs:
            agree = np.mean([a == b for a, b in zip(preds[rt], preds["torch"], strict=True)])
            acc = (
                np.mean([a == b for a, b in zip(preds[rt], gold, strict=True)])
                if name == "intent"
                else float("nan")
            )
            print(
                f"{name:9s} {setname:9s} {rt:9s} n={len(texts)} agree_with_torch={agree:.4f} acc={acc:.4f}",
                flush=True,
            )
    for rt, c in clfs.items():
        ts = []
        for i in range(300):
            t = time.perf_counter()
            c.classify([shop[i % len(shop)][0]])
            ts.append(time.perf_counter() - t)
        print(
            f"{name:9s} latency {rt:9s} p50 {np.median(ts) * 1000:.2f} ms p95 {np.percentile(ts, 95) * 1000:.2f} ms",
            flush=True,
        )
