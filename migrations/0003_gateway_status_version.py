from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('app', '0002_telegram_inbox_and_health_checks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Gateway',
            name='status_version',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
