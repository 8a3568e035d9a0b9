"""What the models say: every registered strategy whose data is present, run on the data public at the as-of moment.

The market is cut at the as-of moment first (price sessions whose close is at or before it, panel rows public
by then), so a strategy cannot read anything later even if it wanted to; its latest decision is the last
decision session of the cut market. For each strategy: the target weights of that decision, their change from
the previous decision, the scores behind them (its `signal`, when it defines one; else the latest value of each
panel metric it needs public at that decision — not at the as-of, which may be later when prices end first), and a link to its latest tear sheet on the same data, when one exists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from research.data.calendar import decision_times
from research.data.market import MarketData
from research.data.prices import Prices
from research.errors import FlowbtError

RUNS = Path("results") / "runs"
#: Entities whose value of a needed metric is shown for a strategy without a `signal` (timing books).
INPUT_ENTITIES: tuple[str, ...] = ("BOOK", "SPY", "NDX", "VIX", "HF_VIP", "MOST_SHORT")


def cut(data: MarketData, at: pd.Timestamp) -> MarketData | None:
    """`data` as it stood at `at`: closes of sessions that closed later are blanked (NaN) and panel rows published
    later dropped; None when no session has closed by then.

    The session index itself is kept whole: the exchange calendar is public in advance, and the strategies'
    weekly schedules (the first session on or after Tuesday, or Friday) must not see a week cut short as one
    that ends on the as-of day.
    """
    idx = data.index
    keep = decision_times(idx) <= at
    if not keep.any():
        return None
    mask = pd.Series(keep, index=idx)
    p = data.prices
    vol = None if p.volume is None else p.volume.where(mask, axis=0)
    prices = Prices(p.close.where(mask, axis=0), p.open.where(mask, axis=0), vol, p.source, p.notes)
    panel = data.panel[data.panel["available_at"] <= at]
    return dataclasses.replace(data, prices=prices, panel=panel, truth=None)


def _tearsheet(name: str, data_name: str, runs: Path) -> str | None:
    """The newest tear sheet of `name` run on `data_name` under `runs`, or None."""
    import json

    best = None
    for cfg in sorted((runs / name).glob("*/config.json")):
        try:
            same = json.loads(cfg.read_text()).get("data") == data_name
        except (OSError, ValueError):
            continue
        if same and (cfg.parent / "tearsheet.html").exists():
            best = cfg.parent / "tearsheet.html"
    return None if best is None else str(best.resolve())


def _row(s: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in s.items() if pd.notna(v)}


def model_section(data: MarketData, at: pd.Timestamp, runs: Path = RUNS) -> dict[str, Any]:
    """Latest weights, their change and the scores behind them, per strategy; and the strategies skipped."""
    import research.registry as strategies

    market = cut(data, at)
    if market is None:
        return {"models": [], "skipped": [{"strategy": "all", "reason": "no price session closed by the as-of"}]}
    models, skipped = [], []
    last_session = data.index[decision_times(data.index) <= at][-1]
    for name, strat in strategies.registry().items():
        missing = strat.missing_data(market)
        if missing:
            skipped.append({"strategy": name, "reason": "needs " + ", ".join(missing)})
            continue
        try:
            w = strat.target_weights(market)
            score = strat.target_signal(market)
        except FlowbtError as exc:
            skipped.append({"strategy": name, "reason": str(exc).splitlines()[0]})
            continue
        if w.empty:
            skipped.append({"strategy": name, "reason": "no decision yet"})
            continue
        w = w.loc[:last_session]
        if w.empty:
            skipped.append({"strategy": name, "reason": "no decision by the as-of"})
            continue
        now = w.iloc[-1]
        prev = w.iloc[-2] if len(w) > 1 else None
        entry: dict[str, Any] = {
            "strategy": name, "mode": strat.mode, "hypothesis": strat.hypothesis,
            "decided": w.index[-1].date().isoformat(),
            "previous": None if prev is None else w.index[-2].date().isoformat(),
            "weights": _row(now), "change": {} if prev is None else _row(now - prev),
        }
        if score is not None and not score.empty:
            sc = score.loc[:w.index[-1]]
            entry["signal"] = _row(sc.iloc[-1]) if len(sc) else {}
            entry["signal_kind"] = "score"
        else:
            inputs = {}
            decided_at = decision_times(w.index[-1:])[0]  # the inputs as public at the decision, not at the as-of
            for metric in (n for n in strat.needs if not n.startswith("price:")):
                rows = market.panel[(market.panel["metric"] == metric) & (market.panel["available_at"] <= decided_at)]
                for ent in INPUT_ENTITIES:
                    r = rows[rows["entity"] == ent]
                    if len(r):
                        row = r.sort_values(["as_of", "available_at"]).iloc[-1]
                        inputs[f"{metric} {ent} ({row['as_of'].date()})"] = float(row["value"])
            entry["signal"] = inputs
            entry["signal_kind"] = "inputs"
        entry["tearsheet"] = _tearsheet(name, data.name, runs)
        models.append(entry)
    return {"models": models, "skipped": skipped, "last_session": last_session.date().isoformat()}
