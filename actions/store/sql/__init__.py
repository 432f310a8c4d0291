"""The SQL store backend (``SqlStoreBackend``), one module per feature.

- ``backend``: ``SqlStoreBackend``, the ``StoreBackend`` (``actions.store.service``) over the schema;
- ``base``: sessions, ownership checks, the audit log, the order summary;
- ``identity``: ownership proofs and lockout; ``cancellation``: cancelling unshipped orders;
  ``shipping``: address changes and delivery options; ``returns``: returns and refunds;
  ``billing``: invoices and payments;
- ``views``: ORM rows → the plain views of ``actions.store.types``.

Imports nothing heavy and opens no database at import time.
"""
