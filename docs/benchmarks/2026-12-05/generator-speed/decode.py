import time, torch, sys
from transformers import GPT2LMHeadModel, AutoTokenizer
torch.set_num_threads(2)
d = "/work/clone_demo/models/demo/knowledge/generator"
tok = AutoTokenizer.from_pretrained(d)
ids = torch.randint(5, 2000, (1, 184))
for act in ["gelu_pytorch_tanh", "gelu_new", "gelu_pytorch_tanh", "gelu_new"]:
    m = GPT2LMHeadModel.from_pretrained(d, activation_function=act).eval()
    with torch.no_grad():
        m.generate(ids, max_new_tokens=5, min_new_tokens=5, do_sample=False, pad_token_id=0)
        t = time.perf_counter(); n = 10
        for _ in range(n):
            m.generate(ids, max_new_tokens=40, min_new_tokens=40, do_sample=False, pad_token_id=0)
        dt = (time.perf_counter() - t) / n
    print(f"{act}: {1000*dt:.1f} ms for 184-token prompt + 40 tokens ({40/dt:.0f} tok/s incl. prefill)")
