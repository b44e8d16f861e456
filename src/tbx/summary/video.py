"""Videos: plugin ``images``, an animated GIF in ``Summary.Image`` (as tensorboardX writes them;
TensorBoard's image dashboard shows the animation).

A batch ``(N, T, C, H, W)`` becomes one video whose frames tile the ``N`` clips as tensorboardX
does: ``N`` is padded with black clips to a power of two, arranged in
``rows = 2 ** ((N.bit_length() - 1) // 2)`` rows of ``padded_N // rows`` clips, row-major.

Pixels follow :func:`tbx.summary.image.to_uint8` (``uint8`` as is, floats in [0, 1] clipped and
scaled by 255, truncated; tensorboardX wraps floats outside [0, 1] around instead). 1 (grayscale)
or 3 (RGB) channels; a 4th (alpha) channel is dropped, since GIF has no alpha.

The GIF (GIF89a, looping forever) is assembled here, with Pillow's LZW encoder per frame, so that
every frame is kept, identical consecutive frames included (Pillow's own animated-GIF writer merges
them). Each frame has its own colour table: a frame with at most 256 distinct colours is stored
exactly; one with more is reduced to 256 colours by Pillow's median-cut quantizer. The frame delay
is ``round(100 / fps)`` hundredths of a second (GIF's unit), at least 2 (browsers slow down
shorter delays).
"""

from __future__ import annotations

import io
import struct

import numpy as np

from tbx.proto.summary_pb2 import Summary
from tbx.summary.image import import_pil, to_uint8

__all__ = [
    "PLUGIN_NAME",
    "to_tnhwc",
    "tile_video",
    "encode_gif",
    "video_summary",
    "decode",
    "decode_gif",
    "frame_delay_cs",
]

PLUGIN_NAME = "images"
_FORMS = "'NTCHW' (default), 'NTHWC' or another order of the letters N, T, C, H, W"


def to_tnhwc(array: np.ndarray, dataformats: str = "NTCHW", arg: str = "vid_tensor"):
    """Reorder a video batch to ``(N, T, H, W, C)`` uint8.

    Raises:
        TypeError: ``dataformats`` not a str; an unsupported dtype.
        ValueError: ``dataformats`` not an order of N, T, C, H, W; ``array`` not 5-D; ``C`` not
            1, 3 or 4; an empty axis.
    """
    if not isinstance(dataformats, str):
        raise TypeError(f"dataformats must be a str such as {_FORMS}, got {type(dataformats)}")
    fmt = dataformats.upper()
    if "".join(sorted(fmt)) != "CHNTW":
        raise ValueError(f"dataformats must be {_FORMS}; got {dataformats!r}")
    if array.ndim != 5:
        raise ValueError(
            f"{arg} must be 5-D, (N, T, C, H, W) for dataformats 'NTCHW'; got shape "
            f"{tuple(array.shape)}"
        )
    shape = tuple(array.shape)
    if 0 in shape:
        raise ValueError(f"{arg} of shape {shape} is empty (dataformats {dataformats!r})")
    axis = fmt.index("C")
    if shape[axis] not in (1, 3, 4):
        hint = ""
        for other in ("NTCHW", "NTHWC"):
            if other != fmt and shape[other.index("C")] in (1, 3, 4):
                hint = f". If it is ({', '.join(other)}), pass dataformats={other!r}"
                break
        raise ValueError(
            f"{arg} of shape {shape} read as dataformats {dataformats!r} has {shape[axis]} "
            f"channels (C is axis {axis}); videos need 1 (grayscale), 3 (RGB) or 4 (RGBA, "
            f"alpha dropped){hint}"
        )
    array = array.transpose([fmt.index(c) for c in "NTHWC"])
    c = shape[axis]
    if c == 4:
        array = array[..., :3]
    return to_uint8(array, arg)


def tile_video(ntHWC: np.ndarray) -> np.ndarray:
    """Tile ``(N, T, H, W, C)`` clips into ``(T, rows * H, cols * W, C)`` frames
    (tensorboardX's layout, see the module docstring)."""
    n, t, h, w, c = ntHWC.shape
    padded = 1 << (n - 1).bit_length()
    if padded != n:
        pad = np.zeros((padded - n, t, h, w, c), dtype=ntHWC.dtype)
        ntHWC = np.concatenate([ntHWC, pad])
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = padded // rows
    grid = ntHWC.reshape(rows, cols, t, h, w, c).transpose(2, 0, 3, 1, 4, 5)
    return grid.reshape(t, rows * h, cols * w, c)


def frame_delay_cs(fps: float) -> int:
    """The GIF frame delay in hundredths of a second for ``fps`` frames per second."""
    return int(min(max(round(100.0 / fps), 2), 0xFFFF))


def _gray_palette() -> bytes:
    return np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes()


def _to_palette_image(pil, frame: np.ndarray):
    """A "P" image of an ``(H, W, C)`` uint8 frame, exact when it has <= 256 colours."""
    h, w, c = frame.shape
    if c == 1:
        image = pil.frombytes("P", (w, h), np.ascontiguousarray(frame).tobytes())
        image.putpalette(_gray_palette())
        return image
    packed = (
        (frame[:, :, 0].astype(np.uint32) << 16)
        | (frame[:, :, 1].astype(np.uint32) << 8)
        | frame[:, :, 2]
    )
    colors, index = np.unique(packed.reshape(-1), return_inverse=True)
    if colors.size > 256:
        return pil.fromarray(np.ascontiguousarray(frame), "RGB").quantize(256)
    image = pil.frombytes("P", (w, h), index.astype(np.uint8).tobytes())
    palette = np.stack([colors >> 16, (colors >> 8) & 255, colors & 255], axis=1)
    image.putpalette(palette.astype(np.uint8).tobytes())
    return image


def encode_gif(frames: np.ndarray, fps: float = 4) -> bytes:
    """An animated GIF (looping) of ``(T, H, W, C)`` uint8 frames, ``C`` 1 or 3, shown at
    ``fps`` frames per second (see the module docstring)."""
    pil = import_pil("add_video", "video")
    from PIL import GifImagePlugin

    t, h, w, c = frames.shape
    if h > 0xFFFF or w > 0xFFFF:
        raise ValueError(f"a GIF frame is at most 65535 x 65535 pixels, got {w} x {h}")
    delay_ms = frame_delay_cs(fps) * 10
    out = io.BytesIO()
    # header, logical screen (no global colour table), NETSCAPE2.0 loop-forever extension
    out.write(b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0))
    out.write(b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
    for frame in frames:
        image = _to_palette_image(pil, frame)
        for chunk in GifImagePlugin.getdata(
            image, (0, 0), duration=delay_ms, include_color_table=True
        ):
            out.write(chunk)
    out.write(b";")
    return out.getvalue()


def video_summary(tag: str, ntHWC: np.ndarray, fps: float = 4) -> Summary:
    """Summary of ``(N, T, H, W, C)`` uint8 clips (see :func:`to_tnhwc`) tiled into one GIF.

    Raises:
        TypeError: ``fps`` not a number.
        ValueError: ``fps`` not positive and finite.
    """
    fps = check_fps(fps)
    frames = tile_video(ntHWC)
    t, h, w, c = frames.shape
    image = Summary.Image(
        height=h, width=w, colorspace=c, encoded_image_string=encode_gif(frames, fps)
    )
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def check_fps(fps) -> float:
    """``fps`` as a positive finite float.

    Raises:
        TypeError: not a real number.
        ValueError: not positive and finite.
    """
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)):
        raise TypeError(f"fps must be a positive number of frames per second, got {type(fps)}")
    fps = float(fps)
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be a positive number of frames per second, got {fps}")
    return fps


def decode_gif(data: bytes) -> tuple[np.ndarray, list[int]]:
    """Frames ``(T, H, W, C)`` uint8 (``C`` = 3) and per-frame delays in milliseconds of a
    GIF (decoded with Pillow)."""
    pil = import_pil("decoding a video")
    from PIL import ImageSequence

    image = pil.open(io.BytesIO(data))
    frames, delays = [], []
    for frame in ImageSequence.Iterator(image):
        frames.append(np.asarray(frame.convert("RGB")))
        delays.append(int(frame.info.get("duration", 0)))
    return np.stack(frames), delays


def decode(value: Summary.Value) -> np.ndarray:
    """The ``(T, H, W, C)`` uint8 frames of a video Value (``C`` as its ``colorspace``: 1 or 3).

    Raises:
        ValueError: the Value holds no image, or an image that is not a GIF.
    """
    if value.WhichOneof("value") != "image":
        raise ValueError(f"video {value.tag!r}: Value holds no image")
    data = value.image.encoded_image_string
    if not data.startswith((b"GIF87a", b"GIF89a")):
        raise ValueError(f"video {value.tag!r}: image is not a GIF")
    frames, _ = decode_gif(data)
    if value.image.colorspace == 1:
        return frames[..., :1]
    return frames
