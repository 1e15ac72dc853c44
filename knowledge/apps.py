from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        # Subscribe to community events (community never imports knowledge).
        from . import receivers  # noqa: F401
