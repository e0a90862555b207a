from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.core.ids import uuid7
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('app', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TelegramUpdate',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('gateway', fields.ForeignKeyField('app.Gateway', source_field='gateway_id', db_constraint=True, to_field='id', related_name='telegram_updates', on_delete=OnDelete.CASCADE)),
                ('update_id', fields.BigIntField()),
                ('update_type', fields.CharField(max_length=32)),
                ('chat_id', fields.BigIntField(null=True)),
                ('from_user_id', fields.BigIntField(null=True)),
                ('text', fields.TextField(null=True, unique=False)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'telegram_updates', 'app': 'app', 'unique_together': (('gateway', 'update_id'),), 'indexes': [Index(fields=['gateway_id', 'received_at']), Index(fields=['received_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Gateway',
            name='health_checked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
