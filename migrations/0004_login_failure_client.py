from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('app', '0003_gateway_status_version')]

    initial = False

    operations = [
        ops.AddField(
            model_name='LoginFailure',
            name='client_key',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddIndex(
            model_name='LoginFailure',
            index=Index(fields=['client_key', 'created_at']),
        ),
    ]
