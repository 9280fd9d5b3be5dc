"""Reference solution for $id: short and readable, shapes in comments."""


def $entry(x, scale):
    return x * scale   # (...,) in x's dtype
