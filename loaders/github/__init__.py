"""The GitHub loader: pull requests, commits and pull-request events from GitHub's REST API into raw.*.

Modules: client (HTTP, ETags, rate limits), rows (JSON → rows), source (the dlt source), load (the
`prodlens load github` run), identity (keyed e-mail hashes), replay (a local GitHub stand-in) and sample
(the bundled offline sample).
"""
