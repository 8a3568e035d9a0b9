"""Tear sheets from run folders: HTML (self-contained) and PDF, and the comparison sheet of several runs.

- `load`: a run folder read back into a `RunRecord` (nothing is recomputed from market data).
- `figures`: one matplotlib function per figure, plain frames in, a Figure out.
- `render`: blocks (tables, notes, figures) rendered as one HTML page and as an A4 PDF.
- `tearsheet`: the sections of one run's tear sheet (`write_tearsheet`).
- `compare`: several runs side by side (`write_comparison`).
- `trials`: the number of configurations tried, from the DuckDB trial log, for the deflated Sharpe ratio.
"""
