"""Talking to the client: contact preferences, SMS and email messages in the client's
language, replies (STOP/HELP/START, and the client's own report), the delivery log."""
