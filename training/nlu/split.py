"""The grouped, intent-stratified train/test split and the per-intent cap of the Rasa files."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence

from training.nlu.examples import NluExample


def split_grouped(
    rows: Sequence[NluExample], test_fraction: float, seed: int
) -> tuple[list[NluExample], list[NluExample]]:
    """Split into train and test by whole paraphrase groups, stratified by intent.

    Each group belongs to the intent most of its rows carry. Per intent, groups are shuffled
    (seeded) and a group goes to test when that brings the intent's test count closer to
    ``test_fraction`` of its rows; an intent with two or more groups always gets at least one
    group on each side.

    Args:
        rows: Examples with groups (see :func:`assign_paraphrase_groups`).
        test_fraction: Target share of each intent in the test split, in (0, 1).
        seed: Seed of the shuffle.

    Returns:
        ``(train, test)``, each in input order.

    Raises:
        ValueError: If ``test_fraction`` is outside (0, 1) or a row has no group.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be in (0, 1). Currently, test_fraction is {test_fraction}."
        )
    members: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if not row.group:
            raise ValueError(
                f"rows[{index}]={row!r} has no group; call assign_paraphrase_groups first."
            )
        members[row.group].append(index)
    groups_of_label: dict[str, list[str]] = defaultdict(list)
    for group, indices in members.items():
        labels = Counter(rows[i].intent for i in indices).most_common()
        top = min(label for label, count in labels if count == labels[0][1])
        groups_of_label[top].append(group)
    test_groups: set[str] = set()
    for label in sorted(groups_of_label):
        groups = sorted(groups_of_label[label])
        random.Random(f"{seed}:split:{label}").shuffle(groups)
        total = sum(len(members[g]) for g in groups)
        target = test_fraction * total
        chosen: list[str] = []
        count = 0
        for group in groups:
            size = len(members[group])
            if abs(count + size - target) < abs(count - target):
                chosen.append(group)
                count += size
        if len(groups) >= 2:
            if not chosen:
                chosen = [min(groups, key=lambda g: (len(members[g]), g))]
            elif len(chosen) == len(groups):
                chosen.remove(max(chosen, key=lambda g: (len(members[g]), g)))
        test_groups.update(chosen)
    train = [row for row in rows if row.group not in test_groups]
    test = [row for row in rows if row.group in test_groups]
    return train, test


def cap_per_intent(
    examples: Sequence[NluExample], limit: int | None, seed: int
) -> list[NluExample]:
    """Keep at most ``limit`` examples per intent, spread over as many groups as possible.

    Groups are visited in a seeded order, taking one example from each in turn, so a capped
    intent still covers many paraphrase groups.

    Args:
        examples: Examples with groups.
        limit: Maximum per intent; ``None`` keeps everything.
        seed: Seed of the group order.

    Returns:
        The kept examples, in input order.
    """
    if limit is None:
        return list(examples)
    by_intent: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    keep: set[int] = set()
    for index, example in enumerate(examples):
        if example.source == "seed":  # seed phrasings are never capped away
            keep.add(index)
            continue
        by_intent[example.intent][example.group].append(index)
    for intent in sorted(by_intent):
        groups = sorted(by_intent[intent])
        random.Random(f"{seed}:cap:{intent}").shuffle(groups)
        queues = [list(by_intent[intent][g]) for g in groups]
        taken = 0
        depth = 0
        while taken < limit and any(depth < len(q) for q in queues):
            for queue in queues:
                if depth < len(queue) and taken < limit:
                    keep.add(queue[depth])
                    taken += 1
            depth += 1
    return [example for index, example in enumerate(examples) if index in keep]
