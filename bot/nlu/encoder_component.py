"""What the encoder-backed NLU components share: construction, loading the classifier with the
configured device/quantisation/threads, and batching the messages that have text."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from core.device import set_torch_threads
from core.encoder import TextClassifier
from core.settings import Settings

SHARED_SENTIMENT_KEY = "shared_sentiment"
"""Message key (not in the parse output) where the intent classifier leaves the sentiment its
encoder pass scored, for ``BertSentimentAnalyzer`` with ``model_path: shared`` to report."""


def parse_quantize(value: Any) -> bool | str:
    """``auto`` (int8 on CPU only) or an on/off switch (``true``/``false``/``on``/``off``)."""
    if value in ("auto", None):
        return "auto"
    if value in (True, "on", "true"):
        return True
    if value in (False, "off", "false"):
        return False
    raise ValueError(f"quantize must be 'auto', true or false. Currently, quantize is {value!r}.")


def apply_torch_threads(value: Any) -> None:
    """Set torch's CPU threads for inference when ``value`` > 0."""
    threads = int(value or 0)
    if threads > 0:
        set_torch_threads(threads)


C = TypeVar("C", bound="EncoderComponent")


class EncoderComponent:
    """Mixin of the components that run a :class:`TextClassifier` over messages.

    Subclasses give ``get_default_config`` (with ``device``, ``quantize``, ``torch_threads`` and
    ``inference_batch_size``), :meth:`_load_from` and :meth:`_process_batch`, and may check
    their own settings in :meth:`_setup` and :meth:`_check_trainable`.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see the subclass's module docstring)."""
        raise NotImplementedError

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        classifier: TextClassifier | None = None,
    ) -> None:
        """Create the component; ``classifier`` is set after training or loading."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._execution_context = execution_context
        self._classifier = classifier
        self._setup()

    def _setup(self) -> None:
        """Read the subclass's own settings from ``self._config`` (raising on a bad value)."""

    @classmethod
    def create(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        """Create an untrained component (checks the configuration early)."""
        component = cls(config, model_storage, resource, execution_context)
        component._check_trainable()
        return component

    def _check_trainable(self) -> None:
        """Raise when the configuration cannot be trained with (nothing to check by default)."""

    @classmethod
    def load(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> C:
        """Load the component for inference (see the subclass's ``_load_from``)."""
        component = cls(config, model_storage, resource, execution_context)
        apply_torch_threads(component._config["torch_threads"])
        component._load_from(model_storage, resource)
        return component

    def _load_from(self, model_storage: ModelStorage, resource: Resource) -> None:
        """Set ``self._classifier`` from what training stored in ``resource``."""
        raise NotImplementedError

    def _load_classifier(self, path: str | Path) -> TextClassifier:
        """Load the classifier at ``path`` on the configured device and quantisation."""
        settings = Settings()
        return TextClassifier.load(
            path,
            device=str(self._config["device"]),
            quantize=parse_quantize(self._config["quantize"]),
            runtime=settings.nlu_runtime,
            onnx_cache_dir=settings.onnx_cache_path,
        )

    def process(self, messages: list[Message]) -> list[Message]:
        """Run the classifier over every message with text (batched); others pass unchanged."""
        if self._classifier is None:
            return messages
        todo = [m for m in messages if m.get(TEXT)]
        if todo:
            self._process_batch(todo, self._classifier)
        return messages

    def _process_batch(self, messages: list[Message], classifier: TextClassifier) -> None:
        """Annotate ``messages`` (all with text) using ``classifier``."""
        raise NotImplementedError

    def _texts(self, messages: list[Message]) -> tuple[list[str], int]:
        """The messages' texts and the configured inference batch size."""
        return [str(m.get(TEXT)) for m in messages], int(self._config["inference_batch_size"])
