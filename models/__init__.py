"""Data package holding nli-check's shipped default model (see nli-minilm-l6/README.md)."""
