"""뉴랄브리핑 digest: feeds in, a numbered Korean ML newsletter out."""

__version__ = "0.1.0"
