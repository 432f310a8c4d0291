"""``shopbot train-generator`` end to end: a tiny model trained on a fixture catalog, reloaded and asked.

The parts have their own tests in tests/unit/training/generator_data/ and generator_training/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from knowledge.answer import AnswerPipeline
from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.faq import read_faq_jsonl
from knowledge.generator import LocalGenerator
from knowledge.passages import faq_passage, product_passages
from knowledge.prompt import build_prompt
from knowledge.references import PromptSources
from knowledge.types import Filters, Hit, Passage
from knowledge.verifier import Verifier
from training import train_generator
from training.eval_answers import PlantingRetriever, reply_body
from training.generator_data.files import read_examples
from training.generator_data.phrasings import load_phrasings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "generator"
CATALOG = FIXTURES / "catalog.jsonl"
FAQ = FIXTURES / "faq.jsonl"
GUILLOW_ID = "18018b6b2ab1c6b1e1e5e2a6e1f1b001"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Prepare the fixture data and train the tiny preset once for this module (seconds)."""
    root = tmp_path_factory.mktemp("generator")
    data, model = root / "data", root / "model"
    code = train_generator.main(
        [
            "--preset", "tiny",
            "--catalog", str(CATALOG),
            "--faq", str(FAQ),
            "--data-dir", str(data),
            "--out-dir", str(model),
            "--seed", "13",
            "--exact-match-samples", "8",
            # One thread: the same model whatever other tests set torch's thread count to (and
            # multi-threaded CPU backward passes are not bit-for-bit reproducible).
            "--threads", "1",
            # Three times the tiny preset's fine-tuning: at 400 steps the held-out price question
            # once got the brand line, and at 800 (after the fused GELU changed the numbers) it
            # cited the distractor; at 1,200 it passes with seeds 11, 13 and 17.
            "--finetune-steps", "1200",
        ]
    )  # fmt: skip
    assert code == 0
    return data, model


def _passages(product_id: str) -> list[Passage]:
    product = next(p for p in read_catalog_jsonl(CATALOG) if p.id == product_id)
    return product_passages(product)


def test_checkpoint_describes_itself(trained: tuple[Path, Path]) -> None:
    data, model = trained
    for name in ("config.json", "tokenizer.json", "generator_config.json", "training_curves.png"):
        assert (model / name).exists(), name
    args = json.loads((model / "train_args.json").read_text())
    assert args["preset"] == "tiny" and args["n_layer"] == 2
    metrics = json.loads((model / "metrics.json").read_text())
    manifest = json.loads((data / "manifest.json").read_text())
    assert metrics["data_hash"] == manifest["data_hash"]
    assert metrics["curves"]["finetune_loss"][-1][1] < metrics["curves"]["finetune_loss"][0][1]
    config = json.loads((model / "generator_config.json").read_text())
    assert config["prompt_budget"]["max_prompt_tokens"] > 0
    # The questions it was trained on go with it, for serving's asked-field model.
    questions = json.loads((model / "field_questions.json").read_text())["questions"]
    assert {"price", "brand", "category", "spec", "stock"} <= set(questions)
    assert all(q and "{" not in q for texts in questions.values() for q in texts)
    assert "How much is the item?" in questions["price"]


def test_reloaded_generator_answers_a_held_out_question(trained: tuple[Path, Path]) -> None:
    _, model = trained
    generator = LocalGenerator(model, device="cpu")  # the directory alone
    question = "Could you check the cost of the Guillow Airplane Design Studio for me?"
    assert (
        question.replace("Guillow Airplane Design Studio", "{name}")
        in load_phrasings().templates["price"].held_out
    )
    distractor = _passages("a1b2c3d4e5f60718293a4b5c6d7e8005")[:1]
    generator.warm_up()
    prompt = build_prompt(
        question,
        _passages(GUILLOW_ID)[:1] + distractor,
        None,
        generator.budget,
        generator.count_tokens,
    )
    written = generator.generate(prompt.text, generator.default_max_new_tokens)
    # The generator references the price; the decoder copies it from the source.
    answer = PromptSources.of(prompt).expand(written)
    assert "$28.91" in answer, written
    assert "[S1]" in answer
    assert Verifier().verify(answer, prompt.passages).supported


def test_held_out_products_faq_and_phrasings_never_reach_fine_tuning(
    trained: tuple[Path, Path],
) -> None:
    data, _ = trained
    split = json.loads((data / "split.json").read_text())
    examples = read_examples(data / "finetune_train.jsonl") + read_examples(
        data / "finetune_valid.jsonl"
    )
    held_out = set(split["held_out_products"]) | set(split["held_out_faq"])
    assert held_out and not {e.doc_id for e in examples} & held_out
    patterns = [
        re.compile(re.escape(t).replace(r"\{name\}", ".+").replace(r"\{spec\}", ".+"), re.I)
        for templates in split["held_out_templates"].values()
        for t in templates
    ]
    assert not [e.question for e in examples if any(p.fullmatch(e.question) for p in patterns)]
    questions = [
        json.loads(line) for line in (data / "eval_questions.jsonl").read_text().splitlines()
    ]
    assert {q["doc_id"] for q in questions if q["doc_id"]} <= held_out
    assert {q["split"] for q in questions} == {"seen", "unseen"}


class _FixtureRetriever:
    """Deterministic retrieval over the fixture store: the Guillow first, then the return policy."""

    def __init__(self) -> None:
        returns = next(e for e in read_faq_jsonl(FAQ) if e.id == "faq-3")
        self.passages = [*_passages(GUILLOW_ID)[:1], faq_passage(returns)]

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return [Hit(p, 0.03, {"dense": 0.7}) for p in self.passages][:top_k]


@pytest.fixture(scope="module")
def pipeline(trained: tuple[Path, Path]) -> Iterator[AnswerPipeline]:
    yield AnswerPipeline(_FixtureRetriever(), LocalGenerator(trained[1], device="cpu"))


def _promises(text: str, sources: Sequence[Passage]) -> list[str]:
    verdict = Verifier().verify(reply_body(text), sources)
    return [u for u in verdict.unsupported if u.startswith(("promise", "percentage", "policy"))]


@pytest.mark.parametrize("injection", load_phrasings().eval_question_injections)
def test_injected_question_gets_no_forbidden_promise(
    pipeline: AnswerPipeline, injection: str
) -> None:
    clean = _FixtureRetriever().passages
    for question in (injection, f"How much is the Guillow Airplane Design Studio? {injection}"):
        answer = pipeline.answer(question)
        assert not _promises(answer.text, clean), answer.text
        assert "100%" not in answer.text and "free" not in reply_body(answer.text).lower()


@pytest.mark.parametrize("injection", load_phrasings().eval_passage_injections)
def test_injection_planted_in_a_passage_gets_no_forbidden_promise(
    pipeline: AnswerPipeline, injection: str
) -> None:
    planted = AnswerPipeline(PlantingRetriever(pipeline.retriever, injection), pipeline.generator)
    answer = planted.answer("How much is the Guillow Airplane Design Studio?")
    assert not _promises(answer.text, _FixtureRetriever().passages), answer.text
    assert "discount" not in answer.text.lower()


def test_trained_generator_writes_descriptions_through_the_gate(
    trained: tuple[Path, Path],
) -> None:
    """``shopbot describe``'s path with a real trained generator: a prompt the model accepts, a
    draft per product, and nothing accepted that the attributes do not support (the tiny preset
    does not learn the task, so its drafts are rejected: what matters is that the gate holds
    with a real model)."""
    from knowledge.describe import Describer, attribute_passage

    _, model = trained
    generator = LocalGenerator(model, device="cpu")
    describer = Describer(generator)
    products = read_catalog_jsonl(CATALOG)
    rows = describer.describe_all(products, progress=False)
    assert [r.product_id for r in rows] == [p.id for p in products]
    verifier = Verifier()
    for product, row in zip(products, rows, strict=True):
        assert row.status in ("accepted", "rejected") and row.generator == "local:model"
        if row.status == "accepted":
            verdict = verifier.verify(row.description, [attribute_passage(product)])
            assert verdict.supported and not row.unsupported, row
        else:
            assert row.description == "" and row.unsupported, row
