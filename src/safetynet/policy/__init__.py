"""Rules as code: parameters, programs and the engine that evaluates them."""
