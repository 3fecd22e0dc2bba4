"""Counseling dialogues in their real formats, into one normalised form."""
