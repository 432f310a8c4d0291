"""Fine-tune an :class:`~core.encoder.EncoderClassifier` on labelled texts.

Held-out slice (grouped by paraphrase group when groups are known) → length-bucketed batches →
AdamW with linear warm-up/decay → early stopping on held-out accuracy → temperature scaling and
the out-of-scope threshold on the same held-out slice.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.metrics import f1_score
from tqdm.auto import tqdm

from core.calibration import (
    choose_oos_threshold,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    softmax,
)
from core.device import resolve_device, set_torch_threads
from core.encoder import EncoderClassifier, TextClassifier, load_pretrained, pad_batch
from core.encoder_config import TrainConfig, resolve_encoder_path
from core.feature_head import AuxiliaryTask, AuxiliaryTrainer, FeatureHead

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """A trained classifier and what to save beside it.

    Args:
        classifier: The trained, calibrated classifier.
        train_args: Resolved configuration, base model, data hash, sizes, versions.
        heldout_metrics: Held-out accuracy, macro-F1 and calibration figures.
        calibration: Temperature and threshold details (for ``calibration.json``).
        train_seconds: Wall time of the whole fit.
        auxiliary_head: The second task's head, when one was trained alongside.
    """

    classifier: TextClassifier
    train_args: dict[str, Any]
    heldout_metrics: dict[str, Any]
    calibration: dict[str, Any]
    train_seconds: float
    auxiliary_head: FeatureHead | None = None

    def save(self, directory: str, metrics: dict[str, Any] | None = None) -> None:
        """Write the classifier directory; ``metrics`` (if given) replace the held-out ones."""
        self.classifier.save(
            directory,
            self.train_args,
            metrics if metrics is not None else {"heldout": self.heldout_metrics},
            self.calibration,
        )


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def heldout_split(
    labels: list[str], groups: list[str] | None, fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Split row indices into train and held-out, per label, never splitting a group.

    Each label gives whole groups (rows without groups are their own group) to the held-out
    slice until it holds ``fraction`` of that label's rows, keeping at least one group for
    training.

    Returns:
        (train indices, held-out indices), each sorted.
    """
    if fraction <= 0:
        return list(range(len(labels))), []
    rng = random.Random(seed)
    by_label: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, label in enumerate(labels):
        group = groups[i] if groups is not None and groups[i] else f"#row{i}"
        by_label[label][group].append(i)
    train: list[int] = []
    heldout: list[int] = []
    for label in sorted(by_label):
        label_groups = sorted(by_label[label].items())
        rng.shuffle(label_groups)
        n_rows = sum(len(rows) for _, rows in label_groups)
        taken = 0
        for k, (_, rows) in enumerate(label_groups):
            if taken < fraction * n_rows and k < len(label_groups) - 1:
                heldout += rows
                taken += len(rows)
            else:
                train += rows
    return sorted(train), sorted(heldout)


def pin_rows(
    train: list[int], heldout: list[int], pinned: Sequence[int], repeat: int
) -> tuple[list[int], list[int]]:
    """Move ``pinned`` rows out of the held-out slice and into training, ``repeat`` times each
    (whatever the split, capping and oversampling did with them)."""
    keep = set(pinned)
    heldout = [i for i in heldout if i not in keep]
    train = [i for i in train if i not in keep]
    train += [i for i in sorted(keep) for _ in range(max(1, repeat))]
    return train, heldout


def cap_per_label(indices: list[int], labels: list[str], cap: int | None, seed: int) -> list[int]:
    """Keep at most ``cap`` random rows per label (all when ``cap`` is None)."""
    if cap is None:
        return indices
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i in indices:
        by_label[labels[i]].append(i)
    kept: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        kept += rows if len(rows) <= cap else rng.sample(rows, cap)
    return sorted(kept)


def oversample_per_label(
    indices: list[int], labels: list[str], floor: int | None, seed: int
) -> list[int]:
    """Repeat random rows of labels with fewer than ``floor`` rows until they have ``floor``."""
    if floor is None:
        return indices
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i in indices:
        by_label[labels[i]].append(i)
    extra: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        if len(rows) < floor:
            extra += rng.choices(rows, k=floor - len(rows))
    return sorted(indices + extra)


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort by length within chunks of 50 batches, then shuffle the batches.

    Similar lengths share a batch (little padding) while batch order stays random.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def fit_classifier(
    texts: list[str],
    labels: list[str],
    config: TrainConfig,
    groups: list[str] | None = None,
    data_sha256: str | None = None,
    progress: bool = True,
    pinned: Sequence[int] = (),
    pinned_repeat: int = 1,
    auxiliary: AuxiliaryTask | None = None,
) -> FitResult:
    """Fine-tune, early-stop, calibrate and (optionally) pick the out-of-scope threshold.

    Args:
        texts: Training texts.
        labels: One label per text (at least two distinct labels).
        config: The resolved training configuration.
        groups: Paraphrase groups (held-out slice never splits one), or None.
        data_sha256: Hash of the training data, recorded with the model.
        progress: Show a tqdm bar (also hidden when logging is above INFO).
        pinned: Rows always trained on, never held out (an agent's corrections: the one place a
            phrasing is known to be misread), each seen ``pinned_repeat`` times per epoch.
        pinned_repeat: How many times a pinned row is repeated per epoch.
        auxiliary: A second task trained on the same encoder (multi-task), whose head is
            returned as ``auxiliary_head``; early stopping still follows this task alone.

    Returns:
        The classifier and its records.

    Raises:
        ValueError: Fewer than two labels, or lengths that do not match.
    """
    started = time.perf_counter()
    if len(texts) != len(labels) or (groups is not None and len(groups) != len(texts)):
        raise ValueError(
            f"texts, labels and groups must have the same length. Currently: {len(texts)} texts, "
            f"{len(labels)} labels, {None if groups is None else len(groups)} groups."
        )
    label_set = sorted(set(labels))
    if len(label_set) < 2:
        raise ValueError(
            f"labels must contain at least 2 distinct labels. Currently, labels are {label_set}."
        )
    device = resolve_device(config.device)
    base_model = resolve_encoder_path(config.model_name_or_path)
    threads = set_torch_threads(config.torch_threads) if device.type == "cpu" else 0
    logger.info(
        "Fine-tuning %s on %d examples, %d labels, device %s (%s CPU threads); config: %s",
        base_model,
        len(texts),
        len(label_set),
        device,
        threads or "n/a",
        json.dumps(config.as_dict()),
    )
    seed_everything(config.seed)
    label_to_id = {label: i for i, label in enumerate(label_set)}
    y_all = [label_to_id[label] for label in labels]
    train_idx, heldout_idx = heldout_split(labels, groups, config.eval_fraction, config.seed)
    train_idx = cap_per_label(train_idx, labels, config.max_examples_per_label, config.seed)
    train_idx = oversample_per_label(train_idx, labels, config.min_examples_per_label, config.seed)
    if pinned:
        train_idx, heldout_idx = pin_rows(train_idx, heldout_idx, pinned, pinned_repeat)
        logger.info("Pinned rows (corrections) %d, each %d times", len(set(pinned)), pinned_repeat)
    logger.info("Training rows %d, held-out rows %d", len(train_idx), len(heldout_idx))

    tokenizer, encoder = load_pretrained(base_model)
    model = EncoderClassifier(encoder, len(label_set), config.dropout)
    trainable = model.freeze(config.freeze_embeddings, config.freeze_layers)
    logger.info(
        "Trainable parameters: %d of %d",
        trainable,
        sum(p.numel() for p in model.parameters()),
    )
    model.to(device)
    aux = (
        AuxiliaryTrainer(auxiliary, model, tokenizer, config.max_length, config.batch_size, device)
        if auxiliary is not None
        else None
    )
    aux_params = list(aux.head.parameters()) if aux is not None else []
    classifier = TextClassifier(
        model,
        tokenizer,
        label_set,
        config.max_length,
        oos_label=config.oos_label,
        device=device,
    )
    encoded = tokenizer(
        [texts[i] for i in train_idx], truncation=True, max_length=config.max_length
    )["input_ids"]
    y_train = torch.tensor([y_all[i] for i in train_idx], dtype=torch.long)
    heldout_texts = [texts[i] for i in heldout_idx]
    y_heldout = np.array([y_all[i] for i in heldout_idx], dtype=np.int64)

    weights = None
    if config.class_weighting:
        counts = Counter(y_train.tolist())
        weights = torch.tensor(
            [
                len(y_train) / (len(label_set) * max(counts.get(c, 0), 1))
                for c in range(len(label_set))
            ],
            dtype=torch.float32,
            device=device,
        )
        logger.info("Class weights: %s", dict(zip(label_set, weights.tolist(), strict=True)))
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)

    head_params = list(model.head.parameters())
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": encoder_params, "lr": config.learning_rate},
            {"params": head_params, "lr": config.head_learning_rate},
            *([{"params": aux_params, "lr": config.head_learning_rate}] if aux_params else []),
        ],
        weight_decay=config.weight_decay,
    )
    rng = random.Random(config.seed)
    lengths = [len(ids) for ids in encoded]
    steps_per_epoch = -(-len(train_idx) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warmup = max(1, int(config.warmup_ratio * total_steps))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    eval_every = max(1, steps_per_epoch // config.evals_per_epoch)
    best_key: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    best_aux: dict[str, torch.Tensor] | None = None
    best_step = 0
    stale = 0
    step = 0
    history: list[dict[str, float]] = []
    show = progress and logger.getEffectiveLevel() <= logging.INFO
    bar = tqdm(total=total_steps, desc="fine-tune", unit="step", disable=not show)
    stop = False
    for epoch in range(config.epochs):
        model.train()
        for batch in bucketed_batches(lengths, config.batch_size, rng):
            input_ids, mask = pad_batch([encoded[i] for i in batch], tokenizer.pad_token_id)
            with torch.autocast(
                device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
            ):
                logits = model(input_ids.to(device), mask.to(device))  # (B, C)
            loss = loss_fn(logits.float(), y_train[batch].to(device))
            (loss + aux.loss() if aux is not None else loss).backward()
            trained = [p for p in model.parameters() if p.requires_grad]
            torch.nn.utils.clip_grad_norm_(trained + aux_params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
            if heldout_texts and (step % eval_every == 0 or step == total_steps):
                acc, nll = _heldout_scores(classifier, heldout_texts, y_heldout)
                history.append({"step": step, "accuracy": acc, "loss": nll})
                bar.set_postfix(
                    epoch=epoch + 1, loss=f"{loss.item():.3f}", heldout_acc=f"{acc:.4f}"
                )
                key = (acc, -nll)
                if best_key is None or key > best_key:
                    best_key, best_step, stale = key, step, 0
                    best_state = {
                        n: p.detach().clone()
                        for n, p in model.named_parameters()
                        if p.requires_grad
                    }
                    best_aux = aux.state() if aux is not None else None
                else:
                    stale += 1
                    if stale >= config.patience:
                        logger.info("Early stopping at step %d (best step %d)", step, best_step)
                        stop = True
                        break
                model.train()
        if stop:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state, strict=False)
    if aux is not None and best_aux is not None:
        aux.restore(best_aux)
    model.eval()

    heldout_metrics, calibration = _calibrate(classifier, heldout_texts, y_heldout, config)
    auxiliary_head = aux.export(classifier) if aux is not None else None
    heldout_metrics["history"] = history
    heldout_metrics["best_step"] = best_step if best_state is not None else step
    heldout_metrics["steps"] = step
    seconds = time.perf_counter() - started
    import transformers

    train_args = {
        "config": config.as_dict(),
        "base_model": base_model,
        "device": str(device),
        "torch_threads": threads,
        "data_sha256": data_sha256,
        "n_rows": len(texts),
        "n_train": len(train_idx),
        "n_train_distinct": len(set(train_idx)),
        "n_heldout": len(heldout_idx),
        "label_counts": dict(sorted(Counter(labels).items())),
        "train_seconds": seconds,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "auxiliary": None
        if auxiliary is None
        else {
            "layers": list(auxiliary.layers),
            "weight": auxiliary.weight,
            "n_rows": len(auxiliary.data.texts),
            "data_sha256": auxiliary.data.sha256,
        },
    }
    logger.info(
        "Fine-tuning done in %.1f s; held-out: %s",
        seconds,
        {k: v for k, v in heldout_metrics.items() if k != "history"},
    )
    return FitResult(classifier, train_args, heldout_metrics, calibration, seconds, auxiliary_head)


def _heldout_scores(
    classifier: TextClassifier, texts: list[str], y: np.ndarray
) -> tuple[float, float]:
    logits = classifier.logits(texts)
    probs = softmax(logits)
    return float((probs.argmax(axis=1) == y).mean()), negative_log_likelihood(probs, y)


def _calibrate(
    classifier: TextClassifier, texts: list[str], y: np.ndarray, config: TrainConfig
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the temperature and threshold on the held-out slice; return metrics and calibration."""
    if not texts:
        logger.warning(
            "No held-out slice (eval_fraction=%s): temperature 1.0, no out-of-scope threshold.",
            config.eval_fraction,
        )
        classifier.temperature, classifier.oos_threshold = 1.0, None
        return {"n": 0}, {"heldout_n": 0}
    logits = classifier.logits(texts)
    raw = softmax(logits)
    temperature = fit_temperature(logits, y)
    probs = softmax(logits, temperature)
    classifier.temperature = temperature
    preds = probs.argmax(axis=1)
    metrics: dict[str, Any] = {
        "n": len(y),
        "accuracy": float((preds == y).mean()),
        "macro_f1": float(
            f1_score(y, preds, average="macro", labels=np.unique(y), zero_division=0)
        ),
        "nll_before": negative_log_likelihood(raw, y),
        "nll_after": negative_log_likelihood(probs, y),
        "ece_before": expected_calibration_error(raw, y),
        "ece_after": expected_calibration_error(probs, y),
        "temperature": temperature,
    }
    calibration: dict[str, Any] = {"heldout_n": len(y), "temperature": temperature}
    if config.detect_oos:
        choice = choose_oos_threshold(probs, y, classifier.oos_index, config.oos_max_accuracy_drop)
        classifier.oos_threshold = choice.threshold
        calibration["threshold_choice"] = choice.as_dict()
        metrics["oos_threshold"] = choice.threshold
    else:
        classifier.oos_threshold = None
    return metrics, calibration
