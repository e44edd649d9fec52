"""The web server's request handlers, one module per thing served (wired in ``bot.web.server``)."""
