"""One training step of the demo-sized generator (batch 12 × T tokens, 30 steps timed).

python stepbench.py gelu_new full 250          # before: the LM head over every position
python stepbench.py gelu_pytorch_tanh sel 250  # after: the head on the scored positions only
python stepbench.py gelu_pytorch_tanh sel 250 ac   # + bf16 autocast (not taken)
"""

import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

act, sel, T = sys.argv[1], sys.argv[2] == "sel", int(sys.argv[3])
AC = len(sys.argv) > 4
torch.set_num_threads(2)
torch.manual_seed(0)
cfg = GPT2Config(
    vocab_size=2048, n_positions=352, n_embd=128, n_layer=4, n_head=4,
    resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, activation_function=act,
)  # fmt: skip
m = GPT2LMHeadModel(cfg)
opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
x = torch.randint(0, 2048, (12, T))
att = torch.ones_like(x)
labels = x.clone()
labels[:, : T - 30] = -100  # the answer: the last 30 tokens


def loss_full() -> torch.Tensor:
    return m(input_ids=x, attention_mask=att, labels=labels).loss


def loss_sel() -> torch.Tensor:
    h = m.transformer(input_ids=x, attention_mask=att, use_cache=False)[0][:, :-1]
    t = labels[:, 1:]
    keep = t != -100
    return torch.nn.functional.cross_entropy(m.lm_head(h[keep]).float(), t[keep])


print("same loss", loss_full().item(), loss_sel().item())


def step() -> None:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=AC):
        loss = loss_sel() if sel else loss_full()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()


for _ in range(5):
    step()
n = 30
t0 = time.perf_counter()
for _ in range(n):
    step()
print(
    f"{act} autocast={AC} scored-only={sel} T={T}: {1000 * (time.perf_counter() - t0) / n:.1f} ms/step"
)
