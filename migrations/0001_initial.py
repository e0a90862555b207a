from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from app.core.ids import uuid7
from app.gateways.enums import GatewayStatus, GatewayType
from app.organizations.models import OrganizationRole
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='LoginFailure',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('email', fields.CharField(max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_failures', 'app': 'app', 'indexes': [Index(fields=['email', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One failed login, kept in the database so throttling holds across server processes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organizations', 'app': 'app', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(max_length=100)),
                ('password_hash', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'app', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('actor', fields.ForeignKeyField('app.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('organization_id', fields.UUIDField(null=True)),
                ('scope_user_id', fields.UUIDField(null=True)),
                ('gateway_id', fields.UUIDField(null=True)),
                ('action', fields.CharField(max_length=64)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ip_address', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=512)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_events', 'app': 'app', 'indexes': [Index(fields=['organization_id', 'created_at']), Index(fields=['scope_user_id', 'created_at']), Index(fields=['gateway_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('app.User', source_field='user_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'auth_tokens', 'app': 'app', 'pk_attr': 'id', 'table_description': 'A bearer token. Only the SHA-256 of the token is stored, so a leaked table is useless.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Gateway',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('app.User', source_field='owner_id', db_index=True, db_constraint=True, to_field='id', related_name='gateways', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('app.Organization', source_field='organization_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='gateways', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('type', fields.CharEnumField(db_index=True, description='Gateway type', enum_type=GatewayType, max_length=16)),
                ('status', fields.CharEnumField(default=GatewayStatus.DISCONNECTED, db_index=True, description='Gateway status', enum_type=GatewayStatus, max_length=16)),
                ('credentials_ciphertext', fields.BinaryField()),
                ('credentials_key_id', fields.CharField(max_length=32)),
                ('config', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('webhook_secret_hash', fields.CharField(null=True, max_length=64)),
                ('last_connected_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'gateways', 'app': 'app', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('app.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('app.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='Organization role', enum_type=OrganizationRole, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'memberships', 'app': 'app', 'unique_together': (('user', 'organization'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
