"""``tbx demo``: the whole product on real data in one command (``pip install "tbx[demo]"``).

* :mod:`tbx.demo.mlp` — a small NumPy MLP with backpropagation and Adam;
* :mod:`tbx.demo.run` — the learning-rate sweep on scikit-learn's digits, logging every kind of
  data through :class:`tbx.SummaryWriter`, and the ``demo`` subcommand
  (:func:`tbx.demo.run.add_demo_parser`).

``python -m tbx.demo [--logdir runs/demo] [--no-serve] [--epochs N]`` runs it without the
``tbx`` command.
"""
