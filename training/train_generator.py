"""``shopbot train-generator``: train the GPT answer generator (tokenizer included) from scratch.

Stages (GPT-2 architecture from ``transformers``, AdamW + warm-up + cosine decay in each stage):

0. a copy warm-up on random token sequences said twice (``--copy-warmup-steps``; 0 skips it);
1. pre-training on the store's own text (``var/generator/pretrain.jsonl``: catalog, FAQ, support
   responses), packed into fixed-length blocks;
2. fine-tuning on grounded question → answer examples (``finetune_train.jsonl``), each rendered with
   the serving prompt format (``knowledge.prompt.build_prompt``); the loss covers answer tokens only.

The data is prepared first (``training.prepare_generator``) when ``--data-dir`` has none for the
preset. The output directory is a Hugging Face causal-LM directory (``config.json``, weights,
tokenizer) plus ``generator_config.json`` (the prompt budget serving must use), ``train_args.json``,
``metrics.json`` (losses, held-in exact match, timings, the data hash) and ``training_curves.png``.
The parts live in ``training/generator_training/`` (one job per module); this module runs them.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from core.device import resolve_device_name, set_torch_threads
from knowledge.asked_field import FIELD_QUESTIONS_FILE
from knowledge.prompt import BOS
from training.cli_args import exit_code, parse_args
from training.counterfactual import counterfactual_copies
from training.generator_data.files import read_examples, read_passages, read_pretrain
from training.generator_training.checkpoint import save_checkpoint
from training.generator_training.config import TrainGeneratorArgs
from training.generator_training.copy_warmup import copy_warmup_batch
from training.generator_training.data import (
    collate,
    encode_examples,
    length_batches,
    pack_blocks,
    repeat_halves,
)
from training.generator_training.evaluation import exact_match, mean_loss, tail_mean
from training.generator_training.loop import Curves, run_stage, set_seed
from training.generator_training.model import build_model
from training.prepare_generator import PrepareGeneratorArgs, inputs_fingerprint
from training.prepare_generator import run as prepare_data

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


def ensure_data(args: TrainGeneratorArgs) -> Path:
    """Return the prepared data folder, preparing it for the preset when missing or stale."""
    data_dir = ROOT / args.data_dir
    prepare_args = PrepareGeneratorArgs(
        preset=args.preset,
        catalog=args.catalog,
        faq=args.faq,
        out_dir=str(data_dir),
        seed=args.seed,
    )
    manifest_path = data_dir / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("inputs_sha256") == inputs_fingerprint(prepare_args):
            return data_dir
        logger.info(
            "Data in %s (preset %r) was prepared from other inputs (store, data code or "
            "arguments); preparing it again for %r",
            data_dir,
            manifest.get("preset"),
            args.preset,
        )
    prepare_data(prepare_args)
    return data_dir


def train(args: TrainGeneratorArgs) -> dict[str, Any]:
    """Train tokenizer and model as ``args`` describe; returns the metrics written."""
    from training.train_tokenizer import train_tokenizer

    started = time.perf_counter()
    # Explicit, so a preceding step in the same process (``shopbot train``) cannot leave torch on
    # fewer threads than this machine has.
    set_torch_threads(args.threads or 0)
    device = resolve_device_name(args.device)
    set_seed(args.seed)
    data_dir = ensure_data(args)
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    resolved = {**asdict(args), "device": device, "prompt_budget": asdict(args.budget)}
    logger.info("train-generator configuration: %s", json.dumps(resolved))

    pretrain = read_pretrain(data_dir / "pretrain.jsonl")
    passages = read_passages(data_dir / "passages.jsonl")
    train_examples = read_examples(data_dir / "finetune_train.jsonl")
    valid_examples = read_examples(data_dir / "finetune_valid.jsonl")

    t0 = time.perf_counter()
    corpus = pretrain + [f"{ex.question}\n{ex.answer}" for ex in train_examples]
    tokenizer = train_tokenizer(corpus, int(args.vocab_size or 0))
    tokenizer_s = time.perf_counter() - t0
    if args.counterfactual_fraction:
        extra, extra_passages = counterfactual_copies(
            train_examples, passages, random.Random(args.seed), float(args.counterfactual_fraction)
        )
        passages = {**passages, **extra_passages}
        train_examples = train_examples + extra
        logger.info("Added %d counterfactual copies of product-fact examples", len(extra))
    pad_id = int(tokenizer.pad_token_id)
    n_positions = int(args.n_positions or 0)
    train_enc = encode_examples(
        train_examples, passages, tokenizer, args.budget, n_positions, "encode train"
    )
    valid_enc = encode_examples(
        valid_examples, passages, tokenizer, args.budget, n_positions, "encode valid"
    )
    if not train_enc:
        raise ValueError(
            f"No fine-tuning example fits --n-positions {n_positions}; raise it or lower the budget."
        )
    pre_docs = [
        tokenizer.encode(text, add_special_tokens=False)
        for text in tqdm(pretrain, desc="encode pretrain", unit="doc", mininterval=2.0)
    ]
    blocks = pack_blocks(pre_docs, int(args.block_size or 0), tokenizer.convert_tokens_to_ids(BOS))

    model = build_model(args, tokenizer, device)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info(
        "GPT-2 generator: %.2fM parameters, vocab %d, %d pre-training blocks, %d/%d fine-tuning "
        "examples, mean example length %.0f tokens",
        n_params / 1e6,
        len(tokenizer),
        len(blocks),
        len(train_enc),
        len(valid_enc),
        float(np.mean([len(e.ids) for e in train_enc])),
    )

    rng = random.Random(args.seed)
    batch_size = int(args.batch_size or 0)

    def pretrain_batches() -> Iterator[dict[str, torch.Tensor]]:
        while True:
            x = blocks[torch.tensor([rng.randrange(len(blocks)) for _ in range(batch_size)])]
            x = repeat_halves(x, args.copy_fraction, rng)
            yield {"input_ids": x, "labels": x}

    def finetune_batches() -> Iterator[dict[str, torch.Tensor]]:
        for batch in length_batches(train_enc, batch_size, rng):
            yield collate(batch, pad_id, args.prompt_loss_weight)

    curves = Curves()
    t0 = time.perf_counter()
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    copy_rng = torch.Generator().manual_seed(args.seed)

    def copy_batches() -> Iterator[dict[str, torch.Tensor]]:
        while True:
            yield copy_warmup_batch(max(batch_size, 32), ordinary, copy_rng)

    run_stage(
        "copy warm-up",
        model,
        copy_batches(),
        int(args.copy_warmup_steps or 0),
        args,
        device,
        curves.copy_loss,
    )
    copy_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pretrain_steps = int(args.pretrain_steps or 0)
    run_stage(
        "pre-train", model, pretrain_batches(), pretrain_steps, args, device, curves.pretrain_loss
    )
    pretrain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    probe = valid_enc[:256]
    run_stage(
        "fine-tune",
        model,
        finetune_batches(),
        int(args.finetune_steps or 0),
        args,
        device,
        curves.finetune_loss,
        evaluate=(lambda: mean_loss(model, probe, pad_id, device, batch_size)) if probe else None,
        valid_curve=curves.valid_loss,
    )
    finetune_s = time.perf_counter() - t0
    sample = valid_enc[: args.exact_match_samples]
    em = (
        exact_match(model, tokenizer, sample, device, int(args.max_new_tokens or 0))
        if sample
        else 0.0
    )

    metrics = {
        "parameters": n_params,
        "vocab_size": len(tokenizer),
        "device": device,
        "threads": torch.get_num_threads(),
        "train_examples": len(train_enc),
        "valid_examples": len(valid_enc),
        "pretrain_blocks": len(blocks),
        "final_copy_loss": tail_mean(curves.copy_loss),
        "final_pretrain_loss": tail_mean(curves.pretrain_loss),
        "final_finetune_loss": tail_mean(curves.finetune_loss),
        "valid_loss": curves.valid_loss[-1][1] if curves.valid_loss else None,
        "valid_exact_match": em,
        "valid_exact_match_samples": len(sample),
        "tokenizer_seconds": round(tokenizer_s, 2),
        "copy_warmup_seconds": round(copy_s, 2),
        "pretrain_seconds": round(pretrain_s, 2),
        "finetune_seconds": round(finetune_s, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        "data_hash": manifest.get("data_hash"),
        "curves": asdict(curves),
    }
    out_dir = ROOT / args.out_dir
    save_checkpoint(out_dir, model, tokenizer, args, resolved, curves, metrics)
    # The questions it was trained on, for serving's asked-field model (knowledge.asked_field).
    if (data_dir / FIELD_QUESTIONS_FILE).exists():
        shutil.copyfile(data_dir / FIELD_QUESTIONS_FILE, out_dir / FIELD_QUESTIONS_FILE)
    logger.info(
        "Generator saved to %s: valid loss %s, exact match %.1f%% (%d samples), %.0fs in all",
        out_dir,
        f"{metrics['valid_loss']:.4f}" if metrics["valid_loss"] is not None else "n/a",
        100 * em,
        len(sample),
        metrics["total_seconds"],
    )
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    """Train the generator; returns an exit code."""
    args = parse_args(TrainGeneratorArgs, argv, "shopbot train-generator", __doc__)
    return exit_code(train, args, logger)


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
