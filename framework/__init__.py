"""portfolio-lab: declarative research of portfolio trading strategies.

Portfolios are written in YAML, composed and swept with Hydra, and every run is tracked in MLflow.
The components (strategies, aggregators, agents, broker) are plain Python objects that also work alone.
"""

__version__ = "0.1.0"
