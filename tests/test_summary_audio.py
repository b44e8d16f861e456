"""add_audio: 16-bit PCM WAV written with the standard library, samples exact when read back with
``wave`` and tbx's decoder, the (L,), (L, C), (C, L) forms, clipping with a warning, TensorBoard
reads the same bytes, bad input refused before anything is written."""

from __future__ import annotations

import io
import warnings
import wave

import numpy as np
import pytest
from kinds_helpers import accumulator, assert_kept_after_error, values

import tbx
from tbx.summary import audio as audio_mod

rng = np.random.default_rng(7)


def wav(data: bytes):
    """(pcm (L, C) int16, channels, rate, sample width) read with the standard library."""
    with wave.open(io.BytesIO(data), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
        return pcm, w.getnchannels(), w.getframerate(), w.getsampwidth()


def write(logdir, *calls):
    with tbx.SummaryWriter(logdir) as w:
        for args, kwargs in calls:
            w.add_audio(*args, **kwargs)
    return {v.tag: (s, v) for s, _, v in values(logdir)}


def test_mono_exact(logdir):
    pcm = rng.integers(-32767, 32768, 1000).astype(np.int16)
    snd = pcm / 32767.0
    got = write(logdir, (("mono", snd, 5), {"sample_rate": 16000}))
    step, v = got["mono"]
    a = v.audio
    assert step == 5
    assert (a.sample_rate, a.num_channels, a.length_frames) == (16000, 1, 1000)
    assert a.content_type == "audio/wav"
    back, channels, rate, width = wav(a.encoded_audio_string)
    assert (channels, rate, width) == (1, 16000, 2)
    np.testing.assert_array_equal(back[:, 0], pcm)
    samples, rate = audio_mod.decode(v)
    assert rate == 16000
    np.testing.assert_array_equal(samples[:, 0], snd)
    (ev,) = accumulator(logdir).Audio("mono")
    assert ev.encoded_audio_string == a.encoded_audio_string
    assert (ev.sample_rate, ev.length_frames, ev.content_type) == (16000, 1000, "audio/wav")


def test_rounding_is_round_half_even_of_x_times_32767(logdir):
    snd = np.array([0.0, 1.0, -1.0, 0.5, -0.5, 1e-5, 0.123456, 1.5 / 32767, 2.5 / 32767])
    got = write(logdir, (("r", snd), {}))
    back, *_ = wav(got["r"][1].audio.encoded_audio_string)
    assert back[:, 0].tolist() == [0, 32767, -32767, 16384, -16384, 0, 4045, 2, 2]


def test_channel_layouts(logdir):
    import torch

    left = rng.integers(-32767, 32768, 300) / 32767
    right = rng.integers(-32767, 32768, 300) / 32767
    stereo_lc = np.stack([left, right], axis=1)  # (L, 2): tensorboardX's form
    got = write(
        logdir,
        (("lc", stereo_lc), {}),
        (("cl", stereo_lc.T.copy()), {}),  # (2, L)
        (("torch", torch.tensor(left, dtype=torch.float32)[None]), {}),  # (1, L)
        (("l1", left[:, None]), {}),  # (L, 1)
        (("f32", left.astype(np.float32)), {"sample_rate": 8000.0}),
    )
    for tag in ("lc", "cl"):
        a = got[tag][1].audio
        assert (a.num_channels, a.length_frames) == (2, 300)
        samples, _ = audio_mod.decode(got[tag][1])
        np.testing.assert_array_equal(samples, stereo_lc)
        back, channels, *_ = wav(a.encoded_audio_string)
        assert channels == 2
        np.testing.assert_array_equal(back, np.rint(stereo_lc * 32767))
    for tag in ("torch", "l1", "f32"):
        a = got[tag][1].audio
        assert (a.num_channels, a.length_frames) == (1, 300), tag
        samples, _ = audio_mod.decode(got[tag][1])
        np.testing.assert_allclose(samples[:, 0], left, atol=1 / 65534)
    assert got["f32"][1].audio.sample_rate == 8000
    assert wav(got["f32"][1].audio.encoded_audio_string)[2] == 8000


def test_ambiguous_shapes_follow_the_rule(logdir):
    got = write(
        logdir,
        (("2x2", np.array([[0.1, 0.2], [0.3, 0.4]])), {}),  # last axis 2: (L=2, C=2)
        (("1x5", np.zeros((1, 5))), {}),  # (C=1, L=5)
        (("5x1", np.zeros((5, 1))), {}),  # (L=5, C=1)
    )
    assert (got["2x2"][1].audio.length_frames, got["2x2"][1].audio.num_channels) == (2, 2)
    samples, _ = audio_mod.decode(got["2x2"][1])
    np.testing.assert_allclose(samples, [[0.1, 0.2], [0.3, 0.4]], atol=1 / 65534)
    assert got["1x5"][1].audio.length_frames == 5 and got["1x5"][1].audio.num_channels == 1
    assert got["5x1"][1].audio.length_frames == 5


def test_clipped_with_a_warning(logdir):
    snd = np.array([-3.0, -1.0, 0.0, 1.0, 2.0, np.inf])
    with tbx.SummaryWriter(logdir) as w:
        with pytest.warns(UserWarning, match=r"outside \[-1, 1\].*clipped"):
            w.add_audio("c", snd)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            w.add_audio("ok", np.array([-1.0, 1.0]))  # in range: no warning
    (_, _, v), _ = values(logdir)
    samples, _ = audio_mod.decode(v)
    assert samples[:, 0].tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0, 1.0]


def test_same_samples_as_tensorboardX_would_store():
    # tensorboardX stores through soundfile (libsndfile scales floats by 32767 for PCM_16);
    # soundfile is not installed here, so compare with that documented scaling.
    snd = rng.uniform(-1, 1, 500)
    frames = audio_mod.to_frames(snd)
    back, *_ = wav(audio_mod.encode_wav(frames, 44100))
    np.testing.assert_array_equal(back[:, 0], np.rint(snd * 32767).astype(np.int16))


@pytest.mark.parametrize(
    "snd, kwargs, exc, match",
    [
        (np.zeros((3, 5)), {}, ValueError, r"\(L,\) \(mono\), \(L, C\) or \(C, L\)"),
        (np.zeros((2, 3, 4)), {}, ValueError, r"shape \(2, 3, 4\)"),
        (np.zeros(0), {}, ValueError, "no samples"),
        (np.array([0.0, np.nan]), {}, ValueError, "NaN"),
        (np.array(["a"]), {}, TypeError, "real numbers"),
        (np.zeros(4), {"sample_rate": 0}, ValueError, "sample_rate must be a positive whole"),
        (np.zeros(4), {"sample_rate": 44100.5}, ValueError, "sample_rate must be"),
        (np.zeros(4), {"sample_rate": "44100"}, TypeError, "sample_rate must be"),
        ("sound", {}, TypeError, "snd_tensor must be"),
    ],
)
def test_bad_audio(logdir, snd, kwargs, exc, match):
    w = tbx.SummaryWriter(logdir)
    w.add_scalar("before", 1.0, 0)
    with pytest.raises(exc, match=match):
        w.add_audio("bad", snd, 1, **kwargs)
    assert_kept_after_error(w, logdir)
    assert "bad" not in [v.tag for _, _, v in values(logdir)]
    w.close()
