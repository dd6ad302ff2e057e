"""Models: DeFT-Mamba USS and TSE, the M2D-SC classifier, and the blocks they share.

Load any saved model with `engine.models.checkpoint.load_checkpoint`; build one by name and
config with `engine.models.registry.build_model`.
"""
