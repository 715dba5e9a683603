"""Request and response models. Never ORM classes."""
