"""Supervised fine-tuning on counseling dialogues (TRL's SFTTrainer + peft)."""
