"""Re-encrypting gateway credentials with the active key (`python -m app rotate-keys`).

Batched and idempotent: only rows whose key id differs from the active one are touched, and each
row is updated only if it still holds the ciphertext that was read, so a concurrent credential
update is never overwritten with older credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.core.crypto import DecryptionError
from app.gateways.models import Gateway
from app.gateways.vault import CredentialVault

BATCH_SIZE = 200


@dataclass(slots=True)
class RotationReport:
    total: int = 0
    rotated: int = 0
    undecryptable: int = 0
    skipped_concurrent: int = 0

    @property
    def remaining(self) -> int:
        """Rows still under a key other than the active one after this run."""
        return self.total - self.rotated


async def rotate_keys(
    vault: CredentialVault,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    active = vault.keyring.active_key_id
    report = RotationReport(total=await Gateway.exclude(credentials_key_id=active).count())
    if dry_run or report.total == 0:
        return report
    last_id = None
    while True:
        query = Gateway.exclude(credentials_key_id=active).order_by("id").limit(batch_size)
        if last_id is not None:
            query = query.filter(id__gt=last_id)
        batch = await query
        if not batch:
            return report
        for gateway in batch:
            last_id = gateway.id
            try:
                credentials = vault.open(gateway)
            except DecryptionError:
                report.undecryptable += 1
                continue
            ciphertext, key_id = vault.seal(gateway.id, credentials)
            updated = await Gateway.filter(
                id=gateway.id, credentials_ciphertext=gateway.credentials_ciphertext
            ).update(credentials_ciphertext=ciphertext, credentials_key_id=key_id)
            if updated:
                report.rotated += 1
            else:
                report.skipped_concurrent += 1
        if progress is not None:
            progress(report)
