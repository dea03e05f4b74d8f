"""The model-based session lifecycle suite (hypothesis state machines over real HTTP)."""
