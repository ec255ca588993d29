"""The scenario: its schema, loading, variants, field reference and size budget."""
