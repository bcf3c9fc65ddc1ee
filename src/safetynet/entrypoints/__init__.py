"""Entry points: command line, REST API and web pages. They build commands; nothing is decided here."""
