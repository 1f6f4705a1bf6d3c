"""Control what is generated: rebalanced shares, fairness, augmentation, edge cases.

``model.sample(n, rebalance=...)`` and ``model.sample(n, fair=...)`` call :func:`sample_rebalanced`
and :func:`sample_fair`; :func:`augment` tops up a minority class of a real table with synthetic rows;
:func:`sample_tails` draws rows past a column's learned quantiles; :func:`parse_where` reads the
``mirage sample --where`` grammar into typed conditions.
"""

from mirage.control._augment import SYNTHETIC_FLAG, augment
from mirage.control._rebalance import sample_fair, sample_rebalanced
from mirage.control._tails import sample_tails
from mirage.control._where import parse_where

__all__ = ["SYNTHETIC_FLAG", "augment", "parse_where", "sample_fair", "sample_rebalanced", "sample_tails"]
