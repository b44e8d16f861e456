"""``tbx watch LOGDIR``: a live terminal dashboard of a logdir's scalars (``pip install
tbx[watch]``: textual, textual-plotext, scipy and tsdownsample), or with ``--once`` a static
snapshot on stdout.

* :mod:`tbx.watch.snapshot` — the numbers shown (statistics, chart points, sparklines) and the
  ``--once`` text/JSON output; needs no terminal library.
* :mod:`tbx.watch.screen` — pages of tags, run colours, key steps and status lines; no
  terminal library either.
* :mod:`tbx.watch.app` — the textual app.
* :mod:`tbx.watch.cli` — the ``tbx watch`` subcommand.
"""
