"""``soulchat eval``: generate replies for held-out counseling contexts, score them against
the counselor's own turn (overlap and behaviour metrics, optionally an LLM judge), and compare
several models side by side."""
