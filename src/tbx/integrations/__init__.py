"""tbx inside the training frameworks people run: one module per framework, each imported only
when asked for (``import tbx`` imports none of them, and this package imports nothing).

* :mod:`tbx.integrations.lightning`: ``TbxLogger``, a PyTorch Lightning logger with
  ``TensorBoardLogger``'s arguments and behaviour (``pip install "tbx[lightning]"``).
* :mod:`tbx.integrations.transformers`: ``TensorBoardCallback`` for the Hugging Face
  ``Trainer`` (``pip install "tbx[transformers]"``).
* :mod:`tbx.integrations.keras`: ``TensorBoard``, a Keras 3 callback with the arguments of
  ``keras.callbacks.TensorBoard`` that needs no TensorFlow (``pip install "tbx[keras]"``).
"""
