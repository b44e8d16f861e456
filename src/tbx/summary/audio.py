"""Audio: plugin ``audio``, the v1 form TensorBoard's audio dashboard reads:
``Summary.Value(tag, audio=Summary.Audio(sample_rate, num_channels, length_frames,
encoded_audio_string, content_type="audio/wav"))`` holding a WAV file, as tensorboardX writes it.

The WAV is 16-bit PCM (little-endian, channels interleaved), written with the standard library's
``wave``. A sample ``x`` in [-1, 1] is stored as ``round(x * 32767)`` (round half to even), so
-1 and 1 map to -32767 and 32767 and :func:`decode` gives back ``pcm / 32767``: exact for
samples that are multiples of 1/32767, within 1/65534 otherwise.

Which axis is which (:func:`to_frames`):

* ``(L,)``: mono, L samples;
* ``(L, C)`` with ``C`` (the last axis) 1 or 2: tensorboardX's form, L frames of C channels;
* otherwise ``(C, L)`` with ``C`` (the first axis) 1 or 2: torch.utils.tensorboard's ``(1, L)``
  form and its stereo extension.

So a 2-D array is ``(L, C)`` whenever its last axis is 1 or 2, which decides the ambiguous
shapes ``(1, 1)``, ``(2, 2)``, ``(1, 2)`` and ``(2, 1)`` in tensorboardX's favour.
"""

from __future__ import annotations

import io
import warnings
import wave

import numpy as np

from tbx.proto.summary_pb2 import Summary

__all__ = ["PLUGIN_NAME", "CONTENT_TYPE", "to_frames", "encode_wav", "audio_summary", "decode"]

PLUGIN_NAME = "audio"
CONTENT_TYPE = "audio/wav"
_SCALE = 32767


def to_frames(array: np.ndarray, arg: str = "snd_tensor") -> np.ndarray:
    """Samples as ``(L, C)`` float64 in [-1, 1], ``C`` 1 or 2 (axes as the module docstring
    says). Samples outside [-1, 1] (±Inf included) are clipped with a ``UserWarning``.

    Raises:
        TypeError: a non-numeric dtype.
        ValueError: not 1-D or 2-D with 1 or 2 channels; no samples; NaN samples.
    """
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{arg} must hold real numbers in [-1, 1], got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, np.newaxis]
    elif array.ndim == 2 and array.shape[1] in (1, 2):
        pass
    elif array.ndim == 2 and array.shape[0] in (1, 2):
        array = array.T
    else:
        raise ValueError(
            f"{arg} must have shape (L,) (mono), (L, C) or (C, L) with C = 1 or 2 channels; "
            f"got shape {tuple(array.shape)}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{arg} has no samples (shape {tuple(array.shape)})")
    array = np.asarray(array, dtype=np.float64)
    if np.isnan(array).any():
        raise ValueError(f"{arg} holds NaN samples")
    peak = np.abs(array).max()
    if peak > 1:
        warnings.warn(
            f"{arg}: samples outside [-1, 1] (peak {peak:g}) are clipped", stacklevel=3
        )
        array = np.clip(array, -1.0, 1.0)
    return array


def check_sample_rate(sample_rate) -> int:
    """``sample_rate`` (Hz) as a positive int.

    Raises:
        TypeError: not a number.
        ValueError: not a positive whole number below 2**31.
    """
    if isinstance(sample_rate, bool) or not isinstance(
        sample_rate, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"sample_rate must be a positive whole number of Hz, got {type(sample_rate)}"
        )
    if not (np.isfinite(sample_rate) and float(sample_rate).is_integer()):
        raise ValueError(f"sample_rate must be a positive whole number of Hz, got {sample_rate}")
    rate = int(sample_rate)
    if not 0 < rate < 2**31:
        raise ValueError(f"sample_rate must be a positive whole number of Hz, got {sample_rate}")
    return rate


def encode_wav(frames: np.ndarray, sample_rate: int) -> bytes:
    """A 16-bit PCM WAV of ``(L, C)`` samples in [-1, 1] at ``sample_rate`` Hz."""
    pcm = np.rint(frames * _SCALE).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def audio_summary(tag: str, frames: np.ndarray, sample_rate: int = 44100) -> Summary:
    """Summary of ``(L, C)`` samples (see :func:`to_frames`) at ``sample_rate`` Hz as a WAV."""
    length, channels = frames.shape
    audio = Summary.Audio(
        sample_rate=sample_rate,
        num_channels=channels,
        length_frames=length,
        encoded_audio_string=encode_wav(frames, sample_rate),
        content_type=CONTENT_TYPE,
    )
    return Summary(value=[Summary.Value(tag=tag, audio=audio)])


def decode(value: Summary.Value) -> tuple[np.ndarray, int]:
    """``(samples, sample_rate)`` of an audio Value: ``(L, C)`` float64 samples in [-1, 1]
    (``pcm / 32767``) and the rate in Hz, read from the WAV.

    Raises:
        ValueError: the Value holds no audio, or audio that is not 16-bit PCM WAV.
    """
    if value.WhichOneof("value") != "audio":
        raise ValueError(f"audio {value.tag!r}: Value holds no audio")
    try:
        with wave.open(io.BytesIO(value.audio.encoded_audio_string), "rb") as w:
            if w.getsampwidth() != 2:
                raise ValueError(f"audio {value.tag!r}: WAV is not 16-bit PCM")
            channels, rate = w.getnchannels(), w.getframerate()
            data = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"audio {value.tag!r}: not a WAV file: {exc}") from None
    pcm = np.frombuffer(data, dtype="<i2").reshape(-1, channels)
    return pcm / _SCALE, rate
