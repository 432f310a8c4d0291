"""Shoppers' personal data: masking in exports, erasure on request, and retention.

- ``masking``: finds emails, phone numbers, card numbers (Luhn), postal addresses and the store's
  customers' names in text and replaces them with tokens (``[email]``, ``[phone]``...);
  ``directory`` reads the store's customers (names, phones, addresses) that it looks for.
- ``export``: a conversation's transcript as JSON or CSV rows, masked unless an admin asks.
- ``tracker_rows``: writable access to Rasa's ``events`` table (the console only reads it).
- ``erasure``: finds a shopper's conversations and deletes them everywhere; ``anonymise`` masks
  them in place instead. ``forget`` and ``retention`` are the ``shopbot`` commands.

Decision record: ``docs/decisions/015-privacy-exports-retention.md``.
"""
