"""An output channel that handles every Rasa message whole, in ``send_response``.

Rasa calls ``OutputChannel.send_response`` with the whole message dict; its per-part methods
(``send_text_message``, ``send_text_with_buttons``, ...) exist for callers that use them
directly. Channels that render one message at once (the widget's event log, Telegram) implement
``send_response`` and inherit the per-part methods from here: each part becomes one message.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel


class WholeMessageOutputChannel(OutputChannel):
    """Routes Rasa's per-part methods to ``send_response`` (which subclasses implement)."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Deliver one whole message (text, buttons, image, custom)."""
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send a text message."""
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send a text with buttons."""
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send a text with quick replies (shown as buttons)."""
        await self.send_response(recipient_id, {"text": text, "buttons": quick_replies})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image."""
        await self.send_response(recipient_id, {"image": image})

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """Send an attachment (as a link)."""
        await self.send_response(recipient_id, {"text": attachment})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Send structured data (product cards, citations, handoff state)."""
        await self.send_response(recipient_id, {"custom": json_message})

    async def send_elements(
        self, recipient_id: str, elements: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send carousel elements (their titles as text; products travel in ``custom``)."""
        titles = [str(e.get("title")) for e in elements if isinstance(e, dict) and e.get("title")]
        if titles:
            await self.send_response(recipient_id, {"text": "\n".join(titles)})
