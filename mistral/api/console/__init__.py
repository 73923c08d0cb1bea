"""The web console: static files served by the API process (see serve.py)."""
