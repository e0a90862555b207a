"""The encryption key ring from the settings, or a generated development key."""

from __future__ import annotations

import logging

from app.config import Settings
from app.core.crypto import KEY_FILE_NAME, KeyRing, load_or_create_key_file, parse_keys
from app.core.private_files import ensure_private_dir, ensure_private_file

log = logging.getLogger("app.keys")


def build_keyring(settings: Settings) -> KeyRing:
    if settings.encryption_keys is not None:
        return KeyRing(parse_keys(settings.encryption_keys.get_secret_value()))
    # Settings already refused production without keys; this is development or test.
    # The file is created 0600 in a 0700 directory; one made looser by hand is tightened.
    ensure_private_dir(settings.data_dir)
    ensure_private_file(settings.data_dir / KEY_FILE_NAME)
    key, created = load_or_create_key_file(settings.data_dir)
    log.warning(
        "keys.development_key.created" if created else "keys.development_key.loaded",
        extra={"key_id": key.key_id, "hint": "set ENCRYPTION_KEYS for real deployments"},
    )
    return KeyRing([key])
