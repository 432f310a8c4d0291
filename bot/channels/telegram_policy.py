"""What the Telegram channel does with an update: pure decisions, unit-tested on their own.

:func:`classify` reads one python-telegram-bot ``Update`` and returns a :class:`Decision`: handle
typed text, run one of the bot's commands, handle a button press, reply politely, or ignore (with
the reason logged). Nothing here sends or stores anything.

Policy (docs/decisions/017-telegram-channel.md):

- A private chat is one conversation (``telegram:<chat id>``). In a group the bot answers only
  when it is mentioned (``@bot``), replied to, or sent one of its commands, and each member has a
  conversation of their own (``telegram:<chat id>:<user id>``).
- Commands: ``/start [code]``, ``/help``, ``/human``, ``/reset``. Any other text starting with
  ``/`` is typed text: its slash is neutralised (``bot.channels.inbound``), so nothing a shopper
  types becomes a Rasa intent payload; only our own commands and our own buttons send intents.
- An edited message is answered as a new message, threaded to the edited one.
- Stickers, photos, voice notes, documents, locations and the like get a polite reply asking for
  text; joins and leaves, channel posts, polls, other bots' messages are ignored and logged.
- A button of a keyboard older than :data:`BUTTON_TTL` (or whose message Telegram no longer
  shows) is answered "expired" and not acted on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import Enum

from telegram import Chat, Message, MessageEntity, Update

from bot.channels.inbound import DEFAULT_MAX_MESSAGE_CHARS, neutralize_commands, normalize_text

BUTTON_TTL = dt.timedelta(hours=24)
COMMANDS = ("start", "help", "human", "reset")
GROUP_CHATS = (Chat.GROUP, Chat.SUPERGROUP)
# Rasa payloads of the commands that go to the assistant (/help is answered by the channel).
COMMAND_PAYLOADS = {"start": "/greet", "human": "/human_handoff", "reset": "/restart"}

ONLY_TEXT = (
    "I can only read text messages for now. Please type your question, and I'll do my best "
    "(or send /human to reach a person)."
)
TOO_LONG = (
    "That message is too long for me ({length} characters; at most {limit}). Could you shorten it?"
)
# What each kind of message is called in the polite reply.
MEDIA_KINDS = (
    "sticker",
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
)


class Kind(Enum):
    """What to do with an update."""

    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    EXPIRED_BUTTON = "expired_button"
    REPLY = "reply"
    IGNORE = "ignore"


@dataclass(frozen=True)
class Decision:
    """The channel's decision for one update.

    Attributes:
        kind: What to do.
        sender_id: The Rasa conversation (empty when ignored).
        chat_id: Where replies go.
        user_id: Who sent it (the per-user rate limit and the linked customer).
        text: Typed text (neutralised), the command's argument, the button's data, or the reply.
        command: The command's name, for ``COMMAND``.
        reply_to: The message replies thread to (groups and edits), or None.
        reason: Why, for the log (ignored updates, replies).
        edited: True for an edited message.
        private: True in a private chat (drafts stream there).
    """

    kind: Kind
    sender_id: str = ""
    chat_id: int = 0
    user_id: int = 0
    text: str = ""
    command: str = ""
    reply_to: int | None = None
    reason: str = ""
    edited: bool = False
    private: bool = False


def ignore(reason: str) -> Decision:
    """Ignore the update (logged with ``reason``)."""
    return Decision(Kind.IGNORE, reason=reason)


def sender_id(chat_id: int, user_id: int, group: bool) -> str:
    """The Rasa conversation id: one per private chat, one per member in a group."""
    return f"telegram:{chat_id}:{user_id}" if group else f"telegram:{chat_id}"


def chat_of(sender: str) -> int | None:
    """The chat id of a conversation id made by :func:`sender_id` (None for other ids)."""
    parts = sender.split(":")
    if len(parts) not in (2, 3) or parts[0] != "telegram":
        return None
    try:
        return int(parts[1])
    except ValueError:
        return None


def _media_kind(message: Message) -> str:
    for kind in MEDIA_KINDS:
        if getattr(message, kind, None):
            return kind
    return ""


def _addressed(message: Message, text: str, bot_username: str, bot_id: int) -> tuple[bool, str]:
    """Whether a group message is for the bot, and its text without the mention."""
    mention = f"@{bot_username}".lower()
    addressed = False
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        addressed = True
    for entity in message.entities or ():
        if entity.type == MessageEntity.MENTION:
            if message.parse_entity(entity).lower() == mention:
                addressed = True
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            addressed = True
    if addressed and bot_username:
        start = text.lower().find(mention)
        while start >= 0:
            text = text[:start] + text[start + len(mention) :]
            start = text.lower().find(mention)
    return addressed, text


def _command(text: str, bot_username: str) -> tuple[str, str, bool] | None:
    """``(name, argument, for_us)`` of a ``/command[@bot] [argument]`` text, else None."""
    if not text.startswith("/"):
        return None
    head, _, argument = text.partition(" ")
    name, _, target = head[1:].partition("@")
    if not name:
        return None
    for_us = not target or target.lower() == bot_username.lower()
    return name.lower(), argument.strip(), for_us


def _button(update: Update, now: dt.datetime) -> Decision:
    query = update.callback_query
    assert query is not None
    user = query.from_user
    message = query.message
    if message is None or not isinstance(message, Message):
        return Decision(Kind.EXPIRED_BUTTON, user_id=user.id, reason="inaccessible message")
    chat = message.chat
    group = chat.type in GROUP_CHATS
    base = Decision(
        Kind.BUTTON,
        sender_id=sender_id(chat.id, user.id, group),
        chat_id=chat.id,
        user_id=user.id,
        private=chat.type == Chat.PRIVATE,
        reply_to=message.message_id if group else None,
    )
    if message.date is None or now - message.date > BUTTON_TTL:
        return replace(base, kind=Kind.EXPIRED_BUTTON, reason="keyboard too old")
    return replace(base, text=query.data or "")


def classify(
    update: Update,
    bot_username: str,
    bot_id: int,
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
    now: dt.datetime | None = None,
) -> Decision:
    """Decide what to do with ``update`` (see the module docstring for the policy)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if update.callback_query is not None:
        return _button(update, now)
    if update.channel_post or update.edited_channel_post:
        return ignore("channel post")
    if update.my_chat_member or update.chat_member or update.chat_join_request:
        return ignore("membership change")
    if update.poll or update.poll_answer:
        return ignore("poll update")
    message = update.message or update.edited_message
    if message is None:
        return ignore(f"unhandled update type ({_update_type(update)})")
    edited = update.edited_message is not None
    user = message.from_user
    if user is None or user.is_bot or message.sender_chat is not None:
        return ignore("not from a person (a bot, a channel or an anonymous admin)")
    chat = message.chat
    group = chat.type in GROUP_CHATS
    if chat.type not in GROUP_CHATS and chat.type != Chat.PRIVATE:
        return ignore(f"chat type {chat.type}")
    if message.new_chat_members or message.left_chat_member:
        return ignore("member joined or left")
    raw = message.text or ""
    base = Decision(
        Kind.TEXT,
        sender_id=sender_id(chat.id, user.id, group),
        chat_id=chat.id,
        user_id=user.id,
        edited=edited,
        private=not group,
        reply_to=message.message_id if group or edited else None,
    )
    command = _command(raw, bot_username)
    addressed, raw = _addressed(message, raw, bot_username, bot_id) if group else (True, raw)
    if command is not None:
        name, argument, for_us = command
        if not for_us:
            return ignore("a command for another bot")
        if name in COMMANDS:
            if edited:
                return ignore("edited command")
            return replace(base, kind=Kind.COMMAND, command=name, text=argument)
        if group and not addressed and "@" not in raw.split(" ", 1)[0]:
            return ignore("group command not ours")
        addressed = True
    if group and not addressed:
        return ignore("group message not addressed to the bot")
    if not message.text:
        kind = _media_kind(message)
        if kind:
            return replace(base, kind=Kind.REPLY, text=ONLY_TEXT, reason=kind)
        return ignore("service message")
    text = normalize_text(raw)
    if not text:
        return replace(base, kind=Kind.REPLY, text="What can I help you with?", reason="empty")
    if len(text) > max_message_chars:
        reply = TOO_LONG.format(length=len(text), limit=max_message_chars)
        return replace(base, kind=Kind.REPLY, text=reply, reason="too long")
    return replace(base, kind=Kind.TEXT, text=neutralize_commands(text))


def _update_type(update: Update) -> str:
    for name, value in update.to_dict().items():
        if name != "update_id" and value:
            return name
    return "empty"
