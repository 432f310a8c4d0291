"""The store backend: order database schema, seeding helpers and (later) the store service.

Imports nothing heavy and opens no database: import ``actions.store.schema`` explicitly.
"""
