"""The parts of ``training.train_generator``, one job per module.

``config`` (presets, arguments) · ``data`` (blocks, encoded examples, batches) · ``copy_warmup``
(stage 0 batches) · ``model`` (a fresh GPT-2) · ``loop`` (one optimisation stage, loss curves) ·
``evaluation`` (validation loss, exact match) · ``plots`` (training curves) · ``checkpoint``
(the model directory serving loads).
"""
