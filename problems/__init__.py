"""The built-in problems: one folder each, spec.yaml + stub.py. Installed as `drillcli.problems`."""
