"""Greedy decoding of the trained demo generator with the fused GELU and with ``gelu_new``."""

import sys
import time

import torch
from transformers import GPT2LMHeadModel

torch.set_num_threads(2)
model_dir = sys.argv[1] if len(sys.argv) > 1 else "models/demo/knowledge/generator"
ids = torch.randint(5, 2000, (1, 184))
for act in ["gelu_pytorch_tanh", "gelu_new", "gelu_pytorch_tanh", "gelu_new"]:
    m = GPT2LMHeadModel.from_pretrained(model_dir, activation_function=act).eval()
    with torch.no_grad():
        m.generate(ids, max_new_tokens=5, min_new_tokens=5, do_sample=False, pad_token_id=0)
        n = 10
        t0 = time.perf_counter()
        for _ in range(n):
            m.generate(ids, max_new_tokens=40, min_new_tokens=40, do_sample=False, pad_token_id=0)
        dt = (time.perf_counter() - t0) / n
    print(f"{act}: {1000 * dt:.1f} ms for a 184-token prompt + 40 tokens")
