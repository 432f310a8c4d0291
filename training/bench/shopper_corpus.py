"""Real text for seeded conversations: what shoppers type, what the bot answers, what agents write.

- **Shopper messages** by intent: the prepared NLU test split (``var/nlu/test.csv``, written by
  ``shopbot prepare``; Bitext customer-support utterances plus the project's own phrasings).
- **Sentiment** of a shopper message: its label in the prepared sentiment sets
  (``var/sentiment/*.csv``, rows of source ``shopper``, whose messages join the pool under the
  intent their group names) where it has one, else ``neutral``.
- **Bot replies**: the response the rules give the intent (``bot/data/rules``, texts from
  ``bot/domain``); for intents that a custom action answers, the first paragraph of a Bitext
  support response to that intent (``data/demo/bitext``).
- **Agent replies**: first paragraphs of Bitext support responses, which support agents wrote.
"""

from __future__ import annotations

import csv
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

NLU_TEST = Path("var/nlu/test.csv")
SENTIMENT_DIR = Path("var/sentiment")
BITEXT_RESPONSES = Path("data/demo/bitext/official_2023-08_4514_entities_responses.csv")
RULES_DIR = Path("bot/data/rules")
DOMAIN_DIR = Path("bot/domain")
INTENT_ALIASES = {"oos": "out_of_scope"}  # the prepared split's label → the domain's intent
MAX_REPLY_CHARS = 400
HUMAN_INTENTS = ("contact_human_agent", "human_handoff")
OFFER_ACTION = "utter_offer_human"
REQUIRED_INTENTS = ("contact_human_agent", "affirm")  # asking for a human; accepting the offer


def first_paragraph(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    """The first non-empty paragraph of ``text``, cut at a word boundary near ``limit``."""
    para = next((p.strip() for p in text.split("\n\n") if p.strip()), text.strip())
    para = " ".join(para.split())
    if len(para) <= limit:
        return para
    return para[:limit].rsplit(" ", 1)[0] + "…"


@dataclass
class ShopperCorpus:
    """Texts by intent, and the lookups that turn an intent into a turn.

    Args:
        messages: Shopper messages by intent.
        sentiment: The sentiment label of the messages that have one.
        bot_replies: The bot's reply text by intent.
        bot_actions: The action that answers each intent (``utter_*`` or a custom action).
        agent_replies: Support responses by intent (what an agent writes back).
        offer_text: The bot's offer of a human (``utter_offer_human``) to a frustrated shopper.
        offer_buttons: Its buttons.
        default_reply: What the bot says to an intent it has no reply for (``utter_default``).
    """

    messages: dict[str, list[str]]
    sentiment: dict[str, str] = field(default_factory=dict)
    bot_replies: dict[str, str] = field(default_factory=dict)
    bot_actions: dict[str, str] = field(default_factory=dict)
    agent_replies: dict[str, list[str]] = field(default_factory=dict)
    offer_text: str = ""
    offer_buttons: list[dict[str, Any]] = field(default_factory=list)
    default_reply: str = ""

    @property
    def topics(self) -> list[str]:
        """Intents a conversation can be about: every intent with messages but the human ones."""
        return sorted(i for i in self.messages if i not in HUMAN_INTENTS)

    def message(self, rng: random.Random, intent: str) -> str:
        """A shopper message of ``intent``."""
        return rng.choice(self.messages[intent])

    def sentiment_of(self, text: str) -> str:
        """The text's labelled sentiment, ``neutral`` when it has no label."""
        return self.sentiment.get(text, "neutral")

    def bot_reply(self, intent: str) -> tuple[str, str]:
        """The action answering ``intent`` and its text."""
        action = self.bot_actions.get(intent, "utter_default")
        return action, self.bot_replies.get(intent) or self.default_reply

    def agent_reply(self, rng: random.Random, intent: str) -> str:
        """A support agent's reply about ``intent`` (any topic's when it has none)."""
        pool = self.agent_replies.get(intent) or self.agent_replies[rng.choice(self.agent_intents)]
        return rng.choice(pool)

    @property
    def agent_intents(self) -> list[str]:
        """Intents with agent replies."""
        return sorted(self.agent_replies)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _domain_responses(domain_dir: Path) -> dict[str, dict[str, Any]]:
    """``utter_*`` → its first variant with a text (``text``, maybe ``buttons``), every file."""
    responses: dict[str, dict[str, Any]] = {}
    for path in sorted(domain_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            variant = next((v for v in variants or [] if v.get("text")), None)
            if variant:
                responses[name] = variant
    return responses


def _rule_actions(rules_dir: Path) -> dict[str, str]:
    """Intent → the action of the first unconditional rule that starts with that intent."""
    actions: dict[str, str] = {}
    for path in sorted(rules_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or []:
            steps = rule.get("steps") or []
            if rule.get("condition") or len(steps) < 2:
                continue
            intent, action = steps[0].get("intent"), steps[1].get("action")
            if intent and action and action != "action_deactivate_loop":
                actions.setdefault(str(intent), str(action))
    return actions


def load_corpus(root: Path) -> ShopperCorpus:
    """Read the texts from the project (``shopbot prepare`` must have written ``var/nlu``).

    Raises:
        FileNotFoundError: Without the prepared NLU split, naming the command that writes it.
    """
    nlu_test = root / NLU_TEST
    if not nlu_test.exists():
        raise FileNotFoundError(
            f"No shopper messages at {nlu_test}: run `shopbot prepare --preset tiny` (or demo) "
            "first; the seeded conversations use the prepared NLU test split."
        )
    messages: dict[str, list[str]] = defaultdict(list)
    for row in _read_csv(nlu_test):
        text = " ".join(row["text"].split())
        if text:
            messages[INTENT_ALIASES.get(row["label"], row["label"])].append(text)
    sentiment: dict[str, str] = {}
    for path in sorted((root / SENTIMENT_DIR).glob("*.csv")):
        for row in _read_csv(path):
            if row.get("source") != "shopper":
                continue
            text = " ".join(row["text"].split())
            sentiment[text] = row["label"]
            # Shopper rows come from the NLU data: group "nlu:<intent>/<n>" names their intent.
            group = row.get("group", "")
            if group.startswith("nlu:") and "/" in group:
                intent = group[4:].split("/", 1)[0]
                if text not in messages[INTENT_ALIASES.get(intent, intent)]:
                    messages[INTENT_ALIASES.get(intent, intent)].append(text)
    agent_replies: dict[str, list[str]] = defaultdict(list)
    bitext = root / BITEXT_RESPONSES
    if bitext.exists():
        for row in _read_csv(bitext):
            agent_replies[row["intent"]].append(first_paragraph(row["response"]))
    responses = _domain_responses(root / DOMAIN_DIR)
    domain = {name: str(variant["text"]) for name, variant in responses.items()}
    rule_actions = _rule_actions(root / RULES_DIR)
    bot_replies: dict[str, str] = {}
    bot_actions: dict[str, str] = {}
    for intent in messages:
        action = rule_actions.get(intent)
        if action and action in domain:
            bot_actions[intent], bot_replies[intent] = action, domain[action]
        elif agent_replies.get(intent):
            bot_actions[intent] = action or "action_answer"
            bot_replies[intent] = agent_replies[intent][0]
    if not domain.get("utter_default"):
        raise ValueError(f"No utter_default response in {root / DOMAIN_DIR}; cannot seed replies.")
    if not agent_replies:
        raise FileNotFoundError(f"No support responses at {bitext}: the demo data is incomplete.")
    offer = responses.get(OFFER_ACTION)
    if offer is None:
        raise ValueError(f"No {OFFER_ACTION} response in {root / DOMAIN_DIR}; cannot seed offers.")
    corpus = ShopperCorpus(
        dict(messages),
        sentiment,
        bot_replies,
        bot_actions,
        dict(agent_replies),
        offer_text=str(offer["text"]),
        offer_buttons=list(offer.get("buttons") or []),
        default_reply=domain["utter_default"],
    )
    missing = [i for i in REQUIRED_INTENTS if i not in corpus.messages]
    if missing:
        raise ValueError(
            f"The NLU split at {nlu_test} has no messages of {', '.join(missing)}: the seeded "
            "handoffs need them. Run `shopbot prepare` again."
        )
    logger.info(
        "Seed corpus: %d shopper messages in %d intents (%d with a sentiment label), "
        "%d agent replies",
        sum(len(v) for v in messages.values()),
        len(messages),
        len(sentiment),
        sum(len(v) for v in agent_replies.values()),
    )
    return corpus
