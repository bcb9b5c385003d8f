"""Probability distributions (the parts the tutorials use)."""
from ember.distributions.multinomial import Multinomial  # noqa: F401
from ember.distributions.categorical import Categorical  # noqa: F401
