"""Population work by county: columnar snapshots, the synthetic population and the monthly runner."""
