"""Is a sweep's best config real or luck: the verdict, and the diagnostics reported beside it.

Verdict (`analyse`): **real** when Hansen's (2005) SPA test, over the active daily returns of every config of
the search against the benchmark, rejects "no config beats the benchmark" at `SPA_LEVEL` (its consistent
p-value); else **likely luck**. The whole search is the family, so the selection of the best is paid for; the
test is studentized and resamples by the stationary bootstrap, keeping the configs' correlation. Calibrated by
`benchmarks/calibration.py` (BENCHMARKS.md, calibration): with no edge it calls luck in >= 97% of 100 seeds for
every calibrated strategy. The deflated Sharpe probability (trials from the trial log: every config logged on
these inputs), PBO by CSCV and a bootstrap interval of the selected config are reported beside it as
diagnostics; they no longer decide. PBO in particular answers another question (does the in-sample ranking
persist out of sample?) and is high for a real but weak edge shared by many near-identical configs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from research.analytics import stats as S
from research.analytics.metrics import PERIODS
from research.sweep import triallog

if TYPE_CHECKING:  # annotations only: the result is built by the runner, which imports this module
    from research.sweep.runner import SweepResult

#: The SPA p-value below which the best config is called real (the verdict's size).
SPA_LEVEL = 0.05
#: The deflated Sharpe probability shown as "clears the deflation" (a diagnostic, not the verdict).
DSR_LEVEL = 0.95


@dataclass
class SweepStats:
    """Overfitting statistics of a sweep's best config (Sharpe inputs per period unless named annual)."""

    n_configs: int
    n_trials: int
    sr_variance: float  # per-period Sharpe variance across the logged trials
    trials_source: str  # "trial log" or "this sweep"
    best: int  # config id
    sharpe: float  # raw annual Sharpe of the best
    score: float  # annual Sharpe of the scored returns (active when there is a benchmark)
    psr: float
    dsr: float
    expected_max_sharpe: float  # annualised
    pbo: Any = None  # stats.PBOResult among the top candidates (by score)
    pbo_search: Any = None  # stats.PBOResult over configs spread evenly over the whole ranking
    bootstrap: Any = None  # stats.BootstrapCI of the best's scored Sharpe
    spa: Any = None  # stats.SPAResult over the family (every valid config, up to SPA_MAX): the verdict
    verdict: str = ""
    statement: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("n_configs", "n_trials", "sr_variance", "trials_source", "best",
                                               "sharpe", "score", "psr", "dsr", "expected_max_sharpe",
                                               "verdict", "statement")}
        for key in ("pbo", "pbo_search"):
            p = getattr(self, key)
            if p is not None:
                out[key] = {"pbo": p.pbo, "n_splits": p.n_splits, "n_configs": p.n_configs, "slope": p.slope,
                            "prob_oos_loss": p.prob_oos_loss}
        if self.bootstrap is not None:
            b = self.bootstrap
            out["bootstrap"] = {"estimate": b.estimate, "lower": b.lower, "upper": b.upper, "level": b.level,
                                "block": b.block, "n": b.n}
        if self.spa is not None:
            out["spa"] = {"consistent": self.spa.consistent, "lower": self.spa.lower, "upper": self.spa.upper,
                          "n_strategies": self.spa.n_strategies}
        return out


def analyse(result: SweepResult, *, db: Any = None, use_log: bool = True, n_boot: int = 1000,
            spa_reps: int = 500, seed: int = 0) -> SweepStats:
    """The verdict (Hansen's SPA over every config kept as the family) and its diagnostics: deflated Sharpe with
    the trial log's counts, PBO (CSCV) among the top candidates, a bootstrap interval of the selected config."""
    t = result.table
    active = result.bench is not None
    pre = "active_" if active else ""
    best = result.best
    row = t.loc[best]
    locked = ""
    own = logged = None
    try:
        if use_log:  # every strategy's trials on these inputs count; this strategy's are shown beside them
            logged = triallog.trial_stats(None, db, data_hash=result.data_hash, active=active)
            own = triallog.trial_stats(result.strategy, db, data_hash=result.data_hash, active=active)
    except triallog.TrialLogLocked:  # its rows are staged; count this sweep's, and say so
        logged, locked = None, ", the trial log being locked"
    if logged is not None and logged[0] >= len(t):
        n_trials, var = logged
        mine = own[0] if own is not None else 0
        source = (f"trial log: every strategy's on these inputs, {mine:,} of them {result.strategy}'s"
                  if n_trials > mine else "trial log")
    else:
        sr_all = t[f"{pre}sharpe_per_period"].to_numpy(dtype=float)
        sr_all = sr_all[np.isfinite(sr_all)]
        n_trials, var = len(sr_all), float(np.var(sr_all, ddof=1)) if len(sr_all) > 1 else 0.0
        source = f"this sweep{locked}"
    sr = float(row[f"{pre}sharpe_per_period"])
    n_obs, skew, kurt = int(row["n_obs"]), float(row[f"{pre}skew"]), float(row[f"{pre}kurtosis"])
    psr = S.probabilistic_sharpe_ratio(sr, n_obs, skew, kurt)
    dsr = S.deflated_sharpe_ratio(sr, n_obs, skew, kurt, max(n_trials, 1), max(var, 0.0))
    sr0 = S.expected_max_sharpe(max(n_trials, 1), max(var, 0.0)) * math.sqrt(PERIODS)
    raw = result.scored_returns()
    best_returns = raw[best].dropna().to_numpy()  # from its own first trade
    scored = raw.loc[raw.notna().any(axis=1)].fillna(0.0)  # a config is flat (0 active) before its first trade

    def cscv(ids: list[int]) -> Any:
        cols = [c for c in ids if c in scored.columns]
        return S.pbo(scored[cols].to_numpy(), n_splits=16) if len(cols) >= 2 and len(scored) >= 32 else None

    pbo, pbo_search = cscv(result.pbo_ids), cscv(result.search_ids)
    boot = S.bootstrap_ci(best_returns, "sharpe", n=n_boot, seed=seed)
    family = [c for c in (result.spa_ids or result.search_ids) if c in scored.columns]
    spa = None
    if spa_reps and family and len(scored) >= 10:
        spa = S.spa_test(scored[family].to_numpy(), 0.0, seed=seed, reps=spa_reps)
    real = spa is not None and spa.consistent < SPA_LEVEL
    verdict = "real" if real else "likely luck"
    bench_text = (f"{result.benchmark} x each config's average exposure" if result.matched
                  else result.benchmark) if active else "zero (raw returns)"
    against = f" (active Sharpe {row['active_sharpe']:.2f} against {bench_text})" if active else ""
    capped = f" (the best {len(family):,} of {len(t):,})" if len(family) < len(t) else ""
    if spa is None:
        decided = "too little history for the luck test"
    else:
        decided = (f"Hansen's SPA over all {len(family):,} configs{capped}, against {bench_text}: p = "
                   f"{spa.consistent:.3f} ({'<' if real else '>='} {SPA_LEVEL})")
    pbo_text = f"; PBO among the top {pbo.n_configs} = {pbo.pbo:.2f}" if pbo is not None else ""
    statement = (
        f"The best of {len(t):,} configs has Sharpe {row['sharpe']:.2f}{against}. Decided by {decided}: "
        f"{verdict}. Diagnostics: deflated Sharpe probability {dsr:.2f} with {n_trials:,} trials ({source}; the "
        f"best Sharpe expected from luck alone is {sr0:.2f}){pbo_text}."
    )
    stats = SweepStats(
        n_configs=len(t), n_trials=int(n_trials), sr_variance=float(var), trials_source=source, best=best,
        sharpe=float(row["sharpe"]), score=float(row[result.score]), psr=float(psr), dsr=float(dsr),
        expected_max_sharpe=float(sr0), pbo=pbo, pbo_search=pbo_search, bootstrap=boot, spa=spa,
        verdict=verdict, statement=statement,
    )
    result.stats = stats
    return stats
