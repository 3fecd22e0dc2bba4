"""Fine-tuning on counseling dialogues: loaders, SFT, evaluation, export (next milestone)."""
