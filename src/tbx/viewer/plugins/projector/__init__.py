"""The Projector dashboard: embeddings (``projector_config.pbtxt`` and the files it lists) of
every run, projected on the server (PCA over all points, t-SNE, UMAP, custom directions),
searched and drawn on the GPU. Routes: ``http_api.md``."""
