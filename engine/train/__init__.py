"""Training: one loop (loop.py) for every module, typed configs, data feeding, DDP, logs.

`scenesplit train {uss,sc,tse,m2d-pretrain} --config paper|lite|smoke [key=value ...]`.
"""
