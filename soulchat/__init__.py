"""The shared core every part of SoulChat stands on, and the one command that reaches them.

The design's top level is one folder per part of the system (``bots/``, ``inference/``,
``safety/``, ``training/``, ``deploy/``). What they all need lives here instead of in any one
of them, so that no part imports another sideways to get it: the typed configuration
(``config.py``), the languages and regions (``locales.py``), the conversation store
(``store/``), text cleaning (``text.py``), URL redaction (``urls.py``), generation parameters
(``generation.py``) and the CLI helpers (``cli_support.py``). ``cli.py`` is the ``soulchat``
command, the one module above every part. ``tests/test_imports.py`` holds these layers.
"""
