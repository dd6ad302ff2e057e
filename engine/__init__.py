"""Scenesplit engine: audio I/O, DSP, models, data, training, evaluation and the engine server.

The engine never imports Qt; the desktop editor reaches it only through `engine.client`.
"""

__version__ = "0.1.0"
