"""The web pages: server-rendered HTML forms for people, over the same services as the API."""
