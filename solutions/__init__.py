"""Reference solutions, one module a problem. Never imported while grading user code."""
