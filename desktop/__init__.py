"""Scenesplit desktop editor (PyQt6 + pyqtgraph). Never imports torch; talks to the engine client."""
