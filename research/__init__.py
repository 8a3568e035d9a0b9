"""flowbt: backtesting research framework for hedge-fund flow and positioning signals on US sector ETFs."""

__version__ = "0.1.0"
