"""The Scenesplit editor (PyQt6 + pyqtgraph). Never imports torch; talks to the engine only
through `engine.client` (see `desktop.engine_link`)."""
