"""The steps of ``training.prepare_generator``, one job per module.

``store`` (catalog, FAQ, Bitext responses) → ``dataset`` (split, examples, evaluation set), built
by ``builder`` from ``facts`` (question names, cited answers) and the phrasing tables that
``phrasings`` reads from ``qa_phrasings.yml`` → ``files`` (JSON lines). ``presets`` holds the data
presets and prompt budgets, ``records`` the example types.
"""
