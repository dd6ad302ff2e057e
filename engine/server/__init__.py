"""The engine server: an HTTP API over the pipeline with queued, cancellable, persisted jobs.

`scenesplit serve` (engine.server.serve) loads the model bundle once; one worker thread runs
jobs (engine.server.worker) that the store (engine.server.jobs) keeps in the work directory.
Clients use engine.client; the contract is ENGINE_API.md.
"""
