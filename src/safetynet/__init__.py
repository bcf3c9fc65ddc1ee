"""SafetyNet: social insurance, social assistance and welfare, rules as code."""
