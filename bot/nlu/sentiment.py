"""``BertSentimentAnalyzer``: message sentiment (negative/neutral/positive) as a Rasa 3.6 component.

The classifier is trained outside Rasa (``shopbot train-sentiment``, on real review data) and
loaded by path. During ``rasa train`` the component only checks that the directory exists and
records its path and a hash of its weights in the Rasa model, so the model says which sentiment
model it was built with; serving refuses a directory whose weights changed since (retrain the
Rasa model, or restore the directory). Rasa also retrains this node when the hash changes
(:meth:`fingerprint_addon`).

Every message with text gets, in its parse data (and hence in the tracker's ``UserUttered``
event): ``sentiment: {label, confidence, scores, model}`` and an entity
``{entity: sentiment, value: negative|neutral|positive, confidence}`` that a ``sentiment`` slot
can take ``from_entity``.

Config (``config.yml``)::

    - name: bot.nlu.sentiment.BertSentimentAnalyzer
      model_path: models/sentiment   # relative to the working directory of rasa; or `shared`

With ``model_path: shared`` the component runs no encoder of its own: it reports the scores
that ``BertIntentClassifier`` (configured with ``sentiment_data``) computed from its own encoder
pass, so a message costs one pass for both (decision 024). The Rasa model records which mode it
was trained with; serving refuses the other.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder_component import SHARED_SENTIMENT_KEY, EncoderComponent
from core.encoder import TextClassifier, directory_sha256, read_json, write_json

logger = logging.getLogger(__name__)

SENTIMENT_KEY = "sentiment"
MANIFEST = "sentiment_model.json"
SHARED = "shared"
"""``model_path`` value: report the intent classifier's shared-encoder sentiment."""


class SentimentModelError(ValueError):
    """The configured sentiment model is missing or differs from the one the Rasa model used."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class BertSentimentAnalyzer(EncoderComponent, GraphComponent, EntityExtractorMixin):
    """Adds a ``sentiment`` entity and ``sentiment`` parse data to every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see the module docstring)."""
        return {
            "model_path": "models/sentiment",
            "device": "auto",
            "quantize": "auto",
            "entity_name": "sentiment",
            "add_entity": True,
            "inference_batch_size": 64,
            # CPU threads torch uses in this process; 1 is as fast for one message and far
            # faster when the machine is busy; 0 leaves torch's default (all cores).
            "torch_threads": 1,
        }

    def _setup(self) -> None:
        """No sentiment model is recorded until :meth:`train` or :meth:`load`."""
        self._manifest: dict[str, Any] = {}
        self._shared = str(self._config["model_path"]) == SHARED
        self._warned_unscored = False

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Make Rasa retrain this node when the sentiment model's weights change."""
        if str(config.get("model_path")) == SHARED:
            return SHARED
        path = _model_dir({**cls.get_default_config(), **config})
        return _cached_sha256(path) if path.is_dir() else f"missing:{path}"

    def train(self, training_data: TrainingData) -> Resource:
        """Check the sentiment model exists and record its path and hash in the Rasa model.

        Raises:
            SentimentModelError: The directory is missing or not a classifier directory.
        """
        if self._shared:
            with self._model_storage.write_to(self._resource) as resource_dir:
                write_json(Path(resource_dir) / MANIFEST, {"model_path": SHARED})
            logger.info("BertSentimentAnalyzer reports the intent encoder's shared sentiment")
            return self._resource
        path = _model_dir(self._config)
        _check_model_dir(path, self._config["model_path"])
        manifest = {
            "model_path": str(self._config["model_path"]),
            "resolved_path": str(path),
            "sha256": _cached_sha256(path),
            "labels": read_json(path / "label_map.json")["labels"],
            "train_args": {
                k: v
                for k, v in read_json(path / "train_args.json").items()
                if k in ("base_model", "data_sha256", "n_train", "config")
            },
        }
        with self._model_storage.write_to(self._resource) as resource_dir:
            write_json(Path(resource_dir) / MANIFEST, manifest)
        logger.info("BertSentimentAnalyzer uses %s (sha256 %s)", path, manifest["sha256"][:12])
        return self._resource

    def _load_from(self, model_storage: ModelStorage, resource: Resource) -> None:
        """Load the sentiment model the Rasa model was trained with.

        Raises:
            SentimentModelError: The directory is missing or its weights changed since training.
        """
        with model_storage.read_from(resource) as resource_dir:
            manifest = read_json(Path(resource_dir) / MANIFEST)
        if self._shared or manifest.get("model_path") == SHARED:
            if not (self._shared and manifest.get("model_path") == SHARED):
                raise SentimentModelError(
                    f"BertSentimentAnalyzer is configured with model_path "
                    f"{self._config['model_path']!r} but this Rasa model was trained with "
                    f"{manifest.get('model_path')!r}. Retrain the Rasa model (`shopbot train`)."
                )
            self._manifest = manifest
            return
        path = _model_dir(self._config)
        _check_model_dir(path, self._config["model_path"])
        current = _cached_sha256(path)
        if current != manifest["sha256"]:
            raise SentimentModelError(
                f"The sentiment model at {str(path)!r} (sha256 {current[:12]}) is not the one "
                f"this Rasa model was trained with (sha256 {manifest['sha256'][:12]}, from "
                f"{manifest['resolved_path']!r}). Retrain the Rasa model (`rasa train` / "
                f"`shopbot train`) or restore that sentiment model."
            )
        self._classifier = self._load_classifier(path)
        self._manifest = manifest

    def process(self, messages: list[Message]) -> list[Message]:
        """Score every message with text (own model), or report the shared scores."""
        if not self._shared:
            return super().process(messages)
        for message in messages:
            shared = message.get(SHARED_SENTIMENT_KEY)
            if shared:
                self._annotate(message, shared["labels"], shared["scores"], shared["model"])
            elif message.get(TEXT) and not self._warned_unscored:
                self._warned_unscored = True
                logger.warning(
                    "BertSentimentAnalyzer (model_path: shared) found no sentiment scores: "
                    "configure BertIntentClassifier with sentiment_data, before this component."
                )
        return messages

    def _process_batch(self, messages: list[Message], classifier: TextClassifier) -> None:
        """Add the sentiment (parse data + entity) to every message."""
        probs = classifier.predict_proba(*self._texts(messages))
        model_id = str(self._manifest.get("sha256", ""))[:12]
        for message, row in zip(messages, probs, strict=True):
            self._annotate(message, classifier.labels, row.tolist(), model_id)

    def _annotate(
        self, message: Message, labels: list[str], scores: list[float], model_id: str
    ) -> None:
        """Set the ``sentiment`` parse data (and the entity) from one row of scores."""
        best = max(range(len(scores)), key=scores.__getitem__)
        label, confidence = labels[best], float(scores[best])
        message.set(
            SENTIMENT_KEY,
            {
                "label": label,
                "confidence": confidence,
                "scores": {name: float(p) for name, p in zip(labels, scores, strict=True)},
                "model": model_id,
            },
            add_to_output=True,
        )
        if self._config["add_entity"]:
            entity = {
                ENTITY_ATTRIBUTE_TYPE: self._config["entity_name"],
                ENTITY_ATTRIBUTE_VALUE: label,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(str(message.get(TEXT))),
                ENTITY_ATTRIBUTE_CONFIDENCE: confidence,
            }
            entities = [*message.get(ENTITIES, []), *self.add_extractor_name([entity])]
            message.set(ENTITIES, entities, add_to_output=True)


def _model_dir(config: dict[str, Any]) -> Path:
    return Path(str(config["model_path"])).expanduser().resolve()


def _check_model_dir(path: Path, configured: Any) -> None:
    if not (path / "label_map.json").is_file() or not (path / "train_args.json").is_file():
        raise SentimentModelError(
            f"BertSentimentAnalyzer model_path {str(configured)!r} (resolved {str(path)!r}) is "
            f"not a trained sentiment model. Train one first: `python -m "
            f"training.prepare_sentiment && shopbot train-sentiment --train "
            f"var/sentiment/train.csv --eval var/sentiment/eval_alexa.csv --out {configured}` "
            f"(or `shopbot train`), or point model_path at an existing model directory."
        )


@functools.lru_cache(maxsize=8)
def _sha256_for(path: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    return directory_sha256(path)


def _cached_sha256(path: Path) -> str:
    """Hash the directory again only when one of its files changed (name, size, mtime)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _sha256_for(str(path), stamp)
