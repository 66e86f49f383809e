"""CI configuration: one neutral pipeline model, one renderer per provider."""
