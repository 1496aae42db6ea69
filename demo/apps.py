from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo network and its commands (`seed_demo`, `demo_totp`). A face: it may import
    every app, and no app imports it (only the tests do)."""

    name = "demo"
    verbose_name = "Demo network"
