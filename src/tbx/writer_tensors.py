"""SummaryWriter's methods for tensor-like kinds: histograms, PR curves, hparams, custom scalars,
meshes and plugins' own data. Each formats its data with its module in :mod:`tbx.summary`
(histogram, pr_curve, hparams, custom_scalars, mesh, plugin); :class:`tbx.SummaryWriter` inherits
them."""

from __future__ import annotations

import os

from tbx.convert import check_tag
from tbx.wire import event_bytes

__all__ = ["TensorMethods"]


class TensorMethods:
    """Mixin of :class:`tbx.SummaryWriter`: histograms, PR curves, hparams, custom scalars,
    meshes, plugin data. Relies on the writer's ``_step_wall``, ``_add_summary``, ``_sub_run``,
    ``_sub_run_writer`` and ``add_scalar``."""

    def add_histogram(
        self,
        tag: str,
        values,
        global_step: int | None = None,
        bins="tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Log the histogram of ``values``: plugin ``histograms`` (``Summary.Value.histo``).

        Args:
            tag: the series name (non-empty str), written as given.
            values: numbers of any shape (N,), (N, M), ...: numpy array, torch/jax tensor,
                list; bool, int, float16/32/64 or bfloat16. Flattened.
            bins: ``"tensorflow"`` (tensorboardX's default: edges ``±1e-12 * 1.1**k`` below
                1e20, and 0; beyond ±1e20 the same grid continues), an int number of equal
                bins, a numpy rule (``"auto"``, ``"fd"``, ``"doane"``, ``"sqrt"``, ...) or an
                increasing edge array (see ``numpy.histogram``).
            max_bins: at most this many counted buckets (neighbours merged).

        Non-finite values (and values outside explicit edges) are left out, with one
        ``RuntimeWarning`` naming the tag and the count; if no value is left, nothing is
        written. ``num``, ``min``, ``max``, ``sum`` and ``sum_squares`` describe the counted
        values; ``num`` equals the sum of the bucket counts.

        Raises:
            TypeError: ``tag`` not a str; ``values`` not numeric.
            ValueError: empty ``tag`` or ``values``; bad ``bins`` or ``max_bins``; a bad
                ``global_step``.
        """
        from tbx.convert import to_numpy
        from tbx.summary.histogram import histogram_summary

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        summary = histogram_summary(tag, to_numpy(values, "values"), bins, max_bins, stacklevel=3)
        if summary is not None:
            self._add_summary(summary, step, wall)

    def add_histogram_raw(
        self,
        tag: str,
        min,
        max,
        num,
        sum,
        sum_squares,
        bucket_limits,
        bucket_counts,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log a histogram given by its fields: plugin ``histograms``.

        Args:
            min, max, num, sum, sum_squares: numbers (float64).
            bucket_limits: (K,) right edge of each bucket, increasing (``numpy.histogram``'s
                ``edges[1:]``).
            bucket_counts: (K,) count of each bucket.

        Raises:
            ValueError: ``bucket_limits`` and ``bucket_counts`` differ in length or are not
                1-D; empty ``tag``.
            TypeError: a field is not numeric; ``tag`` not a str.
        """
        from tbx.summary.histogram import histogram_raw_summary

        summary = histogram_raw_summary(
            check_tag(tag), min, max, num, sum, sum_squares, bucket_limits, bucket_counts
        )
        self._add_summary(summary, global_step, walltime)

    def add_pr_curve(
        self,
        tag: str,
        labels,
        predictions,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights=None,
        walltime: float | None = None,
    ) -> None:
        """Log a precision-recall curve: plugin ``pr_curves``, a float32 tensor
        ``[6, num_thresholds]`` (TP, FP, TN, FN, precision, recall) computed as TensorBoard's
        pr_curves plugin does, at thresholds ``linspace(0, 1, num_thresholds)``.

        Args:
            labels: ground truth of any shape (N,), ...: bool, or 1/0 (fractions count
                partly, as tensorboardX).
            predictions: probabilities in [0, 1], same shape as ``labels`` (clipped to [0, 1]).
            num_thresholds: int >= 2 (no cap; tensorboardX caps at 127).
            weights: None, a number or an array broadcastable to ``labels``: each example
                counts this much.

        Raises:
            TypeError: non-numeric input; ``num_thresholds`` not an int.
            ValueError: shapes differ; NaN/Inf in the inputs; ``num_thresholds < 2``.
        """
        from tbx.convert import to_numpy
        from tbx.summary.pr_curve import pr_curve_summary

        check_tag(tag)
        w = None if weights is None else to_numpy(weights, "weights")
        summary = pr_curve_summary(
            tag,
            to_numpy(labels, "labels"),
            to_numpy(predictions, "predictions"),
            num_thresholds,
            w,
        )
        self._add_summary(summary, global_step, walltime)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts,
        false_positive_counts,
        true_negative_counts,
        false_negative_counts,
        precision,
        recall,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights=None,
        walltime: float | None = None,
    ) -> None:
        """Log a precision-recall curve given by its six rows: plugin ``pr_curves``.

        Args:
            true_positive_counts, false_positive_counts, true_negative_counts,
            false_negative_counts, precision, recall: (T,) arrays, stored as float32.
            num_thresholds: T; left at the default 127, the arrays' length is used.
            weights: ignored (tensorboardX compatibility).

        Raises:
            ValueError: the rows are not 1-D or differ in length; T < 2; ``num_thresholds``
                given and different from T.
            TypeError: non-numeric rows.
        """
        from tbx.convert import to_numpy
        from tbx.summary.pr_curve import pr_curve_raw_summary

        names = ("true_positive_counts", "false_positive_counts", "true_negative_counts")
        names += ("false_negative_counts", "precision", "recall")
        rows = [
            to_numpy(r, n)
            for r, n in zip(
                (
                    true_positive_counts,
                    false_positive_counts,
                    true_negative_counts,
                    false_negative_counts,
                    precision,
                    recall,
                ),
                names,
                strict=True,
            )
        ]
        summary = pr_curve_raw_summary(check_tag(tag), *rows, num_thresholds, weights)
        self._add_summary(summary, global_step, walltime)

    def add_hparams(
        self,
        hparam_dict: dict,
        metric_dict: dict,
        name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Log one hyperparameter session: plugin ``hparams`` (the ``_hparams_/experiment``,
        ``_hparams_/session_start_info`` and ``_hparams_/session_end_info`` summaries, as
        tensorboardX), plus each metric as a scalar ``add_scalar(tag, value, global_step)``.

        Unlike tensorboardX (which always writes to a new sub-run named by the time), the
        session is written into this writer's own run by default, so the hparams dashboard
        shows it beside the run's training curves; TensorBoard shows the first session of a
        run, so call this once per run. ``name`` writes it to the sub-run ``<logdir>/<name>``
        instead, as tensorboardX does.

        Args:
            hparam_dict: ``{name: value}``. What each value becomes: a bool, or a one-element
                bool array/tensor: a bool (``DATA_TYPE_BOOL``); an int, float, numpy/torch/jax
                real scalar or one-element array: a float64 number (``DATA_TYPE_FLOAT64``); a
                str: a string; ``None``: the string ``"None"`` (tensorboardX drops the key);
                a function or class: its ``__name__``; any other value (list, dict, Path,
                enum, array of several elements, ...): ``str(value)``. Strings are
                ``DATA_TYPE_STRING``. Details: :mod:`tbx.summary.hparams`.
            metric_dict: ``{tag: number}``.
            name: None (this run), or a sub-run folder name (relative path).

        Raises:
            TypeError: not dicts; a key not a str; an hparam value whose ``str()`` raises or a
                metric value not a number (the key is named); ``name`` not a str. Nothing is
                written then.
            ValueError: an empty key; an empty or absolute ``name``.
        """
        from tbx.summary.hparams import check_metrics, hparams_summaries

        summaries = hparams_summaries(hparam_dict, metric_dict)
        metrics = check_metrics(metric_dict)
        step, wall = self._step_wall(global_step, None)
        if name is None:
            for s in summaries:
                self._add_summary(s, step, wall)
            for k, v in metrics.items():
                self.add_scalar(k, v, step, wall)
            return
        if not isinstance(name, str):
            raise TypeError(f"name must be None or a str, got {type(name).__name__}")
        if not name or os.path.isabs(name):
            raise ValueError(f"name must be a non-empty relative folder name, got {name!r}")
        if not self._write_to_disk:
            return
        fw = self._sub_run_writer(self._sub_run(("name", name)))
        for s in summaries:
            fw.event_writer.add_event_bytes(event_bytes(wall, step, s.SerializeToString()))
        for k, v in metrics.items():
            fw.event_writer.add_event_bytes(self._encoder.encode(k, v, step, wall))

    def add_custom_scalars(self, layout: dict) -> None:
        """Log a layout for TensorBoard's custom scalars dashboard: plugin ``custom_scalars``,
        tag ``custom_scalars__config__`` (step 0), as tensorboardX. Each call writes a whole
        layout: TensorBoard shows the latest of each run (merging the runs' layouts), so give
        all charts of a run in one call.

        Args:
            layout: ``{category: {chart_title: ['Multiline', [tag_regex, ...]] or
                ['Margin', [value_tag, lower_tag, upper_tag]]}}``.

        Raises:
            TypeError, ValueError: a layout not of that form (the message shows the form).
        """
        from tbx.summary.custom_scalars import custom_scalars_summary

        self._add_summary(custom_scalars_summary(layout), 0, None)

    def add_custom_scalars_multilinechart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Log a custom scalars layout of one chart drawing the series ``tags`` (regular
        expressions over scalar tags) together. Raises as :meth:`add_custom_scalars`."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Log a custom scalars layout of one margin chart: ``tags`` is ``[value_tag,
        lower_tag, upper_tag]``. Raises as :meth:`add_custom_scalars` (ValueError unless 3
        tags)."""
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_mesh(
        self,
        tag: str,
        vertices,
        colors=None,
        faces=None,
        config_dict: dict | None = None,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log a 3D mesh or point cloud: plugin ``mesh``, tags ``<tag>_VERTEX``, ``<tag>_FACE``,
        ``<tag>_COLOR``, as TensorBoard's mesh plugin expects.

        Args:
            vertices: (B, N, 3) xyz coordinates (float32).
            colors: None or (B, N, 3) RGB in [0, 255] (uint8).
            faces: None (a point cloud) or (B, F, 3) vertex indices in [0, N) (int32).
            config_dict: None or a JSON-serialisable dict of three.js settings (camera,
                lights, material).

        Raises:
            ValueError: other shapes (the message gives the expected ones), colors outside
                [0, 255], face indices outside [0, N), non-finite vertices.
            TypeError: non-numeric arrays; a config_dict that is not a JSON-able dict.
        """
        from tbx.convert import to_numpy
        from tbx.summary.mesh import mesh_summary

        summary = mesh_summary(
            check_tag(tag),
            to_numpy(vertices, "vertices"),
            None if colors is None else to_numpy(colors, "colors"),
            None if faces is None else to_numpy(faces, "faces"),
            config_dict,
        )
        self._add_summary(summary, global_step, walltime)

    def add_plugin_data(
        self,
        tag: str,
        data,
        plugin_name: str,
        global_step: int | None = None,
        walltime: float | None = None,
        *,
        content: bytes | str = b"",
    ) -> None:
        """Log a viewer plugin's own data: a Value with ``SummaryMetadata.plugin_data =
        {plugin_name, content}`` and ``data`` as a tensor (:mod:`tbx.summary.plugin`).

        Args:
            tag: the tag.
            data: ``bytes`` or ``str`` (a string tensor of shape ``[]``), a list of those
                (shape ``[n]``), or a numeric tensor-like (its dtype and shape).
            plugin_name: the plugin that shows it (``[A-Za-z0-9_.-]+``, not a built-in kind).
            content: the plugin's metadata (``bytes`` or UTF-8 ``str``, <= 1 MB).

        The reader returns the tag as a tensor series with ``TagInfo.plugin_name ==
        plugin_name``; a plugin found through the ``tbx.plugins`` entry points shows it.

        Raises:
            TypeError: ``data``, ``content`` or a name of an unaccepted type.
            ValueError: empty ``tag``, bad or built-in ``plugin_name``, ``content`` over 1 MB.
        """
        from tbx.summary.plugin import plugin_summary

        self._add_summary(plugin_summary(tag, data, plugin_name, content), global_step, walltime)
