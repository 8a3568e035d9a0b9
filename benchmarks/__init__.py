"""flowbt's benchmark suite (issue 9): `make bench` (or `python -m benchmarks.run [--quick]`).

Everything that is compared is measured side by side in one run, so the ratios hold on a noisy machine:

- `sweep`: sweep throughput on the 11 sector ETFs x 2000-2025 daily sessions, weekly rebalance, fees and
  metrics (fresh_flow_low_exposure): the fused kernel, a minimal numba loop over the same weights (the
  reference for "how fast can a loop over this data be"), vectorbt's broadcast `Portfolio.from_orders` on
  the same target weights, the engine per config, and bt (pmorissette/bt) per config.
- `signals`: the signal kernels against idiomatic pandas equivalents.
- `startup`: `flowbt run` end to end, tear sheet included, with an empty and with a warm numba cache.
- `realdata`: `load_real(../shared/data)` with an empty and with a warm parquet store (target: warm <= 1 s).
- `scaling`: time and peak memory of the fused kernel against configs, years and assets.

Every figure is the median, min and max of several runs; every peak memory comes from a fresh subprocess
(`benchmarks.common.measure`) so measurements do not contaminate each other. Nothing here is a timed test:
the suite reports (results/bench/*.json, BENCHMARKS.md) and the README links the latest table.
"""
