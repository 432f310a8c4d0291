"""The demo store: a small product page with the ShopBot web widget on it, under a strict CSP.

``shopbot run`` starts it next to the Rasa and action servers (``python -m bot.demo_store``); the
browser tests drive it. It shows what a store owner gets: one ``<script>`` tag, no inline script
or style, and a ``/csp-report`` route that logs and counts every Content-Security-Policy violation.
"""
