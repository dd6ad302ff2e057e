"""Training data: procedural sound generators, rooms, background noise and S5-style scene synthesis.

Modules: `generators` (one module per sound family), `rooms` (FOA room impulse responses),
`noise` (diffuse multichannel background), `sources` (real clips + generators), `scenes` (the
mixer), `dcase_layout` (official development-set layout I/O), `datasets` (torch datasets),
`corpus` (Debian-package source corpus), `example` (the bundled example recording).
"""
