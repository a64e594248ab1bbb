"""Datasets and their files: questions, schemas, the one reader of input files."""
