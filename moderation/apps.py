from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # Protocols subscribe to community events (community never imports moderation).
        from .protocols import receivers  # noqa: F401
