"""`CarryPortfolio`: a vectorbt portfolio whose cash also carries borrow cost and cash interest.

vectorbt derives cash only from order records and has no borrow fee or interest; the engine books those
as per-session cash flows ("carry") and this subclass adds them wherever vectorbt reads cash, so value(),
returns(), stats() and total_profit() agree with the engine's equity.

It also annualises as the tear sheet does: a year of 252 sessions (`research.analytics.metrics.PERIODS`), where
vectorbt's default is 365 days of a "1D" index. So `stats()`, `returns_stats()`, `returns_acc` and `qs` report
the tear sheet's Sharpe, volatility and Calmar unless a caller passes its own `year_freq`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import vectorbt as vbt
from vectorbt.base.array_wrapper import ArrayWrapper
from vectorbt.base.reshape_fns import to_1d_array, to_2d_array
from vectorbt.utils.config import Configured, merge_dicts
from vectorbt.utils.decorators import cached_method

from research.analytics.metrics import PERIODS

#: A year as vectorbt counts it on a "1D" index: 252 sessions, the tear sheet's year.
YEAR_FREQ = pd.Timedelta(days=PERIODS)


class CarryPortfolio(vbt.Portfolio):
    """A `vbt.Portfolio` whose cash also carries non-trade flows per column (borrow cost, cash interest).

    vectorbt derives cash only from order records; `carry` (sessions x columns, dollars, + = received) is
    added to `cash_flow` and `total_profit`, so cash, value, returns and stats include it.
    Cash interest is booked on the first column (cash is shared, so only the group total is meaningful).
    """

    def __init__(
        self,
        wrapper: ArrayWrapper,
        close,
        order_records,
        log_records,
        init_cash,
        cash_sharing: bool,
        call_seq=None,
        fillna_close: bool | None = None,
        trades_type=None,
        engine: str | None = None,
        carry: np.ndarray | None = None,
    ) -> None:
        super().__init__(
            wrapper,
            close,
            order_records,
            log_records,
            init_cash,
            cash_sharing,
            call_seq=call_seq,
            fillna_close=fillna_close,
            trades_type=trades_type,
            engine=engine,
        )
        shape = wrapper.shape_2d
        carry = np.zeros(shape) if carry is None else np.asarray(carry, dtype=float)
        if carry.ndim == 1 and carry.size == shape[0] * shape[1]:
            carry = carry.reshape(shape)  # a single selected column
        if carry.shape != shape:
            raise ValueError(f"carry has shape {carry.shape}, expected {shape}")
        self._carry = carry
        Configured.__init__(self, **self.config, carry=carry)

    @cached_method
    def get_returns_acc(self, group_by=None, benchmark_rets=None, freq=None, year_freq=None,
                        use_asset_returns: bool = False, defaults=None, **kwargs):
        """vectorbt's returns accessor, with a 252-session year unless `year_freq` is given."""
        return vbt.Portfolio.get_returns_acc.func(
            self, group_by=group_by, benchmark_rets=benchmark_rets, freq=freq,
            year_freq=YEAR_FREQ if year_freq is None else year_freq, use_asset_returns=use_asset_returns,
            defaults=defaults, **kwargs,
        )

    @property
    def stats_defaults(self) -> dict:
        """vectorbt's defaults for `stats()`, with the 252-session year."""
        return merge_dicts(super().stats_defaults, dict(settings=dict(year_freq=YEAR_FREQ)))

    @property
    def plots_defaults(self) -> dict:
        """vectorbt's defaults for `plot()`, with the 252-session year."""
        return merge_dicts(super().plots_defaults, dict(settings=dict(year_freq=YEAR_FREQ)))

    @property
    def carry(self) -> pd.DataFrame:
        """Non-trade cash flows per session and column (dollars, + = received)."""
        return self.wrapper.wrap(self._carry, group_by=False)

    def indexing_func(self, pd_indexing_func, **kwargs) -> CarryPortfolio:
        """Select columns, keeping their carry."""
        new_wrapper, _, group_idxs, col_idxs = self.wrapper.indexing_func_meta(
            pd_indexing_func, column_only_select=True, **kwargs
        )
        init_cash = self._init_cash
        if not isinstance(init_cash, int):
            init_cash = np.asarray(init_cash).reshape(-1)[group_idxs if self.cash_sharing else col_idxs]
        return self.replace(
            wrapper=new_wrapper,
            close=new_wrapper.wrap(np.asarray(self.close)[:, col_idxs], group_by=False),
            order_records=self.orders.get_by_col_idxs(col_idxs),
            log_records=self.logs.get_by_col_idxs(col_idxs),
            init_cash=init_cash,
            call_seq=None if self.call_seq is None else self.call_seq.values[:, col_idxs],
            carry=self._carry[:, col_idxs],
        )

    @cached_method
    def cash_flow(self, group_by=None, free: bool = False, wrap_kwargs=None, engine=None):
        """Cash flow from orders plus carry (grouped flows sum the ungrouped ones, so carry is in both)."""
        # The base's undecorated function: both cached wrappers would share one cache slot per instance.
        flow = vbt.Portfolio.cash_flow.func(
            self, group_by=group_by, free=free, wrap_kwargs=wrap_kwargs, engine=engine
        )
        if self.wrapper.grouper.is_grouped(group_by=group_by):
            return flow
        return self.wrapper.wrap(to_2d_array(flow) + self._carry, group_by=False, **(wrap_kwargs or {}))

    @cached_method
    def total_profit(self, group_by=None, wrap_kwargs=None, engine=None):
        """Total profit from orders plus carry."""
        profit = vbt.Portfolio.total_profit.func(
            self, group_by=group_by, wrap_kwargs=wrap_kwargs, engine=engine
        )
        if self.wrapper.grouper.is_grouped(group_by=group_by):
            return profit
        total = to_1d_array(profit) + self._carry.sum(axis=0)
        kwargs = {"name_or_index": "total_profit", **(wrap_kwargs or {})}
        return self.wrapper.wrap_reduced(total, group_by=False, **kwargs)
