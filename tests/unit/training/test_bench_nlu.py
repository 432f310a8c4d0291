"""The NLU bench section's scoring on shoppers' own words (the trained pipelines run in `make bench`)."""

from __future__ import annotations

from training.bench.nlu import OOS, PipelineRun, evaluate, shopper_markdown, shopper_messages


def test_the_independent_set_is_the_frozen_one_and_quick_runs_skip_it() -> None:
    messages = shopper_messages(quick=False)
    assert len(messages) >= 800 and len({i for _, i in messages}) >= 37
    assert shopper_messages(quick=True) == []


def test_both_pipelines_are_scored_and_shown_side_by_side() -> None:
    gold = ["track_order", "greet", OOS, OOS]
    runs = {
        "DIET (Rasa default)": ["track_order", "goodbye", "greet", OOS],
        "BERT (ShopBot)": ["track_order", "greet", OOS, "greet"],
    }
    scores = {}
    for name, intents in runs.items():
        run = PipelineRun(name, 1.0, [0.01, 0.02, 0.03, 0.04], intents=intents)
        run.top_in_scope = [i if i != OOS else "greet" for i in intents]
        run.top_confidence = [0.9, 0.8, 0.2, 0.9]
        run.oos_class_wins = [i == OOS for i in intents]
        run.fallback = [False] * 4
        scores[name] = evaluate(run, gold)
    assert scores["DIET (Rasa default)"]["accuracy"] == 0.5
    assert scores["BERT (ShopBot)"]["accuracy"] == 0.75
    assert scores["BERT (ShopBot)"]["oos_recall_shipped"] == 0.5
    table = shopper_markdown(scores, len(gold), gold)
    assert "4 messages, 2 out of scope" in table
    assert "| DIET (Rasa default) |" in table and "| BERT (ShopBot) |" in table
