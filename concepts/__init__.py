"""The concept deck: standalone cards, one YAML file a topic. Installed as `drillcli.concepts`."""
