"""drill: practise the coding round of ML / LLM interviews."""

__version__ = "0.1.0"
