"""Fine-tuning the embedded model on the CPU: training in its own process, GGUF export, serving.

Needs the optional `finetune-local` extra (torch, transformers, peft, gguf); nothing here is
imported by the app unless that backend is used.
"""
