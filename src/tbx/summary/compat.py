"""tensorboardX's module-level summary functions (``tensorboardX.summary``), over tbx's kinds.

Same names, arguments, defaults and return values as tensorboardX 2.6: each function returns the
protobuf message tensorboardX returns (a ``Summary``; ``make_histogram`` a ``HistogramProto``;
``make_image`` and ``make_video`` a ``Summary.Image``; ``hparams`` three Summaries;
``compute_curve`` a numpy array; ``draw_boxes`` a Pillow image), as tbx's own classes
(``tbx.proto``): the same wire format, so ``FileWriter.add_summary`` of tbx, tensorboardX, torch
or TensorFlow writes them. Each is a thin facade over the kind module that owns the format
(:mod:`tbx.summary.scalar`, :mod:`~tbx.summary.histogram`, ...), so the writer, the reader and
these functions share one encoder. Reach them as ``tbx.summary.<name>`` (see :mod:`tbx.summary`).

Inputs may be anything :func:`tbx.convert.to_numpy` takes (numpy, torch, jax, lists, numbers).
Bad input raises ``TypeError``/``ValueError`` naming the argument (tensorboardX asserts).

Where tbx differs from tensorboardX, on purpose (the writer's rules, see the kind modules):

* tags are kept as given (tensorboardX's ``scalar``, ``histogram``, ``image`` and ``video``
  replace characters outside ``[-/\\w.]`` with ``_``);
* ``histogram``: NaN/Inf are left out with a warning (tensorboardX raises), ``bins`` also takes
  ``"tensorflow"`` (tensorboardX's writer default), ``max_bins`` yields at most ``max_bins``
  buckets merged from the first non-empty one (tensorboardX merges from bucket 0 and may exceed
  it);
* images: floats are clipped to [0, 1] (tensorboardX wraps 1.5 to 126), grayscale stays one
  channel (tensorboardX repeats it to RGB), ``rescale`` writes the resized size in ``height`` and
  ``width`` (tensorboardX writes the size before resizing), boxes are drawn inside their outline
  with labels above the box (tensorboardX centres the outline on the edge, labels inside);
* ``video``/``make_video``: an animated GIF built with Pillow (tensorboardX needs moviepy and
  returns ``None`` without it); uint8 frames are kept exactly;
* ``audio``: sample ``x`` is stored as ``round(x * 32767)`` (tensorboardX, through soundfile:
  ``floor(x * 32768)``); shapes ``(L,)``, ``(L, C)`` and ``(C, L)``;
* ``pr_curve``: ``num_thresholds`` is not capped at 127; the tensor's values are in
  ``tensor_content`` (tensorboardX: ``float_val``, same numbers);
* ``hparams``: each Value also carries TensorBoard's empty ``[0]`` float tensor; values of
  types other than bool, str, numbers, callables and None raise ``TypeError`` (tensorboardX
  records an UNSET type with no value);
* ``mesh``: TensorBoard's layout (tags ``<tag>_VERTEX``/``_FACE``/``_COLOR``, float32 vertices,
  int32 faces, uint8 colours, the ``components`` bitmask; tensorboardX tags ``<tag>_1``/``_2``/
  ``_3``, stores floats and leaves ``components`` 0, so its point clouds do not display).

Where ``torch.utils.tensorboard.summary`` differs from tensorboardX, tbx follows tensorboardX and
accepts torch's extra arguments: ``image``'s default ``dataformats`` is ``"CHW"`` (torch:
``"NCHW"``); ``scalar`` takes torch's ``new_style``, ``double_precision`` and ``collections`` as
keywords; ``video`` takes ``dataformats`` (torch has none); ``hparams`` takes torch's
``hparam_domain_discrete`` and stores bools as bools (torch stores them as numbers); ``mesh``
takes torch's ``display_name`` and ``description``; ``audio`` takes torch's ``(1, L)`` shape
(torch writes mono only, truncating ``x * 32767``).
"""

from __future__ import annotations

import numpy as np

from tbx.convert import check_tag, to_float, to_numpy
from tbx.proto.summary_pb2 import HistogramProto, Summary

__all__ = [
    "scalar", "histogram", "histogram_raw", "make_histogram", "image", "image_boxes",
    "draw_boxes", "make_image", "video", "make_video", "audio", "text", "pr_curve",
    "pr_curve_raw", "compute_curve", "custom_scalars", "hparams", "mesh",
]


def _np(x, arg: str):
    return None if x is None else to_numpy(x, arg)


def scalar(name, scalar, display_name="", summary_description="", *, new_style=False,
           double_precision=False, collections=None) -> Summary:
    """Summary of one number: ``simple_value`` (float32), with ``SummaryMetadata(display_name,
    summary_description)`` when either is given; with ``new_style`` a float32 (or, with
    ``double_precision``, float64) 0-d tensor with plugin ``scalars`` metadata (torch's form).

    Args:
        name: the tag (non-empty str).
        scalar: a number, or an array/tensor of exactly one element.
        collections: ignored (torch.utils.tensorboard accepts it, a TensorFlow 1 leftover).

    Raises:
        TypeError: ``name`` not a str; ``scalar`` not a real number.
        ValueError: ``scalar`` with other than one element; empty ``name``.
    """
    from tbx.summary.scalar import scalar_summary

    return scalar_summary(check_tag(name, "name"), to_float(scalar, "scalar"), display_name,
                          summary_description, new_style, double_precision)


def histogram(name, values, bins, max_bins=None) -> Summary:
    """Summary of the histogram of ``values`` (``Summary.Value.histo``).

    Args:
        name: the tag.
        values: numbers of any shape, flattened (bool, ints, floats).
        bins: ``"tensorflow"`` (tensorboardX's default buckets), an int, a numpy rule name
            (``"auto"``, ``"fd"``, ...) or an increasing array of edges (``numpy.histogram``).
        max_bins: at most this many buckets (neighbours merged).

    Raises:
        ValueError: no finite value to count; empty ``values``; bad ``bins`` or ``max_bins``.
        TypeError: ``values`` not numeric.
    """
    from tbx.summary.histogram import histogram_summary

    check_tag(name, "name")
    summary = histogram_summary(name, to_numpy(values, "values"), bins, max_bins, stacklevel=3)
    if summary is None:
        raise ValueError(f"values of histogram {name!r} hold no finite number to count")
    return summary


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts) -> Summary:
    """Summary of a histogram given by its fields: ``bucket_limits`` are the (K,) right edges,
    ``bucket_counts`` the (K,) counts; numbers stored as float64. Raises as
    :func:`tbx.summary.histogram.histogram_raw_summary`."""
    from tbx.summary.histogram import histogram_raw_summary

    return histogram_raw_summary(check_tag(name, "name"), min, max, num, sum, sum_squares,
                                 bucket_limits, bucket_counts)


def make_histogram(values, bins, max_bins=None) -> HistogramProto:
    """The ``HistogramProto`` of ``values`` (arguments and errors as :func:`histogram`)."""
    from tbx.summary.histogram import histogram_proto
    from tbx.summary.histogram import make_histogram as bucket

    h = bucket(to_numpy(values, "values"), bins, max_bins, "values", stacklevel=3)
    if h is None:
        raise ValueError("values hold no finite number to count")
    return histogram_proto(h)


def _image_value(tag, proto) -> Summary:
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def image(tag, tensor, rescale=1, dataformats="CHW") -> Summary:
    """Summary of one image (or a batch tiled 8 per row) as a PNG.

    Args:
        tag: the tag.
        tensor: ``(C, H, W)`` by default, or the order ``dataformats`` names (``"HWC"``,
            ``"HW"``, ``"NCHW"``, ...); ``C`` 1, 3 or 4; uint8 0..255 or floats in [0, 1].
        rescale: resize factor (Pillow LANCZOS).

    Raises:
        TypeError, ValueError: as ``SummaryWriter.add_image``; ``rescale`` not positive.
    """
    from tbx.summary.image import image_proto, to_hwc

    check_tag(tag)
    hwc = to_hwc(to_numpy(tensor, "tensor"), dataformats, "tensor")
    return _image_value(tag, image_proto(hwc, rescale=rescale))


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats="CHW",
                labels=None) -> Summary:
    """Summary of one image with boxes drawn on it (red, 2 pixels wide; ``labels`` one str per
    box). ``tensor_boxes``: ``(N, 4)`` rows ``(xmin, ymin, xmax, ymax)`` in pixels. Other
    arguments and errors as :func:`image` and :func:`draw_boxes`."""
    from tbx.summary.image import image_proto, to_hwc

    check_tag(tag)
    hwc = to_hwc(to_numpy(tensor_image, "tensor_image"), dataformats, "tensor_image")
    boxes = to_numpy(tensor_boxes, "tensor_boxes")
    return _image_value(tag, image_proto(hwc, boxes, labels, rescale))


def draw_boxes(disp_image, boxes, labels=None):
    """Draw ``boxes`` (``(N, 4)`` ``(xmin, ymin, xmax, ymax)`` pixels) on a Pillow image, in
    red, with optional ``labels``; returns the image drawn on (a grayscale image is converted
    to RGB first). See :func:`tbx.summary.image.draw_boxes` for the errors.

    Raises:
        TypeError: ``disp_image`` is not a ``PIL.Image.Image``.
    """
    from tbx.summary.image import draw_boxes as draw
    from tbx.summary.image import import_pil

    if not isinstance(disp_image, import_pil("draw_boxes").Image):
        raise TypeError(f"disp_image must be a PIL.Image.Image, got {type(disp_image).__name__}")
    return draw(disp_image, to_numpy(boxes, "boxes"), labels)


def make_image(tensor, rescale=1, rois=None, labels=None) -> Summary.Image:
    """The ``Summary.Image`` (PNG) of an ``(H, W, C)`` (or ``(H, W)``) image, uint8 0..255 or
    floats in [0, 1]; ``rois`` are boxes drawn on it (see :func:`image_boxes`), ``rescale`` a
    resize factor."""
    from tbx.summary.image import image_proto, to_hwc

    arr = to_numpy(tensor, "tensor")
    hwc = to_hwc(arr, "HW" if arr.ndim == 2 else "HWC", "tensor")
    return image_proto(hwc, _np(rois, "rois"), labels, rescale)


def video(tag, tensor, fps=4, dataformats="NTCHW") -> Summary:
    """Summary of a batch of clips tiled into one animated GIF.

    Args:
        tensor: ``(N, T, C, H, W)`` by default, or the order ``dataformats`` names; ``C`` 1, 3
            or 4 (alpha dropped); uint8 0..255 or floats in [0, 1].
        fps: frames per second (> 0).

    Raises:
        TypeError, ValueError: as ``SummaryWriter.add_video``.
    """
    from tbx.summary.video import check_fps, to_tnhwc, video_summary

    check_tag(tag)
    clips = to_tnhwc(to_numpy(tensor, "tensor"), dataformats, "tensor")
    return video_summary(tag, clips, check_fps(fps))


def make_video(tensor, fps) -> Summary.Image:
    """The ``Summary.Image`` (animated GIF) of ``(T, H, W, C)`` frames (uint8, or floats in
    [0, 1]; ``C`` 1, 3 or 4) shown at ``fps`` frames per second."""
    from tbx.summary.video import check_fps, to_tnhwc, video_summary

    arr = to_numpy(tensor, "tensor")
    if arr.ndim != 4:
        raise ValueError(f"tensor must be 4-D (T, H, W, C), got shape {tuple(arr.shape)}")
    clips = to_tnhwc(arr[np.newaxis], "NTHWC", "tensor")
    return video_summary("video", clips, check_fps(fps)).value[0].image


def audio(tag, tensor, sample_rate=44100) -> Summary:
    """Summary of a sound as a 16-bit PCM WAV: ``tensor`` in [-1, 1] shaped ``(L,)``,
    ``(L, C)`` or ``(C, L)`` with ``C`` 1 or 2 (clipped with a warning outside);
    ``sample_rate`` in Hz. Raises as ``SummaryWriter.add_audio``."""
    from tbx.summary.audio import audio_summary, check_sample_rate, to_frames

    check_tag(tag)
    rate = check_sample_rate(sample_rate)
    return audio_summary(tag, to_frames(to_numpy(tensor, "tensor"), "tensor"), rate)


def text(tag, text) -> Summary:
    """Summary of a text (Markdown): tag ``<tag>/text_summary``, plugin ``text``."""
    from tbx.summary.text import text_summary

    return text_summary(check_tag(tag), text)


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None) -> Summary:
    """Summary of the PR curve of ``predictions`` (probabilities) against ``labels`` (bool or
    0/1): a float32 ``[6, num_thresholds]`` tensor, plugin ``pr_curves``. Raises as
    :func:`compute_curve`."""
    from tbx.summary.pr_curve import pr_curve_summary

    return pr_curve_summary(check_tag(tag), to_numpy(labels, "labels"),
                            to_numpy(predictions, "predictions"), num_thresholds,
                            _np(weights, "weights"))


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127,
                 weights=None) -> Summary:
    """Summary of a PR curve given by its six (T,) rows; ``num_thresholds`` left at 127 means
    T; ``weights`` is ignored. Raises as :func:`tbx.summary.pr_curve.pr_curve_raw_summary`."""
    from tbx.summary.pr_curve import pr_curve_raw_summary

    names = ("tp", "fp", "tn", "fn", "precision", "recall")
    rows = [to_numpy(r, n) for r, n in zip((tp, fp, tn, fn, precision, recall), names,
                                           strict=True)]
    return pr_curve_raw_summary(check_tag(tag), *rows, num_thresholds, weights)


def compute_curve(labels, predictions, num_thresholds=None, weights=None) -> np.ndarray:
    """The float64 ``[6, num_thresholds]`` array TP, FP, TN, FN, precision, recall
    (``num_thresholds`` None: 127). See :func:`tbx.summary.pr_curve.compute_curve`."""
    from tbx.summary.pr_curve import compute_curve as curve

    n = 127 if num_thresholds is None else num_thresholds
    return curve(to_numpy(labels, "labels"), to_numpy(predictions, "predictions"), n,
                 _np(weights, "weights"))


def custom_scalars(layout) -> Summary:
    """Summary of a custom scalars layout ``{category: {title: ['Multiline', [tag, ...]] or
    ['Margin', [value, lower, upper]]}}`` (tag ``custom_scalars__config__``)."""
    from tbx.summary.custom_scalars import custom_scalars_summary

    return custom_scalars_summary(layout)


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The ``(experiment, session_start_info, session_end_info)`` Summaries of one session.

    Args:
        hparam_dict: ``{name: value}``: bool, str, numbers (float64), numpy/torch scalars;
            a callable is recorded by its ``__name__``; None values are left out (as
            tensorboardX's ``hparams``; ``SummaryWriter.add_hparams`` records them as
            ``"None"``); any other value as its ``str()`` (tensorboardX: no value).
        metric_dict: ``{tag: value}``; only the tags are used (the metric series).
        hparam_domain_discrete: ``{name: [value, ...]}``, the values each may take (torch's).

    Raises:
        TypeError: not dicts; a key not a str; a value whose ``str()`` raises (the key is
            named).
        ValueError: an empty key; a domain for a name missing from ``hparam_dict``.
    """
    from tbx.summary.hparams import hparams_summaries

    for arg, d in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
        if not isinstance(d, dict):
            raise TypeError(f"{arg} must be a dict, got {type(d).__name__}")
    hp = {}
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if callable(v) and not hasattr(v, "shape"):
            v = getattr(v, "__name__", str(v))
        hp[k] = v
    return hparams_summaries(hp, dict.fromkeys(metric_dict, 0.0), hparam_domain_discrete)


def mesh(tag, vertices, colors, faces, config_dict=None, display_name=None,
         description=None) -> Summary:
    """Summary of a mesh or point cloud (``faces`` None): ``vertices`` ``(B, N, 3)``,
    ``colors`` None or ``(B, N, 3)`` in [0, 255], ``faces`` None or ``(B, F, 3)`` vertex
    indices; ``config_dict`` three.js settings; ``display_name``/``description`` go into each
    Value's metadata (torch's). Raises as :func:`tbx.summary.mesh.mesh_summary`."""
    from tbx.summary.mesh import mesh_summary

    summary = mesh_summary(check_tag(tag), to_numpy(vertices, "vertices"), _np(colors, "colors"),
                           _np(faces, "faces"), config_dict)
    for v in summary.value:
        if display_name:
            v.metadata.display_name = display_name
        if description:
            v.metadata.summary_description = description
    return summary
