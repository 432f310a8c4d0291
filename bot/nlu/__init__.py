"""Custom Rasa NLU components: the BERT intent classifier (with out-of-scope detection) and the
BERT sentiment analyser. Reference them in ``config.yml`` by module path, e.g.
``bot.nlu.intent_classifier.BertIntentClassifier``; nothing here loads a model at import time."""
