"""``tbx report LOGDIR -o report.html``: a logdir as one self-contained HTML file.

* :func:`tbx.report.build.build_report` — read, fit in the size budget, write (what the
  command calls);
* :mod:`tbx.report.data` — what goes in: series (the viewer's M4), hparams, images, text;
* :mod:`tbx.report.page` — the HTML, its escaping and Content-Security-Policy;
* the page's script is ``web/src/report.js`` (the viewer's chart code, bundled by esbuild).
"""
