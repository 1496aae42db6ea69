"""Load the shipped instruments (assessments/instruments/) from their files."""

from django.db import migrations


def load(apps, schema_editor):
    from assessments.loader import load_instruments

    load_instruments(model=apps.get_model("assessments", "Instrument"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
