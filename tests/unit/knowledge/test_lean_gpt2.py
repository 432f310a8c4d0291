"""The lean GPT-2 decoder writes what transformers writes, alone and in left-padded batches."""

from __future__ import annotations

import random
from typing import Any

import pytest

from knowledge.batch_decoding import TransformersDecoding, greedy_decoding
from knowledge.lean_gpt2 import LeanGpt2, supports

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _gpt2(**overrides: Any) -> Any:
    torch.manual_seed(0)
    options: dict[str, Any] = {
        "vocab_size": 300,
        "n_positions": 96,
        "n_embd": 32,
        "n_layer": 2,
        "n_head": 4,
    }
    options.update(overrides)
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(**options)).eval()


def _greedy(decoding: Any, rows: list[list[int]], steps: int) -> list[list[int]]:
    session = decoding.start(rows, 0, steps)
    out = [[t] for t in session.first]
    tokens = session.first
    for _ in range(steps - 1):
        tokens = session.step(tokens)
        for row, token in zip(out, tokens, strict=True):
            row.append(token)
    return out


def _prompts(n: int, seed: int = 1) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(2, 300) for _ in range(rng.randrange(5, 40))] for _ in range(n)]


@pytest.mark.parametrize("activation", ["gelu_new", "gelu_pytorch_tanh"])
def test_one_prompt_decodes_to_the_same_tokens_and_logits_as_transformers(
    activation: str,
) -> None:
    model = _gpt2(activation_function=activation)
    lean, reference = LeanGpt2(model), TransformersDecoding(model, "cpu")
    for prompt in _prompts(6):
        assert _greedy(lean, [prompt], 20) == _greedy(reference, [prompt], 20)


def test_left_padded_rows_each_decode_what_they_decode_alone() -> None:
    model = _gpt2()
    lean = LeanGpt2(model)
    prompts = _prompts(5, seed=7)  # different lengths: the shorter ones are left-padded
    alone = [_greedy(TransformersDecoding(model, "cpu"), [p], 12)[0] for p in prompts]
    assert _greedy(lean, prompts, 12) == alone


def test_dropping_finished_rows_keeps_the_others_on_course() -> None:
    model = _gpt2()
    lean = LeanGpt2(model)
    prompts = _prompts(3, seed=3)
    alone = [_greedy(lean, [p], 10)[0] for p in prompts]
    session = lean.start(prompts, 0, 10)
    tokens, written = session.first, [[t] for t in session.first]
    for step in range(9):
        if step == 4:  # the first row finishes; the two others go on in the opposite order
            session.keep([2, 1])
            tokens, written = [tokens[2], tokens[1]], [written[2], written[1]]
        tokens = session.step(tokens)
        for row, token in zip(written, tokens, strict=True):
            row.append(token)
    assert written == [alone[2], alone[1]]


def test_a_decoding_that_outruns_its_cache_says_so() -> None:
    session = LeanGpt2(_gpt2()).start([[5, 6, 7]], 0, 2)
    tokens = session.step(session.first)
    tokens = session.step(tokens)  # the second new token: the cache holds prompt + 2
    with pytest.raises(ValueError, match="larger max_new_tokens"):
        session.step(tokens)


def test_models_it_does_not_implement_decode_through_transformers() -> None:
    assert supports(_gpt2()) == ""
    layered = _gpt2(scale_attn_by_inverse_layer_idx=True)
    assert "scale_attn_by_inverse_layer_idx" in supports(layered)
    assert isinstance(greedy_decoding(layered, "cpu"), TransformersDecoding)
    with pytest.raises(ValueError, match="cannot run this model"):
        LeanGpt2(layered)
    assert isinstance(greedy_decoding(_gpt2(), "cpu"), LeanGpt2)
    assert isinstance(greedy_decoding(_gpt2(), "cpu", "transformers"), TransformersDecoding)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=96,
    )  # fmt: skip
    llama = transformers.LlamaForCausalLM(config).eval()
    assert "llama" in supports(llama)
    decoding = greedy_decoding(llama, "cpu")
    assert isinstance(decoding, TransformersDecoding)
    prompts = _prompts(2, seed=5)
    alone = [_greedy(decoding, [p], 6)[0] for p in prompts]
    assert _greedy(decoding, prompts, 6) == alone  # the padded batch through transformers too
