"""The Hugging Face Trainer logging with tbx: a tiny BERT built from a config (random weights,
nothing downloaded) learns whether a token sequence contains token 1.

    pip install "tbx[transformers]"
    python examples/transformers_trainer.py      # runs/transformers: train/*, eval/* and the args
    tbx serve runs/transformers
"""

import argparse
import warnings

import numpy as np
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from tbx.integrations.transformers import TensorBoardCallback

VOCAB, LENGTH = 20, 8


class Sequences(torch.utils.data.Dataset):
    """``n`` random sequences of tokens 2..19, half of them with a token 1 put in."""

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.ids = rng.integers(2, VOCAB, size=(n, LENGTH))
        self.labels = np.arange(n) % 2
        self.ids[self.labels == 1, rng.integers(0, LENGTH, size=n)[self.labels == 1]] = 1

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": torch.tensor(self.ids[i]), "labels": torch.tensor(self.labels[i])}


def accuracy(pred):
    return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", default="runs/transformers", help="default runs/transformers")
    parser.add_argument("--epochs", type=float, default=8, help="default 8")
    parser.add_argument("--examples", type=int, default=512, help="training examples (512)")
    args = parser.parse_args(argv)

    config = BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=LENGTH, num_labels=2)
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)  # random weights: nothing is downloaded
    training = TrainingArguments(
        output_dir=f"{args.logdir}/checkpoints", num_train_epochs=args.epochs,
        per_device_train_batch_size=32, learning_rate=1e-3, logging_steps=4,
        eval_strategy="epoch", save_strategy="no", report_to="none", use_cpu=True,
        disable_tqdm=True, seed=0,
    )
    trainer = Trainer(
        model=model, args=training, train_dataset=Sequences(args.examples, seed=1),
        eval_dataset=Sequences(128, seed=2), compute_metrics=accuracy,
        callbacks=[TensorBoardCallback(log_dir=args.logdir)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.train()
    final = [h for h in trainer.state.log_history if "eval_accuracy" in h][-1]
    print(f"eval_accuracy {final['eval_accuracy']:.4f} at step {final['step']}; "
          f"view it with: tbx serve {args.logdir}")


if __name__ == "__main__":
    main()
