"""The language an assessment is given in, and the instruments' translations (loaded from
their `translation-<language>.json` files: words only, so versions in use take them too)."""

from django.db import migrations, models


def load(apps, schema_editor):
    from assessments.loader import load_instruments

    load_instruments(model=apps.get_model("assessments", "Instrument"))


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_load_instruments"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="language",
            field=models.CharField(default="en", max_length=10),
        ),
        migrations.AddField(
            model_name="instrument",
            name="translations",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
