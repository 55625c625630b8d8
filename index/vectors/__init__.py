"""Turning text into vectors: the embedder and its backends (`embed`, its settings in
`embedder_settings`, the backend chosen by measuring in `bulk_calibration`, Ray in
`ray_embedding`), what is embedded for a passage or a sentence (`embedding_inputs`), and the
vectors a write needs (`embedding_jobs`).
"""
