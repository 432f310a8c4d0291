import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
os.environ["HF_HUB_OFFLINE"] = "1"
from core.encoder import TextClassifier
from core.feature_head import LabelledTexts
from training.bench.encoder_pass import EVAL_SETS, _predict, sentiment_scores

d = "/work/main/models/demo/sentiment"
for rt in ["torch", "onnx-int8"]:
    c = TextClassifier.load(
        d, device="cpu", quantize="auto", runtime=rt, onnx_cache_dir="/work/main/models/onnx"
    )
    for name in EVAL_SETS:
        data = LabelledTexts.read_csv(f"/work/clone_demo/var/sentiment/{name}.csv")
        restrict = sorted(set(data.labels)) if name == "eval_uci" else None
        s = sentiment_scores(
            data.labels, _predict(c.labels, c.predict_proba(data.texts), restrict), name
        )
        print(rt, name, {k: round(v, 4) for k, v in s.items()}, flush=True)
