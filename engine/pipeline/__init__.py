"""The self-guided pipeline: USS -> SC -> (TSE -> SC) x rounds, long recordings, refinement.

One inference core (`Separator`) serves the command line, the engine server and the editor.
"""
