"""nlpipe's benchmarks: ``python -m benchmarks {all,report,<area>}`` (see ``benchmarks/__main__.py``).

Each benchmark is also a script, ``python benchmarks/<area>.py``; this package imports none of them.
"""
