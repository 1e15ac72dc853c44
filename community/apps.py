from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        # Every announced thread change makes cached anonymous pages stale; notifications react
        # to events other apps announce (flag outcomes, approvals).
        from . import pagecache  # noqa: F401
        from .notifications import receivers  # noqa: F401
