"""pg_trgm for "did you mean" on PostgreSQL (a no-op elsewhere)."""

from django.db import migrations, transaction


def create_trigram_index(apps, schema_editor):
    """pg_trgm powers "did you mean" on PostgreSQL. Optional: where the extension is missing or
    the role may not create it, the backend's suggest() returns nothing instead."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - lacking privileges is a supported setup
            return
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS search_term_word_trgm "
            "ON knowledge_searchterm USING gin (word gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_term_word_trgm")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index)]
