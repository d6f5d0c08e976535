"""Customer churn scoring: the model a data scientist trained, packaged for engineering."""

__version__ = "1.0.0"
