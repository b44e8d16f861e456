"""tbx's web viewer over :mod:`tbx.reader` (``pip install tbx[viewer]``; ``tbx serve LOGDIR``).

* :func:`tbx.viewer.app.create_app` — the starlette app over a provider;
* :func:`tbx.viewer.server.serve` — run it on uvicorn (what ``tbx serve`` calls).
"""
