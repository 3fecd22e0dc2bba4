"""The Telegram adapter (python-telegram-bot 22): platform I/O around the shared front desk."""
