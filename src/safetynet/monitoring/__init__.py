"""Low-income dynamic monitoring: department feeds (issue 5 item 1), loaded and versioned."""
