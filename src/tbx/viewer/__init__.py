"""tbx's web viewer over :mod:`tbx.reader` (``pip install tbx[viewer]``; ``tbx serve LOGDIR``).

* :func:`tbx.viewer.app.create_app` — the starlette app over a provider;
* :mod:`tbx.viewer.plugin` — the plugin API every dashboard is built on (``docs/plugins.md``);
  built-in plugins in :mod:`tbx.viewer.plugins`, others through the ``tbx.plugins`` entry points;
* :func:`tbx.viewer.server.serve` — run it on uvicorn (what ``tbx serve`` calls).
"""

#: The longest pause between the viewer's refreshes, in seconds (one day): a longer wait
#: overflows the clock. Checked by the hub and by ``tbx serve --reload-interval``.
MAX_RELOAD_INTERVAL = 86400.0
