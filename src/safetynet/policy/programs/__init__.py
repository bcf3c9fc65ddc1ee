"""One module per program; each registers itself with the engine on import."""
