"""TST: placeholder until its checks land."""

from pavedroad.registry import Family

family = Family("TST", "Tests")
