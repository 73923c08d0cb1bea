"""What an operator can measure: the Prometheus series of this process and how they are served.

``series`` names every series once; the code that sees an event records it there, after its
transaction has committed where there is one. ``exposition`` answers a scrape: the API serves
``GET /metrics`` and a daemon (engine, executor) its own port (``[metrics] port``).

NOTE: a bottom layer, like ``mistral.utils``: the engine, executor, scheduler, database and
RPC layers all record here, so it imports none of them.
"""
