"""Batched decoding against decoding each answer alone, on the demo pipeline's real prompts.

    python docs/benchmarks/2026-12-06/throughput-batching/batch_agreement.py [MAX_BATCH]

Runs the demo answer pipeline (``models/demo/knowledge``) on the first 60 questions of the store's
FAQ to collect the generator prompts it builds, then decodes them (one CPU thread each way):
one after the other in the caller's thread; all at once, each on its own thread, in the caller's
thread (what the action server did before); and all at once through ``BatchDecoder`` batches of
up to MAX_BATCH (default 8). Prints wall (and CPU) milliseconds per answer and how many answers
are the same text.
"""

from __future__ import annotations

import json
import sys
import time


def main(max_batch: int) -> None:
    import torch

    from knowledge.answer import AnswerPipeline
    from knowledge.generator import LocalGenerator
    from training.bench.knowledge_generation import decode_at_once, generator_prompts

    torch.set_num_threads(1)
    pipeline = AnswerPipeline.from_dir("models/demo/knowledge")
    pipeline.warm_up()
    with open("var/store/faq.jsonl", encoding="utf-8") as faq:
        questions = [json.loads(line)["question"] for line in faq][:60]
    prompts = generator_prompts(pipeline, questions)
    model_dir = pipeline.generator.model_dir  # type: ignore[attr-defined]
    alone = LocalGenerator(model_dir, device="cpu", threads=1)
    batched = LocalGenerator(model_dir, device="cpu", threads=1, batch=max_batch)
    alone.warm_up()
    batched.warm_up()
    [alone.generate(p, n) for p, n in prompts[:5]]  # warm

    started = time.perf_counter()
    expected = [alone.generate(p, n) for p, n in prompts]
    sequential = (time.perf_counter() - started) * 1000 / len(prompts)

    _, own_wall, own_cpu = decode_at_once(alone, prompts)
    out, batch_wall, batch_cpu = decode_at_once(batched, prompts)
    same = sum(a == b for a, b in zip(expected, out, strict=True))
    decoder = batched._decoder
    assert decoder is not None
    print(f"{len(prompts)} prompts of the demo pipeline (FAQ questions)")
    print(f"one after the other: {sequential:.1f} ms an answer")
    print(f"all at once, own threads: {own_wall:.1f} ms an answer (CPU {own_cpu:.1f} ms)")
    print(
        f"all at once, batches of up to {max_batch}: {batch_wall:.1f} ms an answer "
        f"(CPU {batch_cpu:.1f} ms); {decoder.batches} batches, largest {decoder.largest_batch}; "
        f"same text as alone: {same}/{len(prompts)}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
