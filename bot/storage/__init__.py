"""ShopBot's own application database: tables, engine, Alembic migrations, and the widget log.

Rasa keeps conversations in its tracker store and the store keeps orders in its own database;
what ShopBot itself must keep across restarts and replicas (the web widget's event log) lives
here, at ``Settings.app_db_url``. New tables come with an Alembic migration under
``bot/storage/migrations/versions``; ``shopbot run`` and the tests upgrade to head on start.
"""
