"""Per-problem grading code: how cases are built (maintainer side, may import torch
inside functions), how the worker drives the entry (`run`, optional), and how the
parent compares outputs (`check`, optional, numpy only). No module here imports torch
at module level: the parent imports them to find `check`.
"""
