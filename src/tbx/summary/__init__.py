"""One module per kind of data, each owning its format both ways.

Every module names its TensorBoard plugin (``PLUGIN_NAME``), builds its ``Summary`` protos
(encode: values -> Summary) and interprets them back (``decode``: Summary.Value -> values). The
writer and the reader import the same module, so a format lives in one place. Pure functions,
no I/O.
"""
