"""SummaryWriter's methods for media and structure: images, figures, video, audio, embeddings
and graphs. Each formats its data with its module in :mod:`tbx.summary` (image, video, audio,
embedding, graph); :class:`tbx.SummaryWriter` inherits them."""

from __future__ import annotations

import warnings

from tbx.convert import check_tag, to_step

__all__ = ["MediaMethods"]


class MediaMethods:
    """Mixin of :class:`tbx.SummaryWriter`: images, figures, video, audio, embeddings, graphs.
    Relies on the writer's ``_step_wall``, ``_add_summary``, ``_add_bytes`` and
    ``_get_file_writer``."""

    def _check_float_pixels(self, tag: str, array, arg: str) -> None:
        """Warn, once per tag of this writer, about float pixels outside [0, 1] (clipped)."""
        if array.dtype.kind == "f" and tag not in self._float_warned:
            from tbx.summary.image import float_range_warning

            message = float_range_warning(array, arg)
            if message is not None:
                self._float_warned.add(tag)
                warnings.warn(
                    f"tag {tag!r}: {message} (warned once per tag)", UserWarning, stacklevel=3
                )

    def _write_event(self, event, walltime=None) -> None:
        """Write an Event proto that is not a Summary (graphs) at step 0, as tensorboardX."""
        event.wall_time = self._step_wall(0, walltime)[1]
        self._add_bytes(event.SerializeToString())

    def add_image(
        self,
        tag: str,
        img_tensor,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Log an image as a PNG: plugin ``images`` (``Summary.Image``, as tensorboardX).

        Args:
            tag: the series name (non-empty str), written as given.
            img_tensor: a numpy array, torch/jax tensor or nested list of shape ``(C, H, W)``
                (default), or another order given by ``dataformats``: ``(H, W, C)`` for
                ``'HWC'``, ``(H, W)`` for ``'HW'``; a batch ``(N, C, H, W)`` (``'NCHW'``) is
                tiled 8 per row. ``C`` is 1 (grayscale), 3 (RGB) or 4 (RGBA). Pixels: uint8
                0..255 used as is; floats taken as [0, 1], clipped, scaled by 255 and truncated
                (tensorboardX's rounding), with a ``UserWarning`` the first time a tag gets
                floats outside [0, 1] (0..255 levels as floats come out almost white); bool as
                0/255; other integers as 0..255, clipped.
            global_step: int64 step (default 0).
            walltime: seconds since the epoch (default: now).
            dataformats: the axis order, any order of ``C``, ``H``, ``W`` (and ``N``), e.g.
                ``'CHW'``, ``'HWC'``, ``'HW'``, ``'NCHW'``, ``'NHWC'``; case-insensitive.

        Raises:
            ImportError: Pillow is not installed (``pip install "tbx[images]"``).
            TypeError: ``tag`` not a str; ``img_tensor`` not numeric; ``dataformats`` not a str.
            ValueError: ``img_tensor``'s number of dimensions differs from ``dataformats``'s
                length, ``dataformats`` is not an order of N, C, H, W, ``C`` is not 1, 3 or 4,
                or an axis is empty. The message quotes the shape given and, where one fits,
                the likely ``dataformats`` (``(48, 32, 3)`` with the default ``'CHW'``:
                ``dataformats='HWC'``).
        """
        from tbx.convert import to_numpy
        from tbx.summary.image import image_summary, to_hwc

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        array = to_numpy(img_tensor, "img_tensor")
        hwc = to_hwc(array, dataformats)
        self._check_float_pixels(tag, array, "img_tensor")
        self._add_summary(image_summary(tag, hwc), step, wall)

    def add_images(
        self,
        tag: str,
        img_tensor,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Log a batch of images as one PNG grid: plugin ``images``.

        The images are tiled as tensorboardX's ``make_grid`` does: ``min(N, 8)`` per row,
        ``ceil(N / 8)`` rows, row-major, unused cells black (transparent for RGBA).

        Args:
            img_tensor: ``(N, C, H, W)`` (default) or another order given by ``dataformats``
                (``'NHWC'``, ...); or a list of ``N`` same-shape images, with ``dataformats``
                ``'CHW'`` or ``'HWC'`` (the form of one image). ``C`` is 1, 3 or 4; pixels as
                :meth:`add_image`.
            tag, global_step, walltime, dataformats: as :meth:`add_image`.

        Raises:
            ImportError, TypeError, ValueError: as :meth:`add_image`; also ValueError for a list
                of images of different shapes.
        """
        import numpy as np

        from tbx.convert import to_numpy
        from tbx.summary.image import image_summary, to_hwc

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        if (
            isinstance(img_tensor, (list, tuple))
            and isinstance(dataformats, str)
            and "N" not in dataformats.upper()
        ):
            arrays = [to_numpy(x, "img_tensor[i]") for x in img_tensor]
            if not arrays:
                raise ValueError("img_tensor is an empty list; give at least one image")
            shapes = {a.shape for a in arrays}
            if len(shapes) != 1:
                raise ValueError(
                    f"the images of img_tensor must have one shape, got {sorted(shapes)}"
                )
            array, dataformats = np.stack(arrays), "N" + dataformats
        else:
            array = to_numpy(img_tensor, "img_tensor")
        hwc = to_hwc(array, dataformats)
        self._check_float_pixels(tag, array, "img_tensor")
        self._add_summary(image_summary(tag, hwc), step, wall)

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor,
        box_tensor,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
        labels: list[str] | None = None,
        **kwargs,
    ) -> None:
        """Log an image with boxes drawn on it (red, 2 pixels wide, optional labels): plugin
        ``images``.

        Args:
            img_tensor: one image, ``(C, H, W)`` (default) or as ``dataformats`` says (``'HWC'``,
                ``'HW'``); pixels as :meth:`add_image`. Grayscale is drawn on as RGB.
            box_tensor: ``(N, 4)`` boxes ``(xmin, ymin, xmax, ymax)`` in pixels (any real
                dtype; a single box may be ``(4,)``).
            labels: ``N`` strings (a str for one box), drawn at each box's top-left corner.
            **kwargs: ``color``, ``text_color`` (Pillow colour names) and ``thickness``
                (pixels) of the boxes.
            tag, global_step, walltime, dataformats: as :meth:`add_image`.

        Raises:
            ImportError, TypeError, ValueError: as :meth:`add_image`; also ValueError for a
                batch, a ``box_tensor`` not of shape (N, 4) or with NaN/Inf, or
                ``len(labels) != N``, and TypeError for an unknown keyword argument.
        """
        from tbx.convert import to_numpy
        from tbx.summary.image import image_boxes_summary, to_hwc

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        unknown = set(kwargs) - {"color", "text_color", "thickness"}
        if unknown:
            raise TypeError(
                f"add_image_with_boxes got unknown keyword arguments {sorted(unknown)}; "
                f"accepted: color, text_color, thickness"
            )
        if isinstance(dataformats, str) and "N" in dataformats.upper():
            raise ValueError(
                f"add_image_with_boxes takes one image: dataformats 'CHW', 'HWC' or 'HW', got "
                f"{dataformats!r}"
            )
        array = to_numpy(img_tensor, "img_tensor")
        hwc = to_hwc(array, dataformats)
        self._check_float_pixels(tag, array, "img_tensor")
        boxes = to_numpy(box_tensor, "box_tensor")
        self._add_summary(image_boxes_summary(tag, hwc, boxes, labels, **kwargs), step, wall)

    def add_figure(
        self,
        tag: str,
        figure,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """Log a matplotlib figure (or a list of same-size figures, tiled as
        :meth:`add_images`) rendered with the Agg canvas (no display needed) as an RGB PNG:
        plugin ``images``.

        Args:
            figure: a ``matplotlib.figure.Figure`` or a list of them.
            close: close the figure(s) afterwards (``pyplot.close``).
            tag, global_step, walltime: as :meth:`add_image`.

        Raises:
            ImportError: matplotlib or Pillow is not installed (``pip install "tbx[figures]"``).
            TypeError: ``figure`` is not a Figure or a list of them.
            ValueError: an empty list, or figures of different pixel sizes.
        """
        from tbx.summary.image import figure_to_array, image_summary, make_grid

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        pixels = figure_to_array(figure, close)
        hwc = make_grid(pixels) if pixels.ndim == 4 else pixels
        self._add_summary(image_summary(tag, hwc), step, wall)

    def add_video(
        self,
        tag: str,
        vid_tensor,
        global_step: int | None = None,
        fps: int | float = 4,
        walltime: float | None = None,
        dataformats: str = "NTCHW",
    ) -> None:
        """Log a batch of videos as one animated GIF (Pillow; no moviepy): plugin ``images``.

        Args:
            vid_tensor: ``(N, T, C, H, W)`` (default) or another order given by
                ``dataformats``; ``N`` clips of ``T`` frames, tiled into one video as
                tensorboardX does (``N`` padded to a power of two). ``C`` is 1 or 3 (a 4th,
                alpha, channel is dropped). Pixels: uint8 0..255 as is, floats in [0, 1]
                clipped and scaled as :meth:`add_image`.
            fps: frames per second (> 0); GIF stores the delay in 1/100 s, at least 2.
            dataformats: an order of the letters N, T, C, H, W (``'NTCHW'``, ``'NTHWC'``, ...).
            tag, global_step, walltime: as :meth:`add_image`.

        Raises:
            ImportError: Pillow is not installed (``pip install "tbx[video]"``).
            TypeError: ``vid_tensor`` not numeric; ``fps`` not a number.
            ValueError: ``vid_tensor`` not 5-D, ``dataformats`` not an order of N, T, C, H, W,
                ``C`` not 1, 3 or 4, an empty axis, or ``fps`` not positive.
        """
        from tbx.convert import to_numpy
        from tbx.summary.video import check_fps, to_tnhwc, video_summary

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        fps = check_fps(fps)
        array = to_numpy(vid_tensor, "vid_tensor")
        clips = to_tnhwc(array, dataformats)
        self._check_float_pixels(tag, array, "vid_tensor")
        self._add_summary(video_summary(tag, clips, fps), step, wall)

    def add_audio(
        self,
        tag: str,
        snd_tensor,
        global_step: int | None = None,
        sample_rate: int = 44100,
        walltime: float | None = None,
    ) -> None:
        """Log a sound as a 16-bit PCM WAV: plugin ``audio`` (``Summary.Audio``, as
        tensorboardX).

        Args:
            snd_tensor: samples in [-1, 1] (any real dtype), shaped ``(L,)`` (mono), ``(L, C)``
                (tensorboardX's form) or ``(C, L)`` (torch.utils.tensorboard's ``(1, L)``), with
                ``C`` = 1 or 2 channels. A 2-D array whose last axis is 1 or 2 is ``(L, C)``;
                otherwise its first axis must be 1 or 2 and it is ``(C, L)``. Samples outside
                [-1, 1] are clipped with a warning. Stored as ``round(x * 32767)``.
            sample_rate: samples per second per channel, in Hz (a positive whole number).
            tag, global_step, walltime: as :meth:`add_image`.

        Raises:
            TypeError: ``snd_tensor`` not numeric; ``sample_rate`` not a number.
            ValueError: a shape other than the above, no samples, NaN samples, or a
                ``sample_rate`` that is not a positive whole number.
        """
        from tbx.convert import to_numpy
        from tbx.summary.audio import audio_summary, check_sample_rate, to_frames

        check_tag(tag)
        step, wall = self._step_wall(global_step, walltime)
        rate = check_sample_rate(sample_rate)
        frames = to_frames(to_numpy(snd_tensor, "snd_tensor"))
        self._add_summary(audio_summary(tag, frames, rate), step, wall)

    def add_embedding(
        self,
        mat,
        metadata=None,
        label_img=None,
        global_step: int | None = None,
        tag: str = "default",
        metadata_header=None,
    ) -> None:
        """Write an embedding for TensorBoard's projector: files beside the event file, in
        tensorboardX's layout (``<logdir>/<step:05d>/<tag>/tensors.tsv``, ``metadata.tsv``,
        ``sprite.png``, and an entry in ``<logdir>/projector_config.pbtxt``); see
        :mod:`tbx.summary.embedding`.

        Args:
            mat: ``(N, D)``: one D-dimensional point per row (any real dtype, written as
                float32; NaN/Inf rejected).
            metadata: ``N`` labels (each written with ``str``), or with ``metadata_header``
                ``N`` rows of column values. Tabs and newlines in labels are escaped.
            label_img: ``(N, C, H, W)`` thumbnails (``C`` 1, 3 or 4; uint8 or floats in [0, 1])
                made into a sprite of at most 8192 pixels a side.
            global_step: the step (default 0), part of the folder name.
            tag: the embedding's name (default ``'default'``).
            metadata_header: column names, for metadata of 2 or more columns.

        Raises:
            ImportError: ``label_img`` given and Pillow not installed (``tbx[embedding]``).
            TypeError: ``tag`` not a str, ``mat`` not numeric, ``metadata`` not a list.
            ValueError: ``mat`` not 2-D or not finite, ``metadata``/``label_img`` not of
                length N, rows not matching ``metadata_header``, a bad ``label_img`` shape or a
                sprite over 8192 pixels.
            OSError: the files cannot be written.
        """
        from tbx.summary.embedding import write_embedding

        check_tag(tag)
        step = 0 if global_step is None else to_step(global_step)
        if not self._write_to_disk:
            from tbx.summary.embedding import check_embedding

            check_embedding(mat, metadata, label_img, metadata_header)
            return
        self._get_file_writer()
        write_embedding(self.logdir, mat, metadata, label_img, step, tag, metadata_header)

    def add_graph(
        self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True
    ) -> None:
        """Log a PyTorch model's graph, traced with ``torch.jit.trace``: plugin ``graphs``.
        Written as tensorboardX does: ``Event(graph_def=GraphDef)`` and a step-stats
        ``Event(tagged_run_metadata=...)`` (tag ``profiler``), both at step 0; the layout of
        the nodes is in :mod:`tbx.summary.graph`. The model's training mode is restored.

        Args:
            model: a ``torch.nn.Module`` (or a function ``torch.jit.trace`` accepts).
            input_to_model: the model's input: a tensor, or a tuple/list of tensors.
            verbose: print the traced graph.
            use_strict_trace: ``torch.jit.trace``'s ``strict`` (False to trace mutable
                containers such as lists and dicts).

        Raises:
            ImportError: torch is not installed (``pip install "tbx[torch]"``).
            TypeError: ``model`` is not callable.
            RuntimeError: tracing failed; the message names the model and the cause. Nothing
                is written and the writer stays usable.
        """
        from tbx.proto.event_pb2 import Event, TaggedRunMetadata
        from tbx.summary.graph import RUN_METADATA_TAG, torch_graph

        graph_def, run_metadata = torch_graph(model, input_to_model, verbose, use_strict_trace)
        self._write_event(Event(graph_def=graph_def.SerializeToString()))
        trm = TaggedRunMetadata(
            tag=RUN_METADATA_TAG, run_metadata=run_metadata.SerializeToString()
        )
        self._write_event(Event(tagged_run_metadata=trm))

    def add_onnx_graph(self, onnx_model_file) -> None:
        """Log the graph of an ONNX model file as ``Event(graph_def=GraphDef)``: plugin
        ``graphs`` (layout in :mod:`tbx.summary.graph`).

        Args:
            onnx_model_file: path of the ``.onnx`` file.

        Raises:
            ImportError: onnx is not installed (``pip install "tbx[onnx]"``).
            OSError, ValueError: the file cannot be read or is not an ONNX model.
        """
        from tbx.proto.event_pb2 import Event
        from tbx.summary.graph import onnx_graph_def

        graph_def = onnx_graph_def(onnx_model_file)
        self._write_event(Event(graph_def=graph_def.SerializeToString()))
