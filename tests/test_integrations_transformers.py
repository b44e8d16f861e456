"""tbx with the Hugging Face Trainer: a tiny BERT built from a config (random weights, nothing
downloaded) trained for two steps on synthetic examples; what is read back equals what the
Trainer reports (its log_history), for tbx's TensorBoardCallback and for Transformers' own
callback given a tbx writer."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("transformers", reason='pip install "tbx[transformers]"')
pytest.importorskip("accelerate", reason='the Trainer needs it: pip install "tbx[transformers]"')
pytest.importorskip("pandas")
torch = pytest.importorskip("torch")

import transformers  # noqa: E402

from tbx import SummaryWriter, read  # noqa: E402
from tbx.integrations.transformers import TensorBoardCallback, rename_logs  # noqa: E402

VOCAB = 40


class Examples(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {"input_ids": torch.randint(0, VOCAB, (6,), generator=g),
                "labels": torch.tensor(i % 2)}


def _train(tmp_path, callbacks, *, evaluate=False):
    config = transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=16, num_labels=2,
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=2,
        per_device_eval_batch_size=4, num_train_epochs=1, logging_steps=1, eval_strategy="steps",
        eval_steps=2, save_strategy="no", report_to="none", use_cpu=True,
        disable_tqdm=True, seed=0,
    )
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Examples(),
                                   eval_dataset=Examples(), callbacks=callbacks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
        if evaluate:
            trainer.evaluate()
    return trainer


def _history(trainer, key):
    """``[(step, value)]`` of ``key`` in the Trainer's log history."""
    return [(h["step"], h[key]) for h in trainer.state.log_history if key in h]


def _series(data, run, tag):
    s = data.scalar_series(run, tag)
    return list(zip(s.step.tolist(), s.value.tolist(), strict=True))


def _as_logged(history):
    return [(step, float(np.float32(v))) for step, v in history]  # scalars are float32


def test_rename_logs():
    assert rename_logs({"loss": 1, "eval_loss": 2, "test_acc": 3, "evaluation": 4}) == {
        "train/loss": 1, "eval/loss": 2, "test/acc": 3, "train/evaluation": 4}


def test_callback_logs_what_the_trainer_reports(tmp_path):
    cb = TensorBoardCallback(log_dir=tmp_path / "tb")
    trainer = _train(tmp_path, [cb], evaluate=True)
    data = read(tmp_path / "tb")
    assert data.runs == ["."]
    assert len(trainer.state.log_history) == 5  # 2 train logs, 2 evals, the train summary
    assert _series(data, ".", "train/loss") == _as_logged(_history(trainer, "loss"))
    assert [s for s, _ in _series(data, ".", "train/loss")] == [1, 2]
    for key, tag in [("grad_norm", "train/grad_norm"), ("learning_rate", "train/learning_rate"),
                     ("eval_loss", "eval/loss"), ("train_loss", "train/train_loss"),
                     ("epoch", "train/epoch")]:
        assert _series(data, ".", tag) == _as_logged(_history(trainer, key)), tag
    # the evaluation after training: the same run, at the last step
    assert [s for s, _ in _series(data, ".", "eval/loss")] == [2, 2]
    text = data.text.set_index("tag")["text"]
    # tensorboardX's text tags end with "/text_summary"
    assert json.loads(text["args/text_summary"]) == json.loads(trainer.args.to_json_string())
    config = json.loads(trainer.model.config.to_json_string())
    del config["problem_type"]  # set by the first forward pass, after the text was written
    assert json.loads(text["model_config/text_summary"]) == config


def test_transformers_own_callback_with_a_tbx_writer(tmp_path):
    pytest.importorskip("tensorboard", reason="Transformers' callback requires tensorboard(X)")
    from transformers.integrations import TensorBoardCallback as HFCallback

    ours = _train(tmp_path / "a", [TensorBoardCallback(log_dir=tmp_path / "a" / "tb")])
    theirs = _train(tmp_path / "b", [HFCallback(tb_writer=SummaryWriter(tmp_path / "b" / "tb"))])
    a, b = read(tmp_path / "a" / "tb"), read(tmp_path / "b" / "tb")
    assert set(a.tags["."]) == set(b.tags["."])
    for tag in ("train/loss", "train/grad_norm", "train/learning_rate", "eval/loss"):
        assert _series(a, ".", tag) == _series(b, ".", tag), tag
    assert _series(b, ".", "train/loss") == _as_logged(_history(theirs, "loss"))
    assert _history(ours, "loss") == _history(theirs, "loss")  # the same training


def test_default_and_environment_logdir(tmp_path, monkeypatch):
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    _train(tmp_path / "d", [TensorBoardCallback()])
    runs = read(tmp_path / "d" / "out").runs
    assert len(runs) == 1 and runs[0].startswith("runs/")  # out/runs/<date>_<host>
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "env"))
    _train(tmp_path / "e", [TensorBoardCallback()])
    assert read(tmp_path / "env").runs == ["."]
    assert not os.path.exists(tmp_path / "e" / "out" / "runs")
