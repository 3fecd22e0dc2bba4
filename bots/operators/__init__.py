"""Human operators for crises: cases, alerts, claiming a conversation, relaying, resolving."""
