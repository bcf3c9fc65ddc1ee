"""Policy analysis: reform simulation, statistics and fund projections (docs/analysis.md)."""
