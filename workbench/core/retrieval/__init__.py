"""Retrieval recipes, one module each (bm25, masked, skeleton, dense, same_db), and their registry.

Shared pieces: ``base`` (the retriever interface, ``Scored``), ``text_index`` (BM25 and TF-IDF),
``schema_linking``, and ``embeddings`` (the endpoint the dense recipe reads).
"""
