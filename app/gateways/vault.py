"""Sealing and opening gateway credentials with the key ring.

The associated data is the gateway's id: a ciphertext copied onto another gateway's row fails to
decrypt instead of lending that gateway someone else's credentials.
"""

from __future__ import annotations

from uuid import UUID

from app.core.crypto import DecryptionError, KeyRing
from app.gateways.credentials import Credentials, credentials_from_bytes, credentials_to_bytes
from app.gateways.models import Gateway

__all__ = ["CredentialVault", "DecryptionError"]


def _associated_data(gateway_id: UUID) -> bytes:
    return b"gateway:" + gateway_id.bytes


class CredentialVault:
    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def seal(self, gateway_id: UUID, credentials: Credentials) -> tuple[bytes, str]:
        """(envelope, key id) for the row's `credentials_ciphertext` and `credentials_key_id`."""
        envelope = self.keyring.encrypt(
            credentials_to_bytes(credentials), associated_data=_associated_data(gateway_id)
        )
        return envelope, self.keyring.active_key_id

    def open(self, gateway: Gateway) -> Credentials:
        """The decrypted credentials; raises DecryptionError when no configured key fits."""
        plaintext = self.keyring.decrypt(
            bytes(gateway.credentials_ciphertext), associated_data=_associated_data(gateway.id)
        )
        return credentials_from_bytes(gateway.type, plaintext)

    def try_open(self, gateway: Gateway) -> Credentials | None:
        try:
            return self.open(gateway)
        except DecryptionError:
            return None
