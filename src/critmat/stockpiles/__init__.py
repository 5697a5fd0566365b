"""Strategic stockpiles (issue 11): the holdings ledger, stock targets sized against stress
tests, and the fair release of stock in a crisis (docs/stockpiles.md).

- :mod:`critmat.stockpiles.ledger`: holders, lots and the append-only journal in the platform
  database; a balance is the sum of its journal;
- :mod:`critmat.stockpiles.sizing`: the stock that covers a chosen share of simulated
  shortfalls at least cost (a linear programme solved with HiGHS);
- :mod:`critmat.stockpiles.allocation`: release of available stock to requests by Member State
  and sector under priority tiers and a fairness rule.
"""
