"""``BertIntentClassifier``: a fine-tuned BERT-style encoder as a Rasa 3.6 intent classifier.

During ``rasa train`` it fine-tunes the encoder (default: the offline all-MiniLM-L6-v2) on the
NLU examples (see :mod:`core.encoder_fit`), calibrates its confidence with temperature
scaling on a held-out slice and picks the out-of-scope threshold there; the whole classifier
directory is stored in the Rasa model. At inference it sets ``intent`` and ``intent_ranking``
and, when the message looks out of scope (the trained ``out_of_scope`` class wins, or the best
in-scope intent's calibrated confidence is below the threshold), sets the intent to
``out_of_scope`` with confidence 1 - that in-scope confidence, keeping the original intents in
the ranking and the decision's details under ``oos`` in the parse data.

Config (``config.yml``)::

    - name: bot.nlu.intent_classifier.BertIntentClassifier
      preset: demo            # tiny | demo | full (core/encoder_config.py PRESETS)
      model_name_or_path: ""  # a local Hugging Face encoder directory; "" = bundled MiniLM
      oos_intent: out_of_scope
      oos_threshold: auto     # auto (chosen on held-out data) | off | a float in (0, 1)
      sentiment_data: var/sentiment/train.csv  # "" = no shared sentiment head
      sentiment_layers: [3, 6]

With ``sentiment_data`` the encoder is fine-tuned on sentiment too (:mod:`core.feature_head`:
each step adds a batch of the sentiment data for a head over the pooled hidden states of
``sentiment_layers``), so one encoder pass scores intent and sentiment; the scores go to
``BertSentimentAnalyzer`` with ``model_path: shared``, which reports them (decision 024).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    METADATA_EXAMPLE,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder_component import SHARED_SENTIMENT_KEY, EncoderComponent
from core.encoder import Prediction, TextClassifier
from core.encoder_config import TrainConfig
from core.feature_head import AuxiliaryTask, FeatureHead, LabelledTexts

SENTIMENT_HEAD_DIR = "sentiment_head"

logger = logging.getLogger(__name__)

OOS_KEY = "oos"
"""Parse-data key with the out-of-scope decision (score, threshold, best in-scope intent)."""

# Config keys passed straight to TrainConfig (None = the preset's value).
TRAIN_KEYS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "max_length",
    "seed",
    "device",
    "eval_fraction",
    "freeze_layers",
    "max_examples_per_label",
    "min_examples_per_label",
    "oos_max_accuracy_drop",
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class BertIntentClassifier(EncoderComponent, GraphComponent, IntentClassifier):
    """Intent classification with a fine-tuned encoder and calibrated out-of-scope detection."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see the module docstring)."""
        return {
            "model_name_or_path": "",
            "preset": "demo",
            "epochs": None,
            "batch_size": None,
            "learning_rate": None,
            "max_length": None,
            "seed": 42,
            "device": "auto",
            "eval_fraction": None,
            "freeze_layers": None,
            "max_examples_per_label": None,
            "min_examples_per_label": None,
            "oos_intent": "out_of_scope",
            "oos_threshold": "auto",
            "oos_max_accuracy_drop": 0.005,
            "quantize": "auto",
            "inference_batch_size": 64,
            # CPU threads torch uses in this process; 1 is as fast for one message and far
            # faster when the machine is busy; 0 leaves torch's default (all cores).
            "torch_threads": 1,
            "ranking_length": 10,
            # Examples exported from agents' corrections (``metadata: {correction_id: ...}``) are
            # always trained on, never held out, and repeated this many times per epoch.
            "correction_repeat": 8,
            # A CSV (text,label,group) to fit the shared sentiment head on; "" = none.
            "sentiment_data": "",
            "sentiment_layers": [3, 6],
            "sentiment_loss_weight": 1.0,
        }

    def _setup(self) -> None:
        """Check ``oos_threshold`` as soon as the component is created."""
        self._fixed_threshold = _parse_threshold(self._config["oos_threshold"])
        self._sentiment_head: FeatureHead | None = None

    def _check_trainable(self) -> None:
        """Resolve the training configuration (raises on an unknown preset or bad override) and
        check the shared sentiment head's data exists."""
        self.train_config()
        data = _sentiment_data_path(self._config)
        if data is not None and not data.is_file():
            raise ValueError(
                f"BertIntentClassifier sentiment_data {str(data)!r} does not exist. Run "
                f'`shopbot prepare` (it writes var/sentiment/train.csv) or set sentiment_data: "".'
            )

    @classmethod
    def resolve_train_config(cls, config: dict[str, Any]) -> TrainConfig:
        """Return the :class:`TrainConfig` a component configuration resolves to."""
        config = {**cls.get_default_config(), **config}
        overrides = {key: config.get(key) for key in TRAIN_KEYS}
        return TrainConfig.from_preset(
            str(config["preset"]),
            model_name_or_path=str(config["model_name_or_path"] or ""),
            oos_label=str(config["oos_intent"]),
            detect_oos=config["oos_threshold"] == "auto",
            **overrides,
        )

    def train_config(self) -> TrainConfig:
        """Return the resolved :class:`TrainConfig` for this component's configuration."""
        return self.resolve_train_config(self._config)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Make Rasa retrain this node when what it trains with changes.

        Rasa's cache key covers the component's config (``preset: demo``) but not what a preset
        means or the training code: without this, a changed preset silently reused the cached
        classifier (seen in the NLU benchmark). The key adds the resolved training configuration
        and the source of the training modules.
        """
        from core import calibration, encoder, encoder_config, encoder_fit, feature_head
        from core.artifacts import hash_inputs

        modules = (encoder, encoder_config, encoder_fit, calibration, feature_head)
        sources = [Path(str(module.__file__)) for module in modules]
        full = {**cls.get_default_config(), **config}
        data = _sentiment_data_path(full)
        return hash_inputs(
            [*sources, *([data] if data is not None else [])],
            extra={
                **cls.resolve_train_config(config).as_dict(),
                "sentiment": [full[k] for k in ("sentiment_layers", "sentiment_loss_weight")]
                if data is not None
                else None,
            },
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tune on the intent examples and store the classifier in the model storage."""
        from core.encoder_fit import fit_classifier

        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        texts = [str(e.get(TEXT)) for e in examples]
        labels = [str(e.get(INTENT)) for e in examples]
        groups = [_example_group(e) for e in examples]
        pinned = [i for i, e in enumerate(examples) if _example_meta(e).get("correction_id")]
        if len(set(labels)) < 2:
            raise ValueError(
                f"BertIntentClassifier needs NLU examples of at least 2 intents; the training "
                f"data has {sorted(set(labels))}. Add intents to the NLU data."
            )
        config = self.train_config()
        has_groups = any(groups)
        logger.info(
            "Training BertIntentClassifier on %d examples of %d intents (paraphrase groups: %s)",
            len(texts),
            len(set(labels)),
            "from example metadata" if has_groups else "none, held-out rows drawn at random",
        )
        result = fit_classifier(
            texts,
            labels,
            config,
            [g or f"#{i}" for i, g in enumerate(groups)] if has_groups else None,
            pinned=pinned,
            pinned_repeat=int(self._config["correction_repeat"]),
            auxiliary=self._sentiment_task(),
        )
        self._apply_configured_threshold(result.classifier)
        self._sentiment_head = result.auxiliary_head
        with self._model_storage.write_to(self._resource) as model_dir:
            result.save(str(model_dir))
            if self._sentiment_head is not None:
                self._sentiment_head.save(Path(model_dir) / SENTIMENT_HEAD_DIR)
        self._classifier = result.classifier
        return self._resource

    def _sentiment_task(self) -> AuxiliaryTask | None:
        """Sentiment as the second task of the fine-tuning, when configured."""
        data = _sentiment_data_path(self._config)
        if data is None:
            return None
        return AuxiliaryTask(
            LabelledTexts.read_csv(data),
            tuple(int(layer) for layer in self._config["sentiment_layers"]),
            weight=float(self._config["sentiment_loss_weight"]),
            seed=int(self._config["seed"]),
        )

    def _load_from(self, model_storage: ModelStorage, resource: Resource) -> None:
        """Load the trained classifier from the model storage."""
        try:
            with model_storage.read_from(resource) as model_dir:
                self._classifier = self._load_classifier(model_dir)
                head_dir = Path(model_dir) / SENTIMENT_HEAD_DIR
                if head_dir.is_dir():
                    self._sentiment_head = FeatureHead.load(head_dir)
        except ValueError:
            logger.warning(
                "BertIntentClassifier: resource %r is not in the model; intents will not be "
                "predicted. Retrain with `rasa train`.",
                resource.name,
            )
            return
        self._apply_configured_threshold(self._classifier)

    def _apply_configured_threshold(self, classifier: TextClassifier) -> None:
        """A float ``oos_threshold`` replaces the learned one; ``off`` removes it."""
        if self._fixed_threshold is not None or self._config["oos_threshold"] in (None, "off"):
            classifier.oos_threshold = self._fixed_threshold

    def process(self, messages: list[Message]) -> list[Message]:
        """Classify every message with text; one without text (``""``) and without an intent
        gets no intent with confidence 0, as Rasa's DIET gives it, so the FallbackClassifier
        after it reads ``nlu_fallback`` instead of failing (an empty ``/model/parse`` was a 500)."""
        super().process(messages)
        for message in messages:
            if not message.get(TEXT) and message.get(INTENT) is None:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages

    def _process_batch(self, messages: list[Message], classifier: TextClassifier) -> None:
        """Set ``intent``, ``intent_ranking`` and ``oos`` on every message (and, with a shared
        sentiment head, the sentiment scores of the same encoder pass)."""
        texts, batch_size = self._texts(messages)
        head = self._sentiment_head
        logits, features = classifier.logits_and_layers(
            texts, head.layers if head is not None else (), batch_size
        )
        for message, prediction in zip(messages, classifier.decide(logits), strict=True):
            self._annotate(message, prediction)
        if head is not None:
            for message, row in zip(messages, head.predict_proba(features), strict=True):
                message.set(
                    SHARED_SENTIMENT_KEY,
                    {"labels": head.labels, "scores": row.tolist(), "model": head.model_id},
                )

    def _annotate(self, message: Message, prediction: Prediction) -> None:
        assert self._classifier is not None
        oos_intent = str(self._config["oos_intent"])
        ranking = [
            {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
            for name, confidence in prediction.ranking
        ]
        if prediction.is_oos:
            ranking = [
                {INTENT_NAME_KEY: oos_intent, PREDICTED_CONFIDENCE_KEY: prediction.confidence}
            ] + [r for r in ranking if r[INTENT_NAME_KEY] != oos_intent]
        intent = {
            INTENT_NAME_KEY: prediction.label,
            PREDICTED_CONFIDENCE_KEY: prediction.confidence,
        }
        message.set(INTENT, intent, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY, ranking[: int(self._config["ranking_length"])], add_to_output=True
        )
        message.set(
            OOS_KEY,
            {
                "is_oos": prediction.is_oos,
                "score": prediction.oos_score,
                "threshold": self._classifier.oos_threshold,
                "top_intent": prediction.top_label,
                "top_confidence": prediction.top_confidence,
                "class_confidence": prediction.oos_class_confidence,
            },
            add_to_output=True,
        )


def _parse_threshold(value: Any) -> float | None:
    """``auto``/``off``/None → None (auto is decided in training); a float in (0, 1) → itself."""
    if value in ("auto", "off", None):
        return None
    try:
        threshold = float(value)
    except (TypeError, ValueError):
        threshold = -1.0
    if not 0.0 < threshold < 1.0:
        raise ValueError(
            f"BertIntentClassifier oos_threshold must be 'auto', 'off' or a number in (0, 1). "
            f"Currently, oos_threshold is {value!r}."
        )
    return threshold


def _sentiment_data_path(config: dict[str, Any]) -> Path | None:
    """The configured shared-sentiment CSV (relative to the working directory), or None."""
    value = str(config.get("sentiment_data") or "").strip()
    return Path(value).expanduser().resolve() if value else None


def _example_meta(example: Message) -> dict[str, Any]:
    """An NLU example's own ``metadata`` mapping (empty when it has none)."""
    metadata = example.get(METADATA) or {}
    example_meta = metadata.get(METADATA_EXAMPLE) if isinstance(metadata, dict) else None
    return example_meta if isinstance(example_meta, dict) else {}


def _example_group(example: Message) -> str:
    """The paraphrase group of an NLU example (``metadata: {group: ...}``), or ''."""
    group = _example_meta(example).get("group")
    return "" if group is None else str(group)
