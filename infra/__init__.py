"""Infrastructure: resource definitions, the local AWS-compatible parts, and packaging helpers.

Nothing here is imported by the deployed functions; it serves `make run`, the tests and
`chalice package`.
"""
