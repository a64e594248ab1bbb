"""Retrieval recipes: BM25, embeddings and the rest, chosen per variant."""
