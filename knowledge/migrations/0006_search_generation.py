"""The PostgreSQL search table's generation, for caching search results per web node; its
sequence exists on PostgreSQL only (the table is unused elsewhere)."""

from django.db import migrations, models

SEQUENCE = "knowledge_search_generation_seq"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
        # A first generation, so an existing index is cached before its next write.
        schema_editor.execute(
            "INSERT INTO knowledge_searchgeneration (id, value) "
            f"VALUES (1, nextval('{SEQUENCE}')) ON CONFLICT (id) DO NOTHING"
        )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0005_article_list_indexes")]

    operations = [
        migrations.CreateModel(
            name="SearchGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_sequence, drop_sequence),
    ]
