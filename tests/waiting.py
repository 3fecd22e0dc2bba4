"""How the tests wait: for a condition, never for a moment.

CI shares its machine, so a test may run many times slower than on a quiet one. Timeouts
exist only to turn a hang into a failure; they are never what a test measures.
"""

HANG_S = 120.0  # long enough that only a hang reaches it
