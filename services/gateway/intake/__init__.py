"""Needs and answers by SMS and email, for those who cannot reach the web (DESIGN, "Reach when the
web is blocked or cut"): the provider's webhook and the inbound mail are protocols; what a person
writes is a short command (commands.py); what they are told back is a short text in the language
they wrote in."""
