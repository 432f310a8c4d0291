"""The lean GPT-2 decoder against transformers' forward pass, on the demo pipeline's real prompts.

    python docs/benchmarks/2026-12-06/lean-decoding/lean_decoding.py [N_QUESTIONS]

Runs the demo answer pipeline (``models/demo/knowledge``) on the store's FAQ questions and on the
catalog's product names asked as "tell me about …" to collect the generator prompts it builds
(N_QUESTIONS of each, default 60), then decodes every prompt with both decoders, one CPU thread
each way: one after the other (what one shopper at a time gets), and all at once through
``BatchDecoder`` batches of up to 8 (what the action server does under load). Prints CPU
milliseconds per answer and per token, and how many answers are the same text.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def collect_prompts(n: int) -> tuple[Any, list[tuple[str, int]]]:
    from knowledge.answer import AnswerPipeline
    from training.bench.knowledge_generation import generator_prompts

    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    pipeline.warm_up()
    with open("var/store/faq.jsonl", encoding="utf-8") as faq:
        questions = [json.loads(line)["question"] for line in faq][:n]
    with open("var/store/catalog.jsonl", encoding="utf-8") as catalog:
        names = [json.loads(line)["name"] for line in catalog][:n]
    questions += [f"tell me about the {name}" for name in names]
    prompts = generator_prompts(pipeline, questions)
    return pipeline.generator.model_dir, prompts  # type: ignore[attr-defined]


def main(n: int) -> None:
    import torch

    from knowledge.generator import LocalGenerator
    from training.bench.knowledge_generation import decode_at_once

    torch.set_num_threads(1)
    model_dir, prompts = collect_prompts(n)
    results: dict[str, Any] = {}
    for name in ("transformers", "lean"):
        alone = LocalGenerator(model_dir, device="cpu", threads=1, decoder=name)
        batched = LocalGenerator(model_dir, device="cpu", threads=1, batch=8, decoder=name)
        alone.warm_up()
        batched.warm_up()
        [alone.generate(p, m) for p, m in prompts[:5]]  # warm
        cpu = time.process_time()
        texts = [alone.generate(p, m) for p, m in prompts]
        sequential = (time.process_time() - cpu) * 1000 / len(prompts)
        batch_texts, _, batch_cpu = decode_at_once(batched, prompts)
        tokens = sum(alone.count_tokens(t) + 1 for t in texts) / len(texts)
        results[name] = (texts, sequential, batch_texts, batch_cpu, tokens)
    ref, lean = results["transformers"], results["lean"]
    print(f"{len(prompts)} prompts of the demo pipeline ({n} FAQ + {n} product questions)")
    print("| decoder | one at a time: CPU ms an answer | batches of 8: CPU ms an answer |")
    print("|---|---:|---:|")
    for name, (_, seq, _, batch, _) in results.items():
        print(f"| {name} | {seq:.1f} | {batch:.1f} |")
    print(f"tokens an answer (with the stop token): {ref[4]:.1f}")
    same = sum(a == b for a, b in zip(ref[0], lean[0], strict=True))
    same_batch = sum(a == b for a, b in zip(ref[0], lean[2], strict=True))
    print(f"lean alone writes transformers' text: {same}/{len(prompts)}")
    print(f"lean in batches writes transformers' (alone) text: {same_batch}/{len(prompts)}")
    same_ref_batch = sum(a == b for a, b in zip(ref[0], ref[2], strict=True))
    print(f"transformers in batches writes its own (alone) text: {same_ref_batch}/{len(prompts)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
