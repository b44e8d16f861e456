"""``tbx demo``: the whole product on real data in one command (``pip install "tbx[demo]"``).

* :mod:`tbx.demo.run` — the ``demo`` subcommand (:func:`tbx.demo.run.add_demo_parser`,
  :func:`tbx.demo.run.demo_main`): checks, the viewer beside the training, Ctrl-C and SIGTERM;
* :mod:`tbx.demo.train` — the learning-rate sweep, logging every kind of data through
  :class:`tbx.SummaryWriter`;
* :mod:`tbx.demo.data` — scikit-learn's digits, split; :mod:`tbx.demo.figures` — the
  matplotlib figures; :mod:`tbx.demo.geometry` — the meshes;
* :mod:`tbx.demo.mlp` — a small NumPy MLP with backpropagation and Adam;
* :mod:`tbx.demo.viewer` — ``tbx serve`` in a child process.

``python -m tbx.demo [--logdir runs/demo] [--no-serve] [--epochs N]`` runs it without the
``tbx`` command.
"""
