"""CRM exports: reading them, calibrating a scenario, back-testing it."""
