from tortoise import migrations
from tortoise.migrations import operations as ops
from app.core.ids import uuid7
from app.organizations.models import InvitationStatus, OrganizationRole
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('app', '0004_login_failure_client')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrganizationInvitation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid7, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('app.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(max_length=254)),
                ('role', fields.CharEnumField(description='Offered role', enum_type=OrganizationRole, max_length=16)),
                ('status', fields.CharEnumField(default=InvitationStatus.PENDING, description='Status', enum_type=InvitationStatus, max_length=16)),
                ('invited_by', fields.ForeignKeyField('app.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name='sent_invitations', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'organization_invitations', 'app': 'app', 'indexes': [Index(fields=['email', 'status']), Index(fields=['organization_id', 'status']), Index(fields=['invited_by_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'An offer of a role in an organization, to an email, until it is answered or expires.'},
            bases=['Model'],
        ),
    ]
