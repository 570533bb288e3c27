"""Voice-board drivers: one vendor-neutral board API over every backend (SPEC B1-B6).

This layer is built by its own issue (board API, backend registry, simulated board,
DAHDI binding); the engine imports boards only from here.
"""
