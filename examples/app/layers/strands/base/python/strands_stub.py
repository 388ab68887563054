"""Stand-in for the Strands agents SDK (base)."""

VERSION = "1.0.0"
