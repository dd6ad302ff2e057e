"""Audacity integration: a running Audacity driven through its script pipe (mod-script-pipe).

`pipe` speaks the protocol, `project` turns workflow steps into Audacity commands, `sidecar`
remembers which stem tracks came from which engine job, and `workflow` holds `separate` and
`relabel` (the `scenesplit audacity` command). Offline session files for Audacity (.lof) are in
`plugins.sessions.audacity`.
"""
