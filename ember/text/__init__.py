"""ember.text: text data and language models (an ember extra; torch has no such module)."""
