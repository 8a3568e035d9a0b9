"""Data sources, the point-in-time panel, the synthetic market and the sector universe."""
