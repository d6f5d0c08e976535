"""OWN: placeholder until its checks land."""

from pavedroad.registry import Family

family = Family("OWN", "Ownership")
