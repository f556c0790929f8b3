"""``modelwatch up --demo``: the whole service on SQLite with a synthetic model sending traffic.

Imported only by that command (never by ``import modelwatch``): it pulls in the services.
``traffic`` is the synthetic model (pure functions of a seed and the time), ``stack`` starts and
stops everything, ``make_candidate`` rebuilds the shipped candidate ONNX file.
"""
