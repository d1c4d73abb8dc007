"""Your own components: strategies, aggregators or agents, referenced from YAML as ``plugins.<module>.<Class>``."""
