"""Stress tests of EU critical raw material supply (docs/stress-tests.md).

``spec`` (scenario files, validated), ``baseline`` (arrays read from the store), ``engine``
(the pure ``run(scenario, baseline, params) -> Result``), ``backtest`` (against BACI).
"""
