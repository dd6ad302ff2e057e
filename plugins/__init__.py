"""Integrations with host DAWs and editors; they use the engine's client only."""
